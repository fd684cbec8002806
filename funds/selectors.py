"""Which money records a staff member may see or act on: the only place they are narrowed.

Coordinators and auditors read every source, allocation and disbursement; a caseworker reads
the sources (no personal data) and the allocations and disbursements of the cases assigned to
them, read from the assignment rows at every request. Acting is narrower than reading: an
auditor's role never lets them move money, whatever other role they also hold.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from accounts.roles import Role
from funds.models import Allocation, Disbursement, FundingSource, ReferenceRate


def sources_visible_to(user: User) -> QuerySet[FundingSource]:
    sources = FundingSource.objects.all()
    if user.has_role(Role.COORDINATOR, Role.AUDITOR, Role.CASEWORKER):
        return sources
    return sources.none()


def reference_rates_visible_to(user: User) -> QuerySet[ReferenceRate]:
    """Reference rates hold no personal data: every money role reads every one."""
    rates = ReferenceRate.objects.select_related("recorded_by")
    if user.has_role(Role.COORDINATOR, Role.AUDITOR, Role.CASEWORKER):
        return rates
    return rates.none()


def allocations_visible_to(user: User) -> QuerySet[Allocation]:
    allocations = Allocation.objects.select_related("source", "case")
    if user.has_role(Role.COORDINATOR, Role.AUDITOR):
        return allocations
    return allocations_actionable_by(user)


def allocations_actionable_by(user: User) -> QuerySet[Allocation]:
    """Allocations `user` may request money against (their cases', or all for coordinators)."""
    allocations = Allocation.objects.select_related("source", "case")
    if user.has_role(Role.COORDINATOR):
        return allocations
    if user.has_role(Role.CASEWORKER):
        return allocations.filter(case__assignments__user=user)
    return allocations.none()


def _with_display(disbursements: QuerySet[Disbursement]) -> QuerySet[Disbursement]:
    return disbursements.select_related(
        "allocation__source",
        "allocation__case__data_key",
        "requested_by",
        "paid_by",
        "closed_by",
    ).prefetch_related("approvals__approver")


def disbursements_visible_to(user: User) -> QuerySet[Disbursement]:
    if user.has_role(Role.COORDINATOR, Role.AUDITOR):
        return _with_display(Disbursement.objects.all())
    return disbursements_actionable_by(user)


def disbursements_actionable_by(user: User) -> QuerySet[Disbursement]:
    disbursements = Disbursement.objects.all()
    if user.has_role(Role.COORDINATOR):
        return _with_display(disbursements)
    if user.has_role(Role.CASEWORKER):
        return _with_display(disbursements.filter(allocation__case__assignments__user=user))
    return disbursements.none()


def payee_readable_case_ids(user: User) -> set | None:
    """The cases whose payees and receipts `user` may read in clear: None means all
    (coordinators); auditors read them masked, caseworkers only on their own cases."""
    if user.has_role(Role.COORDINATOR):
        return None
    if user.has_role(Role.CASEWORKER):
        return set(user.case_assignments.values_list("case_id", flat=True))
    return set()
