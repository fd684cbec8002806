"""Where the money went: the summary report and a source's donor view. No personal data.

Every figure is in a source's currency and rows are per currency: amounts in different
currencies are never added together. Each amount counts on its own date: a source on the day it
was received, an allocation on the day it was made (net of what it released when it closed), a
disbursement on the day it reached its current status (requested, approved or paid; rejected and
cancelled ones count nowhere). The date range and `group_by=month` use those dates.

- `remaining`: allocated - requested - approved - paid, what allocations still hold for new
  requests;
- `paid_rate_not_ok`: the part of `paid` paid in another currency on an exchange rate that was
  not `ok` against its reference (outside the tolerance, or requested before rates were
  checked): what an auditor looks at first;
- `unallocated` (grouped by source only): received - allocated.

Each measure is one aggregate query (grouped in the database), so the report costs the same few
queries at any size.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case as Choose
from django.db.models import Count, F, Q, Sum, When
from django.db.models.functions import TruncMonth

from common.money import format_amount
from funds.models import Allocation, Disbursement, FundingSource, RateCheck

GROUPINGS = ("source", "category", "case", "month")
MEASURES = (
    "received",
    "allocated",
    "requested",
    "approved",
    "paid",
    "paid_rate_not_ok",
    "remaining",
    "unallocated",
)
_ADDED_UP = MEASURES[:6]
ZERO = Decimal(0)


@dataclass(frozen=True)
class Period:
    start: datetime.date | None = None
    end: datetime.date | None = None  # inclusive

    def q(self, field: str) -> Q:
        condition = Q()
        if self.start:
            condition &= Q(**{f"{field}__gte": self._moment(self.start)})
        if self.end and self.end < datetime.date.max:  # the last day has no day after it
            condition &= Q(**{f"{field}__lt": self._moment(self.end + datetime.timedelta(days=1))})
        return condition

    def q_date(self, field: str) -> Q:
        condition = Q()
        if self.start:
            condition &= Q(**{f"{field}__gte": self.start})
        if self.end:
            condition &= Q(**{f"{field}__lte": self.end})
        return condition

    @staticmethod
    def _moment(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


# What each grouping means for each kind of row. Received money has no category or case.
_SOURCE_KEYS = {"source": "id", "month": TruncMonth("received_on")}
_ALLOCATION_KEYS = {
    "source": "source_id",
    "category": "category",
    "case": "case__reference",
    "month": TruncMonth("created_at", tzinfo=datetime.UTC),
}
_EVENT_AT = Choose(
    When(status="paid", then=F("paid_at")),
    When(status="approved", then=F("approved_at")),
    default=F("requested_at"),
)
_DISBURSEMENT_KEYS = {
    "source": "allocation__source_id",
    "category": "allocation__category",
    "case": "allocation__case__reference",
    "month": TruncMonth("event_at", tzinfo=datetime.UTC),
}


def _label(group_by: str, key: Any) -> str:
    if group_by == "month":
        return key.strftime("%Y-%m")
    return str(key)


def summary(*, group_by: str, period: Period = Period()) -> list[dict[str, Any]]:
    """One row per group and currency, ordered by group then currency."""
    totals: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(_ADDED_UP, ZERO)
    )

    def add(rows: Iterable[dict], measure: str) -> None:
        for row in rows:
            totals[(_label(group_by, row["key"]), row["cur"])][measure] += row["total"] or ZERO

    if group_by in _SOURCE_KEYS:
        add(
            FundingSource.objects.filter(period.q_date("received_on"))
            .values(key=_key(_SOURCE_KEYS[group_by]), cur=F("currency"))
            .annotate(total=Sum("amount_received"))
            .order_by(),
            "received",
        )
    add(
        Allocation.objects.filter(period.q("created_at"))
        .values(key=_key(_ALLOCATION_KEYS[group_by]), cur=F("source__currency"))
        .annotate(total=Sum(F("amount") - F("released")))
        .order_by(),
        "allocated",
    )
    disbursements = (
        Disbursement.objects.filter(status__in=["requested", "approved", "paid"])
        .annotate(event_at=_EVENT_AT)
        .filter(period.q("event_at"))
    )
    by_status = (
        disbursements.values(
            "status", key=_key(_DISBURSEMENT_KEYS[group_by]), cur=F("source_currency")
        )
        .annotate(total=Sum("amount_in_source_currency"))
        .order_by()
    )
    for row in by_status:
        add([row], row["status"])
    add(
        disbursements.filter(status="paid")
        .exclude(currency=F("source_currency"))
        .exclude(rate_check=RateCheck.OK)
        .values(key=_key(_DISBURSEMENT_KEYS[group_by]), cur=F("source_currency"))
        .annotate(total=Sum("amount_in_source_currency"))
        .order_by(),
        "paid_rate_not_ok",
    )

    names = _source_names(totals) if group_by == "source" else {}
    result = []
    for (group, currency), measures in sorted(totals.items(), key=lambda item: item[0]):
        committed = measures["requested"] + measures["approved"] + measures["paid"]
        figures = {**measures, "remaining": measures["allocated"] - committed}
        if group_by == "source":
            figures["unallocated"] = measures["received"] - measures["allocated"]
        row: dict[str, Any] = {group_by: group}
        if group_by == "source":
            row["source_name"] = names.get(group, "")
        row["currency"] = currency
        for measure in MEASURES:
            if measure in figures and (measure != "received" or group_by in _SOURCE_KEYS):
                row[measure] = format_amount(figures[measure], currency)
        result.append(row)
    return result


def _key(key: Any) -> Any:
    return F(key) if isinstance(key, str) else key


def _source_names(totals: dict) -> dict[str, str]:
    ids = {group for group, _currency in totals}
    rows = FundingSource.objects.filter(pk__in=ids).values_list("id", "name")
    return {str(pk): name for pk, name in rows}


def transparency(source: FundingSource) -> dict[str, Any]:
    """What a donor may see of one source: totals per category and how many cases they
    reached. No case, person or payee appears, not even a reference."""
    currency = source.currency
    allocations = (
        Allocation.objects.filter(source=source)
        .values("category")
        .annotate(
            allocated=Sum(F("amount") - F("released")),
            reserved=Sum("reserved"),
            paid=Sum("spent"),
            cases=Count("case", distinct=True),
        )
        .order_by("category")
    )
    categories = [
        {
            "category": row["category"],
            "allocated": format_amount(row["allocated"], currency),
            "reserved": format_amount(row["reserved"], currency),
            "paid": format_amount(row["paid"], currency),
            "cases": row["cases"],
        }
        for row in allocations
    ]
    cases = Allocation.objects.filter(source=source).values("case").distinct().count()
    paid = sum((Decimal(row["paid"]) for row in categories), ZERO)
    return {
        "source": {
            "id": str(source.pk),
            "name": source.name,
            "kind": source.kind,
            "currency": currency,
            "received": format_amount(source.amount_received, currency),
            "received_on": source.received_on.isoformat(),
            "restricted_to": source.restricted_to,
        },
        "categories": categories,
        "totals": {
            "allocated": format_amount(source.allocated, currency),
            "paid": format_amount(paid, currency),
            "unallocated": format_amount(source.remaining, currency),
            "cases": cases,
        },
    }
