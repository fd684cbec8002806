"""Writes on disbursements: request, change, approve, reject, cancel, pay.

A request reserves its amount (in the source's currency) on the allocation; rejection and
cancellation release it; payment moves it from reserved to spent. Each write locks the
allocation, then the disbursement, then the case (the order of `funds/services/sources.py`),
checks, and writes: two coordinators approving at once, or ten clicks on "pay", are counted
one after the other.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases.models import ENDED_STATUSES
from common.exceptions import InvariantViolation
from common.money import money_text, to_currency
from funds.models import Allocation, Approval, Disbursement
from funds.services.sources import check_window, lock_case

Status = Disbursement.Status
OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED)


@dataclass(frozen=True)
class Terms:
    """What an approver agrees to: changing any of it voids the approvals given."""

    amount: Decimal
    currency: str
    purpose: str
    method: str
    payee: str
    exchange_rate: Decimal | None = None
    rate_source: str = ""
    rate_date: datetime.date | None = None


def dual_approval_threshold(currency: str) -> Decimal:
    """Above this amount (in the source's currency) two distinct approvers are needed."""
    overrides = settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY
    return overrides.get(currency, settings.FUNDS_DUAL_APPROVAL_THRESHOLD)


def approvals_required(disbursement: Disbursement) -> int:
    threshold = dual_approval_threshold(disbursement.source_currency)
    return 2 if disbursement.amount_in_source_currency > threshold else 1


def _in_source_currency(terms: Terms, source_currency: str) -> Decimal:
    if terms.currency == source_currency:
        if terms.exchange_rate is not None:
            raise InvariantViolation("A payment in the source's own currency takes no rate.")
        return terms.amount
    if terms.exchange_rate is None or terms.rate_date is None or not terms.rate_source:
        raise InvariantViolation(
            f"This source is in {source_currency}: a payment in {terms.currency} needs the "
            "exchange rate, where it came from and its date."
        )
    converted = to_currency(terms.amount * terms.exchange_rate, source_currency)
    if converted <= 0:
        raise InvariantViolation("The amount is less than the source currency's smallest unit.")
    return converted


def _lock_allocation(allocation_id: Any) -> Allocation:
    return (
        Allocation.objects.select_related("source")
        .select_for_update(of=("self",))
        .get(pk=allocation_id)
    )


def _lock(disbursement: Disbursement) -> tuple[Allocation, Disbursement]:
    allocation = _lock_allocation(disbursement.allocation_id)
    disbursement = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    disbursement.allocation = allocation
    return allocation, disbursement


def _reserve(allocation: Allocation, amount: Decimal, *, releasing: Decimal = Decimal(0)) -> None:
    available = allocation.remaining + releasing
    if amount > available:
        currency = allocation.source.currency
        raise InvariantViolation(
            f"This allocation has {money_text(available, currency)} left; "
            f"{money_text(amount, currency)} was asked for."
        )
    allocation.reserved += amount - releasing
    allocation.save(update_fields=["reserved", "updated_at"])


def _release(allocation: Allocation, amount: Decimal) -> None:
    allocation.reserved -= amount
    allocation.save(update_fields=["reserved", "updated_at"])


def _require_open(disbursement: Disbursement, doing: str) -> None:
    if disbursement.status not in OPEN_STATUSES:
        raise InvariantViolation(
            f"This disbursement is {disbursement.status}; it cannot be {doing}."
        )


@transaction.atomic
def disbursement_request(
    *, allocation: Allocation, requested_by: User, terms: Terms
) -> Disbursement:
    allocation = _lock_allocation(allocation.pk)
    case = lock_case(allocation.case_id)
    if allocation.status != Allocation.Status.ACTIVE:
        raise InvariantViolation("This allocation is closed; ask for a new one.")
    if case.status in ENDED_STATUSES:
        raise InvariantViolation(f"Case {case.reference} is {case.status}; it takes no new money.")
    check_window(allocation.source, timezone.localdate())
    source_currency = allocation.source.currency
    amount_in_source = _in_source_currency(terms, source_currency)
    _reserve(allocation, amount_in_source)
    allocation.case = case
    disbursement = Disbursement(
        allocation=allocation,
        source_currency=source_currency,
        amount_in_source_currency=amount_in_source,
        requested_by=requested_by,
        **terms.__dict__,
    )
    disbursement.save()
    return disbursement


@transaction.atomic
def disbursement_update(*, disbursement: Disbursement, actor: User, **changes: Any) -> Disbursement:
    """Change an open request's terms. Any change voids the approvals given so far: they were
    given to the old terms."""
    allocation, disbursement = _lock(disbursement)
    disbursement.allocation.case = lock_case(allocation.case_id)
    _require_open(disbursement, "changed")
    if disbursement.requested_by_id != actor.pk:
        raise InvariantViolation("Only the person who made a request can change it.")
    old = Terms(**{name: getattr(disbursement, name) for name in Terms.__dataclass_fields__})
    new = Terms(**{**old.__dict__, **changes})
    if new.currency == disbursement.source_currency:  # no conversion, so no rate to keep
        new = Terms(**{**new.__dict__, "exchange_rate": None, "rate_source": "", "rate_date": None})
    if new == old:
        return disbursement
    amount_in_source = _in_source_currency(new, disbursement.source_currency)
    _reserve(allocation, amount_in_source, releasing=disbursement.amount_in_source_currency)
    changed = [name for name, value in new.__dict__.items() if getattr(old, name) != value]
    for name in changed:
        setattr(disbursement, name, getattr(new, name))
    disbursement.amount_in_source_currency = amount_in_source
    disbursement.status = Status.REQUESTED
    disbursement.approved_at = None
    # Named fields only: the UPDATE and the audit log's comparison cover just what changed.
    disbursement.save(
        update_fields=[
            *changed,
            "amount_in_source_currency",
            "status",
            "approved_at",
            "updated_at",
        ]
    )
    now = timezone.now()
    for approval in disbursement.approvals.filter(voided_at__isnull=True):
        approval.voided_at = now
        approval.save(update_fields=["voided_at"])
    return disbursement


def _refuse_own(disbursement: Disbursement, user: User, doing: str) -> None:
    if disbursement.requested_by_id == user.pk:
        raise InvariantViolation(f"You cannot {doing} your own request.")


@transaction.atomic
def disbursement_approve(
    *, disbursement: Disbursement, approver: User, comment: str = ""
) -> Disbursement:
    allocation, disbursement = _lock(disbursement)
    disbursement.allocation.case = lock_case(allocation.case_id)
    _refuse_own(disbursement, approver, "approve")
    if disbursement.status != Status.REQUESTED:
        raise InvariantViolation(
            f"This disbursement is {disbursement.status}; it cannot be approved."
        )
    given = disbursement.approvals.filter(voided_at__isnull=True, decision="approve")
    if given.filter(approver=approver).exists():
        raise InvariantViolation(
            "You approved this request already; a second approval must come from someone else."
        )
    Approval.objects.create(
        disbursement=disbursement,
        approver=approver,
        requester_id=disbursement.requested_by_id,
        decision=Approval.Decision.APPROVE,
        comment=comment or None,
    )
    if given.count() >= approvals_required(disbursement):
        disbursement.status = Status.APPROVED
        disbursement.approved_at = timezone.now()
        disbursement.save(update_fields=["status", "approved_at", "updated_at"])
    return disbursement


@transaction.atomic
def disbursement_reject(
    *, disbursement: Disbursement, approver: User, reason: str = ""
) -> Disbursement:
    allocation, disbursement = _lock(disbursement)
    allocation.case = lock_case(allocation.case_id, erased_ok=True)
    _refuse_own(disbursement, approver, "reject")  # withdraw your own request with cancel
    _require_open(disbursement, "rejected")
    # A coordinator may reject what they approved before (second thoughts, a fraud suspicion):
    # their approval is voided, so each approver has one standing decision.
    for approval in disbursement.approvals.filter(approver=approver, voided_at__isnull=True):
        approval.voided_at = timezone.now()
        approval.save(update_fields=["voided_at"])
    if not allocation.case.erased:  # an erased case's key is gone: nothing more is sealed
        Approval.objects.create(
            disbursement=disbursement,
            approver=approver,
            requester_id=disbursement.requested_by_id,
            decision=Approval.Decision.REJECT,
            comment=reason or None,
        )
    _close(disbursement, allocation, Status.REJECTED, approver, reason=None)
    return disbursement


@transaction.atomic
def disbursement_cancel(
    *, disbursement: Disbursement, actor: User, reason: str = ""
) -> Disbursement:
    allocation, disbursement = _lock(disbursement)
    allocation.case = lock_case(allocation.case_id, erased_ok=True)
    _require_open(disbursement, "cancelled")
    sealed = None if allocation.case.erased else (reason or None)
    _close(disbursement, allocation, Status.CANCELLED, actor, reason=sealed)
    return disbursement


def _close(
    disbursement: Disbursement, allocation: Allocation, status: str, actor: User, reason: str | None
) -> None:
    _release(allocation, disbursement.amount_in_source_currency)
    disbursement.status = status
    disbursement.closed_by = actor
    disbursement.closed_at = timezone.now()
    disbursement.closing_reason = reason
    disbursement.save(
        update_fields=["status", "closed_by", "closed_at", "closing_reason", "updated_at"]
    )


@transaction.atomic
def disbursement_pay(
    *, disbursement: Disbursement, actor: User, receipt_reference: str, comment: str = ""
) -> Disbursement:
    allocation, disbursement = _lock(disbursement)
    disbursement.allocation.case = lock_case(allocation.case_id)
    if disbursement.status == Status.PAID:
        raise InvariantViolation("This disbursement was paid already; a payment is final.")
    if disbursement.status != Status.APPROVED:
        raise InvariantViolation(
            f"This disbursement is {disbursement.status}; only an approved one can be paid."
        )
    amount = disbursement.amount_in_source_currency
    allocation.reserved -= amount
    allocation.spent += amount
    allocation.save(update_fields=["reserved", "spent", "updated_at"])
    disbursement.status = Status.PAID
    disbursement.paid_by = actor
    disbursement.paid_at = timezone.now()
    disbursement.receipt_reference = receipt_reference
    disbursement.payment_comment = comment or None
    disbursement.save(
        update_fields=[
            "status",
            "paid_by",
            "paid_at",
            "receipt_reference",
            "payment_comment",
            "updated_at",
        ]
    )
    return disbursement
