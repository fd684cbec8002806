"""Writes on funding sources and allocations.

Locks are always taken in the order of `funds/locks.py` (source → allocation → disbursement →
case), so two transactions touching the same money queue behind each other instead of
deadlocking. The checks
below give the client a clear message; the check constraints in `funds/models.py` are what
make overspending impossible even if a check here were wrong.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from audit import writes
from cases.models import ENDED_STATUSES, Case
from common.exceptions import InvariantViolation
from common.money import money_text
from funds.locks import lock_case, lock_source
from funds.models import Allocation, FundingSource

SOURCE_FIELDS = frozenset(
    {
        "name",
        "kind",
        "donor_reference",
        "currency",
        "amount_received",
        "received_on",
        "restricted_to",
        "valid_from",
        "valid_until",
        "notes",
    }
)


def check_window(source: FundingSource, on: datetime.date) -> None:
    if source.valid_from and on < source.valid_from:
        raise InvariantViolation(
            _("This source can be used from %(date)s only.") % {"date": source.valid_from}
        )
    if source.valid_until and on > source.valid_until:
        raise InvariantViolation(
            _("This source could be used until %(date)s only.") % {"date": source.valid_until}
        )


@writes.atomic
def source_create(*, created_by: User, **fields: Any) -> FundingSource:
    unknown = set(fields) - SOURCE_FIELDS
    if unknown:
        raise TypeError(f"Not source fields: {sorted(unknown)}")
    fields["restricted_to"] = sorted(set(fields.get("restricted_to") or []))
    return FundingSource.objects.create(created_by=created_by, **fields)


@writes.atomic
def source_update(*, source: FundingSource, **fields: Any) -> FundingSource:
    unknown = set(fields) - SOURCE_FIELDS
    if unknown:
        raise TypeError(f"Not source fields: {sorted(unknown)}")
    source = lock_source(source)
    has_allocations = source.allocations.exists()
    if "currency" in fields and fields["currency"] != source.currency and has_allocations:
        raise InvariantViolation(_("A source's currency cannot change once money is allocated."))
    received = fields.get("amount_received", source.amount_received)
    if received < source.allocated:
        raise InvariantViolation(
            _("%(allocated)s of this source is allocated; what it received cannot be less.")
            % {"allocated": money_text(source.allocated, source.currency)}
        )
    if "restricted_to" in fields:
        fields["restricted_to"] = sorted(set(fields["restricted_to"] or []))
        if fields["restricted_to"]:
            outside = sorted(
                set(
                    source.allocations.exclude(category__in=fields["restricted_to"]).values_list(
                        "category", flat=True
                    )
                )
            )
            if outside:
                raise InvariantViolation(
                    _("This source already funds categories the restriction would exclude: %(c)s.")
                    % {"c": ", ".join(outside)}
                )
    for name, value in fields.items():
        setattr(source, name, value)
    source.save()
    return source


@writes.atomic
def allocation_create(
    *, source: FundingSource, case: Case, category: str, amount: Decimal, created_by: User
) -> Allocation:
    source = lock_source(source)
    case = lock_case(case.pk)
    if case.status in ENDED_STATUSES:
        raise InvariantViolation(
            _("Case %(reference)s is %(status)s; it takes no new money.")
            % {"reference": case.reference, "status": case.status}
        )
    if source.restricted_to and category not in source.restricted_to:
        raise InvariantViolation(
            _("This source is restricted to %(categories)s; it cannot fund %(category)s.")
            % {"categories": ", ".join(source.restricted_to), "category": category}
        )
    check_window(source, timezone.localdate())
    if amount > source.remaining:
        raise InvariantViolation(
            _("This source has %(left)s left to allocate; %(asked)s was asked for.")
            % {
                "left": money_text(source.remaining, source.currency),
                "asked": money_text(amount, source.currency),
            }
        )
    source.allocated += amount
    source.save(update_fields=["allocated", "updated_at"])
    return Allocation.objects.create(
        source=source, case=case, category=category, amount=amount, created_by=created_by
    )


@writes.atomic
def allocation_close(*, allocation: Allocation, actor: User) -> Allocation:
    """Close the allocation and give what it did not spend back to its source."""
    source = lock_source(allocation.source)
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.status == Allocation.Status.CLOSED:
        raise InvariantViolation(_("This allocation is closed already."))
    if allocation.reserved:
        outstanding = allocation.disbursements.filter(status__in=["requested", "approved"]).count()
        raise InvariantViolation(
            ngettext(
                "%(count)d request on this allocation is still open; pay, reject or cancel it "
                "before closing the allocation.",
                "%(count)d requests on this allocation are still open; pay, reject or cancel "
                "them before closing the allocation.",
                outstanding,
            )
            % {"count": outstanding}
        )
    released = allocation.amount - allocation.spent
    allocation.released = released
    allocation.status = Allocation.Status.CLOSED
    allocation.closed_by = actor
    allocation.closed_at = timezone.now()
    allocation.save()
    source.allocated -= released
    source.save(update_fields=["allocated", "updated_at"])
    allocation.source = source
    return allocation
