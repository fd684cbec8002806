"""Writes on disbursements: request, change, approve, reject, cancel, pay.

A request reserves its amount (in the source's currency) on the allocation; rejection and
cancellation release it; payment moves it from reserved to spent. Each write takes its locks in
the order of `funds/locks.py` (the acting coordinator's own row, shared, for approve and pay;
then allocation, disbursement, case), checks, and writes: two coordinators approving at once, or
ten clicks on "pay", are counted one after the other.

The rules an insider might try to walk around (design.md, Funds):
- a rate in another currency is checked against a reference nobody involved recorded
  (`funds/rates.py`), and the larger of the two conversions is what counts;
- why two approvers are needed is decided when the request is made or changed, and stored
  (`approval_reasons`);
- an approval counts only while its approver is an active coordinator, and dies with the right;
- nobody approves, or records the payment of, their own request;
- an ended or erased case moves no money.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.roles import Role
from audit import writes
from cases.models import ENDED_STATUSES, Case, TimelineEntry
from common.exceptions import InvalidInput, InvariantViolation
from common.money import money_text, to_currency
from encryption.opened import unshown
from funds.locks import (
    OPEN_STATUSES,
    lock_actor,
    lock_allocation,
    lock_case,
    lock_disbursement,
)
from funds.models import (
    Allocation,
    Approval,
    ApprovalReason,
    Disbursement,
    RateCheck,
    ReferenceRate,
)
from funds.rates import Reference, rate_check, require_reference
from funds.services.sources import check_window

Status = Disbursement.Status
VoidReason = Approval.VoidReason
COUNTED_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.PAID)


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


@dataclass(frozen=True)
class Conversion:
    """A request's amount in its source's currency, and what the rate was checked against."""

    amount_in_source_currency: Decimal  # the larger of the two conversions: what is reserved
    amount_at_exchange_rate: Decimal | None = None
    amount_at_reference_rate: Decimal | None = None
    reference: Reference | None = None
    rate_check: str = ""

    def fields(self) -> dict[str, Any]:
        reference = self.reference
        return {
            "amount_in_source_currency": self.amount_in_source_currency,
            "amount_at_exchange_rate": self.amount_at_exchange_rate,
            "amount_at_reference_rate": self.amount_at_reference_rate,
            "reference_rate": reference.rate if reference else None,
            "reference_rate_date": reference.rate_date if reference else None,
            "reference_rate_source": reference.source if reference else "",
            "reference_rate_ids": list(reference.rate_ids) if reference else [],
            "rate_check": self.rate_check,
        }


def dual_approval_threshold(currency: str) -> Decimal:
    """Above this amount in `currency` two distinct approvers are needed."""
    overrides = settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY
    return overrides.get(currency, settings.FUNDS_DUAL_APPROVAL_THRESHOLD)


def approvals_required(disbursement: Disbursement) -> int:
    """Two when any reason was found when the request was made or last changed, else one."""
    return 2 if disbursement.approval_reasons else 1


def standing_approvals(disbursement: Disbursement) -> QuerySet[Approval]:
    """The approvals that count: not voided, and given by someone who is still an active
    coordinator (a right lost by a path that voided nothing still stops counting)."""
    return disbursement.approvals.filter(
        voided_at__isnull=True,
        decision=Approval.Decision.APPROVE,
        approver__is_active=True,
        approver__groups__name=Role.COORDINATOR,
    )


def _convert(terms: Terms, source_currency: str, requester: User) -> Conversion:
    if terms.currency == source_currency:
        if terms.exchange_rate is not None:
            raise InvalidInput(
                _("A payment in the source's own currency takes no rate."), field="exchange_rate"
            )
        return Conversion(amount_in_source_currency=terms.amount)
    if terms.exchange_rate is None or terms.rate_date is None or not terms.rate_source:
        raise InvariantViolation(
            _(
                "This source is in %(source)s: a payment in %(paid)s needs the exchange rate, "
                "where it came from and its date."
            )
            % {"source": source_currency, "paid": terms.currency}
        )
    reference = require_reference(
        paid_currency=terms.currency,
        source_currency=source_currency,
        on=timezone.localdate(),
        requester=requester,
    )
    check = rate_check(terms.exchange_rate, reference)
    at_rate = to_currency(terms.amount * terms.exchange_rate, source_currency)
    at_reference = to_currency(terms.amount * reference.rate, source_currency)
    larger = max(at_rate, at_reference)
    if min(at_rate, at_reference) <= 0:
        raise InvalidInput(
            _("The amount is less than the source currency's smallest unit."), field="amount"
        )
    return Conversion(
        amount_in_source_currency=larger,
        amount_at_exchange_rate=at_rate,
        amount_at_reference_rate=at_reference,
        reference=reference,
        rate_check=check,
    )


def _approval_reasons(
    *, allocation: Allocation, terms: Terms, conversion: Conversion, excluding: Any = None
) -> list[str]:
    """The stable codes of `ApprovalReason` that hold for these terms now."""
    source_currency = allocation.source.currency
    threshold = dual_approval_threshold(source_currency)
    amount = conversion.amount_in_source_currency
    reasons = []
    if amount > threshold:
        reasons.append(ApprovalReason.AMOUNT_OVER_THRESHOLD)
    # The currency paid has a threshold of its own only where one is set for it: the single
    # default figure is meant in a source's currency (1,000 roubles are not 1,000 euros).
    paid_threshold = settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY.get(terms.currency)
    if (
        terms.currency != source_currency
        and paid_threshold is not None
        and terms.amount > paid_threshold
    ):
        reasons.append(ApprovalReason.PAID_AMOUNT_OVER_THRESHOLD)
    # The case is locked: a request racing this one on the same case is counted by whichever
    # of the two comes second.
    since = timezone.now() - datetime.timedelta(days=settings.FUNDS_DUAL_APPROVAL_WINDOW_DAYS)
    others = (
        Disbursement.objects.filter(
            allocation__case_id=allocation.case_id,
            allocation__category=allocation.category,
            source_currency=source_currency,
            status__in=COUNTED_STATUSES,
            requested_at__gte=since,
        )
        .exclude(pk=excluding)
        .aggregate(total=Sum("amount_in_source_currency"))["total"]
    )
    if others and others + amount > threshold:
        reasons.append(ApprovalReason.SPLIT_REQUESTS)
    if conversion.rate_check == RateCheck.OUTSIDE_TOLERANCE:
        reasons.append(ApprovalReason.RATE_OUTSIDE_TOLERANCE)
    return [str(reason) for reason in reasons]


def _reserve(allocation: Allocation, amount: Decimal, *, releasing: Decimal = Decimal(0)) -> None:
    available = allocation.remaining + releasing
    if amount > available:
        currency = allocation.source.currency
        raise InvariantViolation(
            _("This allocation has %(left)s left; %(asked)s was asked for.")
            % {"left": money_text(available, currency), "asked": money_text(amount, currency)}
        )
    allocation.reserved += amount - releasing
    allocation.save(update_fields=["reserved", "updated_at"])


def _release(allocation: Allocation, amount: Decimal) -> None:
    allocation.reserved -= amount
    allocation.save(update_fields=["reserved", "updated_at"])


def _require_open(disbursement: Disbursement, message: str) -> None:
    """`message`: a whole sentence with a `%(status)s` placeholder."""
    if disbursement.status not in OPEN_STATUSES:
        raise InvariantViolation(message % {"status": disbursement.status})


def _refuse_ended(case: Case, message: str) -> None:
    """`message`: a whole sentence with `%(reference)s` and `%(status)s` placeholders."""
    if case.status in ENDED_STATUSES:
        raise InvariantViolation(message % {"reference": case.reference, "status": case.status})


@writes.atomic
def disbursement_request(
    *, allocation: Allocation, requested_by: User, terms: Terms
) -> Disbursement:
    allocation = lock_allocation(allocation.pk)
    case = lock_case(allocation.case_id)
    if allocation.status != Allocation.Status.ACTIVE:
        raise InvariantViolation(_("This allocation is closed; ask for a new one."))
    _refuse_ended(case, _("Case %(reference)s is %(status)s; it takes no new money."))
    check_window(allocation.source, timezone.localdate())
    source_currency = allocation.source.currency
    conversion = _convert(terms, source_currency, requested_by)
    reasons = _approval_reasons(allocation=allocation, terms=terms, conversion=conversion)
    _reserve(allocation, conversion.amount_in_source_currency)
    allocation.case = case
    disbursement = Disbursement(
        allocation=allocation,
        source_currency=source_currency,
        requested_by=requested_by,
        approval_reasons=reasons,
        **terms.__dict__,
        **conversion.fields(),
    )
    disbursement.save()
    return disbursement


def _void(approval: Approval, reason: str) -> None:
    approval.voided_at = timezone.now()
    approval.voided_reason = reason
    approval.save(update_fields=["voided_at", "voided_reason"])


@writes.atomic
def disbursement_update(*, disbursement: Disbursement, actor: User, **changes: Any) -> Disbursement:
    """Change an open request's terms. Any change voids the approvals given so far (they were
    given to the old terms), checks the rate again and decides anew why two approvers are
    needed."""
    allocation, disbursement = lock_disbursement(disbursement)
    case = lock_case(allocation.case_id)
    allocation.case = case
    _require_open(disbursement, _("This disbursement is %(status)s; it cannot be changed."))
    if disbursement.requested_by_id != actor.pk:
        raise InvariantViolation(_("Only the person who made a request can change it."))
    _refuse_ended(case, _("Case %(reference)s is %(status)s; it takes no new money."))
    with unshown():  # the old payee is compared with the new one, never returned
        old = Terms(**{name: getattr(disbursement, name) for name in Terms.__dataclass_fields__})
    new = Terms(**{**old.__dict__, **changes})
    if new.currency == disbursement.source_currency:  # no conversion, so no rate to keep
        new = Terms(**{**new.__dict__, "exchange_rate": None, "rate_source": "", "rate_date": None})
    if new == old:
        return disbursement
    conversion = _convert(new, disbursement.source_currency, disbursement.requested_by)
    reasons = _approval_reasons(
        allocation=allocation, terms=new, conversion=conversion, excluding=disbursement.pk
    )
    _reserve(
        allocation,
        conversion.amount_in_source_currency,
        releasing=disbursement.amount_in_source_currency,
    )
    changed = [name for name, value in new.__dict__.items() if getattr(old, name) != value]
    for name in changed:
        setattr(disbursement, name, getattr(new, name))
    for name, value in conversion.fields().items():
        setattr(disbursement, name, value)
    disbursement.approval_reasons = reasons
    disbursement.status = Status.REQUESTED
    disbursement.approved_at = None
    # Named fields only: the UPDATE and the audit log's comparison cover just what changed.
    disbursement.save(
        update_fields=[
            *changed,
            *conversion.fields(),
            "approval_reasons",
            "status",
            "approved_at",
            "updated_at",
        ]
    )
    for approval in disbursement.approvals.filter(voided_at__isnull=True):
        _void(approval, VoidReason.TERMS_CHANGED)
    return disbursement


def _refuse_own(disbursement: Disbursement, user: User, message: str) -> None:
    if disbursement.requested_by_id == user.pk:
        raise InvariantViolation(message)


@writes.atomic
def disbursement_approve(
    *,
    disbursement: Disbursement,
    approver: User,
    comment: str = "",
    terms_as_of: datetime.datetime | None = None,
) -> Disbursement:
    """Approve a request. `terms_as_of`, when given, is the request's `updated_at` as the
    approver read it: if the request changed since (its terms edited, which also voids earlier
    approvals), the approval is refused (409), so nobody approves terms they were not shown."""
    approver = lock_actor(approver)
    allocation, disbursement = lock_disbursement(disbursement)
    case = lock_case(allocation.case_id)
    allocation.case = case
    if terms_as_of is not None and disbursement.updated_at != terms_as_of:
        raise InvariantViolation(
            _(
                "This request changed after you opened it: read its terms again before you "
                "approve it."
            )
        )
    _refuse_own(disbursement, approver, _("You cannot approve your own request."))
    if disbursement.status != Status.REQUESTED:
        raise InvariantViolation(
            _("This disbursement is %(status)s; it cannot be approved.")
            % {"status": disbursement.status}
        )
    _refuse_ended(case, _("Case %(reference)s is %(status)s; no money can be approved for it."))
    recorded_reference = ReferenceRate.objects.filter(
        pk__in=disbursement.reference_rate_ids, recorded_by=approver
    ).exists()
    if recorded_reference:
        raise InvariantViolation(
            _(
                "You recorded the reference rate this request was checked against; another "
                "coordinator must approve it."
            )
        )
    given = standing_approvals(disbursement)
    if disbursement.approvals.filter(
        voided_at__isnull=True, decision=Approval.Decision.APPROVE, approver=approver
    ).exists():
        raise InvariantViolation(
            _("You approved this request already; a second approval must come from someone else.")
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


@writes.atomic
def disbursement_reject(*, disbursement: Disbursement, approver: User, reason: str) -> Disbursement:
    """Refuse a request, saying why: the reason is kept (sealed under the case's key) as its
    `closing_reason`, which the requester reads."""
    if not reason.strip():
        raise InvalidInput(_("Say why the request is rejected."), field="reason")
    allocation, disbursement = lock_disbursement(disbursement)
    allocation.case = lock_case(allocation.case_id, erased_ok=True)
    # Withdraw your own request with cancel.
    _refuse_own(disbursement, approver, _("You cannot reject your own request."))
    _require_open(disbursement, _("This disbursement is %(status)s; it cannot be rejected."))
    # A coordinator may reject what they approved before (second thoughts, a fraud suspicion):
    # their approval is voided, so each approver has one standing decision.
    for approval in disbursement.approvals.filter(approver=approver, voided_at__isnull=True):
        _void(approval, VoidReason.DECIDED_OTHERWISE)
    erased = allocation.case.erased  # its key is gone: nothing more can be sealed
    if not erased:
        Approval.objects.create(
            disbursement=disbursement,
            approver=approver,
            requester_id=disbursement.requested_by_id,
            decision=Approval.Decision.REJECT,
        )
    _close(disbursement, allocation, Status.REJECTED, approver, reason=None if erased else reason)
    return disbursement


@writes.atomic
def disbursement_cancel(
    *, disbursement: Disbursement, actor: User, reason: str = ""
) -> Disbursement:
    allocation, disbursement = lock_disbursement(disbursement)
    allocation.case = lock_case(allocation.case_id, erased_ok=True)
    _require_open(disbursement, _("This disbursement is %(status)s; it cannot be cancelled."))
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


@writes.atomic
def disbursement_pay(
    *, disbursement: Disbursement, actor: User, receipt_reference: str = "", comment: str = ""
) -> Disbursement:
    """Record that an approved request was paid. On an erased case (approved before it was
    erased: the cash may be in someone's hand) the payment is recorded without a receipt
    reference or comment, which the destroyed key can no longer seal."""
    actor = lock_actor(actor)
    allocation, disbursement = lock_disbursement(disbursement)
    case = lock_case(allocation.case_id, erased_ok=True)
    allocation.case = case
    _refuse_own(
        disbursement,
        actor,
        _("You cannot record the payment of your own request; another coordinator must."),
    )
    if disbursement.status == Status.PAID:
        raise InvariantViolation(_("This disbursement was paid already; a payment is final."))
    if disbursement.status != Status.APPROVED:
        raise InvariantViolation(
            _("This disbursement is %(status)s; only an approved one can be paid.")
            % {"status": disbursement.status}
        )
    _refuse_ended(case, _("Case %(reference)s is %(status)s; no money can be paid for it."))
    if standing_approvals(disbursement).count() < approvals_required(disbursement):
        raise InvariantViolation(
            _("The approvals of this request no longer stand; it needs approving again.")
        )
    if case.erased and (receipt_reference or comment):
        raise InvariantViolation(
            _(
                "Case %(reference)s was erased and its key destroyed: record the payment "
                "without a receipt reference or comment."
            )
            % {"reference": case.reference}
        )
    if not case.erased and not receipt_reference:
        raise InvalidInput(
            _("Give the receipt reference of the payment."), field="receipt_reference"
        )
    amount = disbursement.amount_in_source_currency
    allocation.reserved -= amount
    allocation.spent += amount
    allocation.save(update_fields=["reserved", "spent", "updated_at"])
    disbursement.status = Status.PAID
    disbursement.paid_by = actor
    disbursement.paid_at = timezone.now()
    disbursement.receipt_reference = None if case.erased else receipt_reference
    disbursement.payment_comment = None if case.erased else (comment or None)
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


# --- When a coordinator loses the right to approve -------------------------------------------

_VOIDED_BECAUSE = {
    "deactivated": VoidReason.APPROVER_DEACTIVATED,
    "second_factor_reset": VoidReason.APPROVER_SECOND_FACTOR_RESET,
    "roles_removed": VoidReason.APPROVER_ROLE_REMOVED,
}


def approvals_void_for(*, user: User, reason: str) -> list[Disbursement]:
    """Void `user`'s standing approvals on requests not yet paid (`reason`: the code sent with
    `accounts.signals.staff_rights_reduced`). A request left with fewer approvals than it needs
    goes back to `requested`. Runs in the caller's transaction, after it locked the user's row
    exclusively: no approval of theirs can land meanwhile. Returns the requests touched."""
    standing = Approval.objects.filter(
        approver=user,
        voided_at__isnull=True,
        decision=Approval.Decision.APPROVE,
        disbursement__status__in=OPEN_STATUSES,
    )
    pairs = set(standing.values_list("disbursement__allocation_id", "disbursement_id"))
    for allocation_id in sorted({pair[0] for pair in pairs}):
        lock_allocation(allocation_id)
    touched = []
    for disbursement in (
        Disbursement.objects.filter(pk__in=[pair[1] for pair in pairs])
        .order_by("pk")
        .select_for_update()
    ):
        if disbursement.status not in OPEN_STATUSES:
            continue
        for approval in disbursement.approvals.filter(
            approver=user, voided_at__isnull=True, decision=Approval.Decision.APPROVE
        ):
            _void(approval, _VOIDED_BECAUSE[reason])
        if disbursement.status == Status.APPROVED and standing_approvals(
            disbursement
        ).count() < approvals_required(disbursement):
            disbursement.status = Status.REQUESTED
            disbursement.approved_at = None
            disbursement.save(update_fields=["status", "approved_at", "updated_at"])
        touched.append(disbursement)
    return touched


# --- When a case ends or is erased ----------------------------------------------------------


def disbursements_settle_for_ended_case(
    *, case: Case, actor: User, to: str | None
) -> list[Disbursement]:
    """What ending (`to`: closed, rejected, withdrawn) or erasing (`to` None) a case means for
    its money, with the case and its money rows locked (`cases.signals`).

    An end is refused (409) while one of its requests is approved and unpaid: the cash may
    already be in someone's hand, so it is paid or cancelled first. Requests waiting for
    approval are cancelled, their reservations released, each with a timeline entry. An erasure
    cannot wait: it cancels the waiting ones and leaves the approved ones open, to be paid
    (without sealed details) or cancelled. Returns the requests cancelled."""
    open_requests = list(
        Disbursement.objects.filter(allocation__case_id=case.pk, status__in=OPEN_STATUSES).order_by(
            "pk"
        )
    )
    # One object per allocation, so releasing two requests of one allocation adds up.
    allocations = Allocation.objects.select_related("source").in_bulk(
        {item.allocation_id for item in open_requests}
    )
    approved = [item for item in open_requests if item.status == Status.APPROVED]
    if to is not None and approved:
        raise InvariantViolation(
            ngettext(
                "Case %(reference)s has %(count)s approved request not yet paid: pay or "
                "cancel it before moving the case to %(status)s.",
                "Case %(reference)s has %(count)s approved requests not yet paid: pay or "
                "cancel them before moving the case to %(status)s.",
                len(approved),
            )
            % {"reference": case.reference, "count": len(approved), "status": to},
            extra={"rule": "approved_requests_unpaid"},
        )
    cancelled = []
    for item in open_requests:
        if item.status != Status.REQUESTED:
            continue
        item.allocation = allocations[item.allocation_id]
        item.allocation.case = case
        reason = None
        if to is not None:
            reason = _("Cancelled because the case moved to %(status)s.") % {"status": to}
        _close(item, item.allocation, Status.CANCELLED, actor, reason=reason)
        TimelineEntry.objects.create(
            case=case,
            kind=TimelineEntry.Kind.MONEY,
            from_value=Status.REQUESTED,
            to_value=Status.CANCELLED,
            reason=(
                None
                if to is None
                else _("%(amount)s for %(purpose)s, cancelled as the case moved to %(status)s.")
                % {
                    "amount": money_text(item.amount, item.currency),
                    "purpose": item.purpose,
                    "status": to,
                }
            ),
            actor=actor,
        )
        cancelled.append(item)
    return cancelled
