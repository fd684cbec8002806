"""Money: a Decimal and an ISO 4217 code, never a float. One home for every app that holds an
amount (sources, allocations, disbursements, a need's estimated cost).

Currencies are those legal tender somewhere today, with each one's number of minor digits,
both from the Unicode CLDR data shipped with Babel (what django-money and py-moneyed use).
Amounts travel as decimal strings ("1500.00"): a JSON number is refused, because a client that
sends one has already been through a float.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Large enough for any grant this programme will see, small enough that an absurd amount (a
# typo, an attack on the sums) is refused rather than stored. Exclusive.
MAX_AMOUNT = Decimal("1000000000000")
# Columns hold any currency: up to 13 integer digits and 4 minor digits (CLF, UYW).
AMOUNT_DIGITS = 17
AMOUNT_PLACES = 4
RATE_DIGITS = 20
RATE_PLACES = 10
MAX_RATE = Decimal("1000000000")

# Matched whole (`fullmatch`: `$` would let a trailing newline through).
_AMOUNT_TEXT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,20})?")
_CURRENCY_TEXT = re.compile(r"[A-Z]{3}")


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    """ISO 4217 codes that are legal tender in at least one territory today."""
    today = datetime.date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=today, tender=True))
    return frozenset(codes)


def is_currency(code: Any) -> bool:
    return isinstance(code, str) and bool(_CURRENCY_TEXT.fullmatch(code)) and code in currencies()


def precision(currency: str) -> int:
    """How many minor digits `currency` has (EUR 2, JPY 0, KWD 3)."""
    return get_currency_precision(currency)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-precision(currency))


def to_currency(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded to `currency`'s minor unit (banker's rounding, as accountants do)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def money_text(amount: Decimal, currency: str) -> str:
    """For messages: `"1500.00 EUR"`."""
    return f"{format_amount(amount, currency)} {currency}"


def parse_amount(text: Any, currency: str | None) -> Decimal:
    """A positive amount written as a decimal string within `currency`'s precision.

    Raises `ValueError` with a message fit for the client (the value itself is not repeated).
    """
    if not isinstance(text, str):
        raise ValueError(_('Write the amount as a decimal string, e.g. "1500.00".'))
    if not _AMOUNT_TEXT.fullmatch(text):
        raise ValueError(_('Write the amount as digits and an optional point, e.g. "1500.00".'))
    amount = Decimal(text)
    if amount <= 0:
        raise ValueError(_("The amount must be more than zero."))
    if amount >= MAX_AMOUNT:
        raise ValueError(
            _("The amount must be less than %(maximum)s.") % {"maximum": f"{MAX_AMOUNT:,}"}
        )
    if currency is not None and amount != amount.quantize(quantum(currency)):
        raise ValueError(
            _("%(currency)s amounts have at most %(places)s decimal places.")
            % {"currency": currency, "places": precision(currency)}
        )
    return amount


def parse_rate(text: Any) -> Decimal:
    """An exchange rate (units of the source's currency per unit paid) as a decimal string."""
    if not isinstance(text, str) or not _AMOUNT_TEXT.fullmatch(text):
        raise ValueError(_('Write the rate as a decimal string, e.g. "0.0102".'))
    try:
        rate = Decimal(text)
        exact = rate == rate.quantize(Decimal(1).scaleb(-RATE_PLACES))
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValueError(
            _("A rate has at most %(places)s decimal places.") % {"places": RATE_PLACES}
        )
    if rate <= 0 or rate >= MAX_RATE:
        raise ValueError(_("The rate must be more than zero and less than a billion."))
    return rate


def format_amount(amount: Decimal, currency: str) -> str:
    """The amount as the API shows it: a string with exactly the currency's minor digits."""
    return str(to_currency(amount, currency))


class CurrencyField(serializers.CharField):
    default_error_messages = {
        "invalid": gettext_lazy("Use the ISO 4217 code of a current currency, e.g. EUR.")
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=3, min_length=3, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not is_currency(data):
            self.fail("invalid")
        return data


# What `parse_amount` and `parse_rate` take (`_AMOUNT_TEXT`) and what the API writes.
DECIMAL_STRING = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^[0-9]{1,13}(\.[0-9]{1,20})?$",
    "example": "1500.00",
}


@extend_schema_field(DECIMAL_STRING)
class AmountField(serializers.Field):
    """A positive decimal string (see `parse_amount`). Its currency's precision is checked by
    the serializer's `validate` (`check_precision`), where the currency is known."""

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_amount(data, None)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Decimal) -> str:
        return str(value)


@extend_schema_field(DECIMAL_STRING)
class MoneyField(AmountField):
    """An amount shown with exactly its currency's minor digits ("1500.00", "1500" in JPY).

    `currency_of(instance)` names the currency of the record being shown (None: no amount).
    Read-only unless `read_only=False` is passed, when it takes input like `AmountField`."""

    def __init__(self, currency_of: Callable[[Any], str | None], **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)
        self.currency_of = currency_of

    def get_attribute(self, instance: Any) -> Any:
        return (super().get_attribute(instance), self.currency_of(instance))

    def to_representation(self, value: tuple[Decimal | None, str | None]) -> str | None:
        amount, currency = value
        if amount is None:
            return None
        return format_amount(amount, currency) if currency else str(amount)


@extend_schema_field({**DECIMAL_STRING, "example": "0.0102"})
class RateField(serializers.Field):
    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_rate(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Decimal) -> str:
        return format(value.normalize(), "f")  # 0.0102, never 1.02E-2 or 0.0102000000


def check_precision(amount: Decimal | None, currency: str | None, field: str) -> None:
    """Refuse (400, on `field`) an amount finer than its currency's minor unit."""
    if amount is None or currency is None:
        return
    try:
        parse_amount(str(amount), currency)
    except ValueError as exc:
        raise serializers.ValidationError({field: [str(exc)]}) from None
