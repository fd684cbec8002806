"""Which money records a staff member may see or act on: the only place they are narrowed.

Coordinators and auditors read every source, allocation and disbursement; a caseworker reads
the sources (no personal data) and the allocations and disbursements of the cases assigned to
them, read from the assignment rows at every request. Acting is narrower than reading: an
auditor's role never lets them move money, whatever other role they also hold.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from accounts.roles import Role
from cases.models import ENDED_STATUSES
from funds.models import Allocation, Approval, Disbursement, FundingSource, ReferenceRate


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


def awaiting_decision_by(
    user: User, disbursements: QuerySet[Disbursement]
) -> QuerySet[Disbursement]:
    """Of `disbursements`, the open requests `user` may still decide, oldest first: waiting for
    approval, not theirs, with no standing (unvoided) decision of theirs, not checked against a
    reference rate they recorded (they may not approve those), and on a case that is neither
    ended nor erased (those move no money). Only coordinators decide; anyone else gets none."""
    if not user.has_role(Role.COORDINATOR):
        return disbursements.none()
    my_decision = Approval.objects.filter(
        disbursement=OuterRef("pk"), approver=user, voided_at__isnull=True
    )
    waiting = (
        disbursements.filter(status=Disbursement.Status.REQUESTED)
        .exclude(requested_by=user)
        .exclude(Exists(my_decision))
        .filter(allocation__case__erased_at__isnull=True)
        .exclude(allocation__case__status__in=ENDED_STATUSES)
    )
    # The references a request was checked against are kept as a list of ids on the row; the
    # open requests are few, so the ones resting on a rate this coordinator recorded are found
    # here rather than by a JSON query each database spells differently.
    mine = {
        str(pk)
        for pk in ReferenceRate.objects.filter(recorded_by=user).values_list("pk", flat=True)
    }
    if mine:
        blocked = [
            pk
            for pk, used in waiting.filter(reference_rate_ids__isnull=False)
            .order_by()
            .values_list("pk", "reference_rate_ids")
            if mine.intersection(str(rate_id) for rate_id in used or ())
        ]
        waiting = waiting.exclude(pk__in=blocked)
    return waiting.order_by("requested_at", "id")


def awaiting_payment(disbursements: QuerySet[Disbursement]) -> QuerySet[Disbursement]:
    """Of `disbursements`, the approved ones not yet paid, longest approved first (an erased
    case's included: the cash may already be in someone's hand)."""
    return disbursements.filter(status=Disbursement.Status.APPROVED).order_by("approved_at", "id")
