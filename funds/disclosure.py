"""What a response shows of a disbursement: the disclosure layer for `funds` (see
audit.disclosure).

A disbursement's payee, receipt reference, payment comment and closing reason, and its
approvals' comments, are sealed under the case's key. They are shown in clear to coordinators
and to the caseworkers of the case (`funds.selectors.payee_readable_case_ids`), and each
response that shows one writes an ACCESS entry for it. Anyone else who may see the
disbursement (auditors) sees `"[masked]"` where there is a value, and the value is never
opened. On an erased case they are None for everyone (the key is gone), and nothing is logged.
"""

from __future__ import annotations

from typing import Any

from audit.disclosure import MASKED, Disclosure, govern
from funds.models import Approval, Disbursement
from funds.selectors import payee_readable_case_ids
from funds.services.disbursements import approvals_required

PAYMENT_SECRETS = ("payee", "receipt_reference")
COMMENTS = ("closing_reason", "payment_comment")
SEALED = (*PAYMENT_SECRETS, *COMMENTS)

govern(Disbursement, fields=SEALED)
govern(Approval, fields=("comment",))


def payment_details_readable(item: Disbursement, *, disclosure: Disclosure) -> bool:
    """Whether the viewer reads `item`'s sealed details in clear (the rule above)."""
    if item.allocation.case.erased:
        return False
    readable = disclosure.memo(
        "funds.payee_readable_case_ids", lambda: _readable_case_ids(disclosure.viewer)
    )
    return readable is None or item.allocation.case_id in readable


def disbursement_disclosed(item: Disbursement, *, disclosure: Disclosure) -> dict[str, Any]:
    """Every field of the API's disbursement shape, as Python values (amounts Decimal, rates
    Decimal, times datetime; ids UUID; users by username): `{"id", "allocation", "case",
    "case_reference", "category", "amount", "currency", "exchange_rate", "rate_source",
    "rate_date", "source_currency", "amount_in_source_currency", "amount_at_exchange_rate",
    "amount_at_reference_rate", "reference_rate", "reference_rate_date",
    "reference_rate_source", "reference_rate_ids", "rate_check" (None: same currency),
    "approval_reasons", "purpose", "method", "payee", "status", "requested_by",
    "requested_at", "approvals" ([{"approver", "decision", "comment", "at", "voided",
    "voided_reason"}]), "approvals_required", "approved_at", "paid_by", "paid_at",
    "receipt_reference", "payment_comment", "closed_by", "closed_at", "closing_reason",
    "updated_at"}`.

    `item` comes from `disbursements_visible_to` (allocation, case and approvals joined).
    The sealed fields are in clear, `MASKED` or None as the module says; reveals those shown
    in clear with a value, and each approval comment shown in clear."""
    erased = item.allocation.case.erased
    in_clear = payment_details_readable(item, disclosure=disclosure)
    shown = {
        "id": item.pk,
        "allocation": item.allocation_id,
        "case": item.allocation.case_id,
        "case_reference": item.allocation.case.reference,
        "category": item.allocation.category,
        "amount": item.amount,
        "currency": item.currency,
        "exchange_rate": item.exchange_rate,
        "rate_source": item.rate_source,
        "rate_date": item.rate_date,
        "source_currency": item.source_currency,
        "amount_in_source_currency": item.amount_in_source_currency,
        "amount_at_exchange_rate": item.amount_at_exchange_rate,
        "amount_at_reference_rate": item.amount_at_reference_rate,
        "reference_rate": item.reference_rate,
        "reference_rate_date": item.reference_rate_date,
        "reference_rate_source": item.reference_rate_source,
        "reference_rate_ids": item.reference_rate_ids,
        "rate_check": item.rate_check or None,
        "approval_reasons": item.approval_reasons,
        "purpose": item.purpose,
        "method": item.method,
        "status": item.status,
        "requested_by": item.requested_by.username,
        "requested_at": item.requested_at,
        "approvals": [
            _approval_disclosed(approval, in_clear=in_clear, erased=erased, disclosure=disclosure)
            for approval in item.approvals.all()
        ],
        "approvals_required": approvals_required(item),
        "approved_at": item.approved_at,
        "paid_by": item.paid_by.username if item.paid_by_id else None,
        "paid_at": item.paid_at,
        "closed_by": item.closed_by.username if item.closed_by_id else None,
        "closed_at": item.closed_at,
        "updated_at": item.updated_at,
    }
    for name in SEALED:
        shown[name] = _sealed(item, name, in_clear=in_clear, erased=erased)
    disclosure.reveal(item, [name for name in SEALED if in_clear and shown[name] is not None])
    return shown


def _approval_disclosed(
    approval: Approval, *, in_clear: bool, erased: bool, disclosure: Disclosure
) -> dict[str, Any]:
    comment = _sealed(approval, "comment", in_clear=in_clear, erased=erased)
    if in_clear and comment is not None:
        disclosure.reveal(approval, ("comment",))
    return {
        "approver": approval.approver.username,
        "decision": approval.decision,
        "comment": comment,
        "at": approval.at,
        "voided": approval.voided_at is not None,
        "voided_reason": approval.voided_reason or None,
    }


def _sealed(record: Disbursement | Approval, name: str, *, in_clear: bool, erased: bool) -> Any:
    """In clear (opened), `MASKED` (present, never opened) or None (absent, or erased)."""
    if in_clear:
        return getattr(record, name)
    present = record.__dict__.get(name) is not None  # the sealed bytes, not opened
    return MASKED if present and not erased else None


def _readable_case_ids(viewer: Any) -> set | None:
    if viewer is None or not viewer.is_authenticated:
        return set()
    return payee_readable_case_ids(viewer)
