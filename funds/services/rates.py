"""Writes on reference exchange rates: a coordinator records one, or the ECB's file is imported.

Rates are append-only (the model and database triggers refuse edits and deletions) and audited
(each one is a create entry in the log). A rate's date may not be later than the day it is
recorded: a rate "for next week" is a guess, not a reference.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.exceptions import InvalidInput
from common.money import is_currency
from funds.ecb import EcbFigure
from funds.models import ReferenceRate

ECB_SOURCE = "ECB euro foreign exchange reference rates"


def check_rate_date(rate_date: datetime.date) -> None:
    today = timezone.localdate()
    if rate_date > today:
        raise InvalidInput(
            _("A rate cannot be dated after the day it is recorded (%(today)s).")
            % {"today": today},
            field="rate_date",
        )


@transaction.atomic
def reference_rate_record(
    *,
    recorded_by: User,
    from_currency: str,
    to_currency: str,
    rate: Decimal,
    rate_date: datetime.date,
    rate_source: str,
) -> ReferenceRate:
    """A coordinator's reference: `rate` units of `to_currency` per unit of `from_currency`."""
    check_rate_date(rate_date)
    if from_currency == to_currency:
        raise InvalidInput(_("A rate is between two different currencies."), field="to_currency")
    return ReferenceRate.objects.create(
        from_currency=from_currency,
        to_currency=to_currency,
        rate=rate,
        rate_date=rate_date,
        rate_source=rate_source,
        origin=ReferenceRate.Origin.MANUAL,
        recorded_by=recorded_by,
    )


class ImportConflict(ValueError):
    """The file gives another figure for a pair and day already imported (the ECB does not
    revise its figures: the file is not what it claims, or not the one imported before)."""


@dataclass
class ImportResult:
    created: int = 0
    present: int = 0  # already imported with the same figure: a re-import adds nothing
    not_current: set[str] = field(default_factory=set)  # codes no longer legal tender: skipped


def ecb_rates_import(*, figures: list[EcbFigure], rate_source: str = ECB_SOURCE) -> ImportResult:
    """Import the ECB's EUR → currency figures, one transaction per day (the audit chain is not
    held for the whole file; an interrupted import is finished by running it again).

    Raises `InvalidInput` for a figure dated after today and `ImportConflict` for a figure that
    differs from one imported before; both before anything is written."""
    result = ImportResult()
    usable = []
    for figure in figures:
        if not is_currency(figure.currency):
            result.not_current.add(figure.currency)
        elif figure.currency != "EUR":
            check_rate_date(figure.rate_date)
            usable.append(figure)
    by_day: dict[datetime.date, list[EcbFigure]] = {}
    for figure in usable:
        by_day.setdefault(figure.rate_date, []).append(figure)
    known = {
        (row.to_currency, row.rate_date): row.rate
        for row in ReferenceRate.objects.filter(
            origin=ReferenceRate.Origin.ECB, rate_date__in=list(by_day)
        )
    }
    seen = dict(known)
    for figure in usable:
        key = (figure.currency, figure.rate_date)
        earlier = seen.setdefault(key, figure.rate)
        if earlier != figure.rate:
            raise ImportConflict(
                f"EUR/{figure.currency} of {figure.rate_date} is both {earlier} and "
                f"{figure.rate} (in this file or an earlier import). Nothing was imported."
            )
    for day in sorted(by_day):
        with transaction.atomic():
            for figure in by_day[day]:
                if (figure.currency, day) in known:
                    result.present += 1
                    continue
                ReferenceRate.objects.create(
                    from_currency="EUR",
                    to_currency=figure.currency,
                    rate=figure.rate,
                    rate_date=day,
                    rate_source=rate_source,
                    origin=ReferenceRate.Origin.ECB,
                    recorded_by=None,
                )
                known[(figure.currency, day)] = figure.rate
                result.created += 1
    return result
