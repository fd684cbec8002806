"""Which reference rate a request's exchange rate is checked against, and how it fares.

A request paid in currency P from a source in currency S names `exchange_rate`: units of S per
unit of P. Its reference is the latest usable rate for P → S among

- a recorded rate P → S (imported from the ECB, or entered by a coordinator);
- the inverse of a recorded rate S → P (1 / rate);
- a cross rate through the euro from the ECB's figures of one day: (EUR → S) / (EUR → P).

Usable means dated no more than `FUNDS_RATE_MAX_AGE_DAYS` before the day of the check and not
after it, and not recorded by the requester (for a derived rate: none of the rates it comes
from). The latest date wins; on the same date the ECB's figures (and what is derived from them)
win over a hand-entered rate, then a direct rate over an inverse over a cross one, then the
rate recorded last.

The check (design.md, Funds): `ok` when |rate / reference - 1| is at most
`FUNDS_RATE_TOLERANCE_PERCENT` percent (exactly the tolerance is ok), `outside_tolerance` beyond
it (two approvers), refused (400 on `exchange_rate`) when the rate is more than
`FUNDS_RATE_REFUSE_FACTOR` times off either way. All of it in exact decimal arithmetic.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from common.exceptions import InvalidInput, InvariantViolation
from common.money import RATE_PLACES
from funds.models import RateCheck, ReferenceRate

EURO = "EUR"
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
_DIRECT, _INVERSE, _CROSS = 0, 1, 2


@dataclass(frozen=True)
class Reference:
    """A reference for one pair on one date: `rate` units of the source's currency per unit
    paid (rounded to the rate columns' 10 places), where it came from, and which rows."""

    rate: Decimal
    rate_date: datetime.date
    source: str
    rate_ids: tuple[str, ...]
    recorder_ids: frozenset  # who entered the rows it comes from (none for ECB imports)


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(_RATE_QUANTUM, rounding=ROUND_HALF_EVEN)


def _divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    with localcontext(prec=50):
        return _rounded(numerator / denominator)


def _candidate(rows: list[ReferenceRate], kind: int, rate: Decimal, source: str) -> tuple:
    """A sort key (best first) and the reference itself."""
    ecb = all(row.origin == ReferenceRate.Origin.ECB for row in rows)
    latest = max(row.recorded_at for row in rows)
    reference = Reference(
        rate=rate,
        rate_date=rows[0].rate_date,
        source=source,
        rate_ids=tuple(str(row.pk) for row in rows),
        recorder_ids=frozenset(row.recorded_by_id for row in rows if row.recorded_by_id),
    )
    key = (-rows[0].rate_date.toordinal(), 0 if ecb else 1, kind, -latest.timestamp())
    return key, reference


def _describe(row: ReferenceRate) -> str:
    return (
        f"{row.from_currency}/{row.to_currency} {row.rate} of {row.rate_date} ({row.rate_source})"
    )


def reference_for(
    *, paid_currency: str, source_currency: str, on: datetime.date, requester: User
) -> Reference | None:
    """The reference for a request by `requester` checked on `on`, or None if there is none."""
    oldest = on - datetime.timedelta(days=settings.FUNDS_RATE_MAX_AGE_DAYS)
    pair = Q(from_currency=paid_currency, to_currency=source_currency) | Q(
        from_currency=source_currency, to_currency=paid_currency
    )
    crossing = EURO not in (paid_currency, source_currency)
    if crossing:
        pair |= Q(
            origin=ReferenceRate.Origin.ECB,
            from_currency=EURO,
            to_currency__in=[paid_currency, source_currency],
        )
    rows = list(
        ReferenceRate.objects.filter(pair, rate_date__gte=oldest, rate_date__lte=on).exclude(
            recorded_by=requester
        )
    )
    candidates = []
    euro_figures: dict[datetime.date, dict[str, ReferenceRate]] = defaultdict(dict)
    for row in rows:
        if (row.from_currency, row.to_currency) == (paid_currency, source_currency):
            candidates.append(_candidate([row], _DIRECT, _rounded(row.rate), row.rate_source))
        elif (row.from_currency, row.to_currency) == (source_currency, paid_currency):
            candidates.append(
                _candidate([row], _INVERSE, _divide(Decimal(1), row.rate), f"1 / {_describe(row)}")
            )
        else:  # an ECB euro figure, for a cross rate
            euro_figures[row.rate_date][row.to_currency] = row
    if crossing:
        for figures in euro_figures.values():
            paid, source = figures.get(paid_currency), figures.get(source_currency)
            if paid and source:
                description = f"{_describe(source)} / {_describe(paid)}"
                candidates.append(
                    _candidate([source, paid], _CROSS, _divide(source.rate, paid.rate), description)
                )
    usable = sorted(
        (candidate for candidate in candidates if candidate[1].rate > 0), key=lambda c: c[0]
    )
    return usable[0][1] if usable else None


def require_reference(
    *, paid_currency: str, source_currency: str, on: datetime.date, requester: User
) -> Reference:
    """`reference_for`, or a 409 saying to record one first."""
    reference = reference_for(
        paid_currency=paid_currency, source_currency=source_currency, on=on, requester=requester
    )
    if reference is None:
        raise InvariantViolation(
            _(
                "There is no reference rate for %(paid)s to %(source)s dated from %(oldest)s to "
                "%(day)s and recorded by someone other than you: record a reference rate first."
            )
            % {
                "paid": paid_currency,
                "source": source_currency,
                "oldest": on - datetime.timedelta(days=settings.FUNDS_RATE_MAX_AGE_DAYS),
                "day": on,
            },
            extra={"rule": "reference_rate_required"},
        )
    return reference


def rate_check(rate: Decimal, reference: Reference) -> str:
    """`ok` or `outside_tolerance`; raises a 400 on `exchange_rate` when the rate is more than
    `FUNDS_RATE_REFUSE_FACTOR` times off the reference either way."""
    factor = settings.FUNDS_RATE_REFUSE_FACTOR
    tolerance = settings.FUNDS_RATE_TOLERANCE_PERCENT
    with localcontext(prec=60):  # every product below is exact: no rounding at the edges
        if rate > reference.rate * factor or rate * factor < reference.rate:
            raise InvalidInput(
                _(
                    "This rate is more than %(factor)s times off the reference rate "
                    "(%(reference)s of %(date)s); check the rate and the currencies."
                )
                % {
                    "factor": factor,
                    "reference": format(reference.rate.normalize(), "f"),
                    "date": reference.rate_date,
                },
                field="exchange_rate",
            )
        within = abs(rate - reference.rate) * 100 <= reference.rate * tolerance
    return RateCheck.OK if within else RateCheck.OUTSIDE_TOLERANCE
