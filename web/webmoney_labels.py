"""What the money pages call each stored value, in the reader's language. The stored values
are the API's (`requested`, `bank_transfer`, ...); only the pages translate them."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from funds.models import (
    Allocation,
    Approval,
    ApprovalReason,
    Disbursement,
    RateCheck,
    ReferenceRate,
)
from web.labels import CATEGORY_LABELS, SOURCE_KIND_LABELS

STATUS: dict[str, Promise] = {
    Disbursement.Status.REQUESTED: _("Waiting for approval"),
    Disbursement.Status.APPROVED: _("Approved, waiting for payment"),
    Disbursement.Status.PAID: _("Paid"),
    Disbursement.Status.REJECTED: _("Rejected"),
    Disbursement.Status.CANCELLED: _("Cancelled"),
}

METHOD: dict[str, Promise] = {
    Disbursement.Method.CASH: _("Cash"),
    Disbursement.Method.BANK_TRANSFER: _("Bank transfer"),
    Disbursement.Method.MONEY_TRANSFER_SERVICE: _("Money transfer service"),
    Disbursement.Method.CARD: _("Card"),
    Disbursement.Method.OTHER: _("Other method"),
}

CATEGORY = CATEGORY_LABELS  # one home: web/labels.py

SOURCE_KIND = SOURCE_KIND_LABELS  # one home: web/labels.py

ALLOCATION_STATUS: dict[str, Promise] = {
    Allocation.Status.ACTIVE: _("Open"),
    Allocation.Status.CLOSED: _("Closed"),
}

RATE_CHECK: dict[str, Promise] = {
    RateCheck.OK: _("Within tolerance of the reference rate"),
    RateCheck.OUTSIDE_TOLERANCE: _("Outside the tolerance of the reference rate"),
}

RATE_ORIGIN: dict[str, Promise] = {
    ReferenceRate.Origin.ECB: _("European Central Bank import"),
    ReferenceRate.Origin.MANUAL: _("Entered by a coordinator"),
}

# Why a request needs two approvers (design.md, Funds), as a whole sentence each.
APPROVAL_REASON: dict[str, Promise] = {
    ApprovalReason.AMOUNT_OVER_THRESHOLD: _(
        "The amount in the source's currency is above the dual-approval threshold."
    ),
    ApprovalReason.PAID_AMOUNT_OVER_THRESHOLD: _(
        "The amount in the currency paid is above that currency's dual-approval threshold."
    ),
    ApprovalReason.SPLIT_REQUESTS: _(
        "Together with this case's other recent requests in the same category, it passes the "
        "dual-approval threshold."
    ),
    ApprovalReason.RATE_OUTSIDE_TOLERANCE: _(
        "Its exchange rate is outside the tolerance of the reference rate."
    ),
}

DECISION: dict[str, Promise] = {
    Approval.Decision.APPROVE: _("Approved"),
    Approval.Decision.REJECT: _("Rejected"),
}

VOID_REASON: dict[str, Promise] = {
    Approval.VoidReason.TERMS_CHANGED: _("void: the terms changed after it was given"),
    Approval.VoidReason.DECIDED_OTHERWISE: _("void: the approver rejected the request afterwards"),
    Approval.VoidReason.APPROVER_DEACTIVATED: _("void: the approver was deactivated"),
    Approval.VoidReason.APPROVER_SECOND_FACTOR_RESET: _(
        "void: the approver's second factor was reset"
    ),
    Approval.VoidReason.APPROVER_ROLE_REMOVED: _("void: the approver is no longer a coordinator"),
}
