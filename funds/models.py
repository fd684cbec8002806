"""Funding sources, allocations to cases, disbursements and their approvals.

Balances live on the rows that the invariants are about, and check constraints hold them:
a source's `allocated` never exceeds what it received, and an allocation's `reserved` (requested
and approved disbursements) plus `spent` (paid) plus `released` (given back when it closed)
never exceeds its amount. The services change them only under `select_for_update`, in one
order: source, then allocation, then disbursement. So even a bug in a service cannot spend
money that is not there: the database refuses the row.

The payee, the receipt reference and every free-text comment are encrypted under the case's
data key, so erasing a case makes them unreadable while the amounts stay for the accounts.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cases.models import Case, NeedCategory
from common.money import (
    AMOUNT_DIGITS,
    AMOUNT_PLACES,
    MAX_AMOUNT,
    MAX_RATE,
    RATE_DIGITS,
    RATE_PLACES,
)
from encryption.fields import EncryptedTextField

Category = NeedCategory  # money is committed for the same categories a case's needs have


def _amount(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kwargs)


class FundingSource(models.Model):
    class Kind(models.TextChoices):
        DONATION_CAMPAIGN = "donation_campaign"
        GRANT = "grant"
        OTHER = "other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A reference into the donor records (a grant number, a CRM id), never a donor's name.
    donor_reference = models.CharField(max_length=100, blank=True, default="")
    currency = models.CharField(max_length=3)
    amount_received = _amount()
    received_on = models.DateField()
    restricted_to = models.JSONField(default=list)  # categories; empty: unrestricted
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    allocated = _amount(default=Decimal(0))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_received__gt=0) & Q(amount_received__lt=MAX_AMOUNT),
                name="source_received_positive",
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("amount_received")),
                name="source_allocations_within_received",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="source_validity_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"source {self.name}"

    @property
    def remaining(self):
        return self.amount_received - self.allocated


class Allocation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        CLOSED = "closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(FundingSource, on_delete=models.PROTECT, related_name="allocations")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="allocations")
    category = models.CharField(max_length=16, choices=Category.choices)
    amount = _amount()  # in the source's currency, as committed; never changed
    reserved = _amount(default=Decimal(0))  # requested and approved disbursements
    spent = _amount(default=Decimal(0))  # paid disbursements
    released = _amount(default=Decimal(0))  # given back to the source when the allocation closed
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["case", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lt=MAX_AMOUNT),
                name="allocation_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(spent__gte=0) & Q(released__gte=0),
                name="allocation_balances_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=F("reserved") + F("spent") + F("released")),
                name="allocation_never_overspent",
            ),
            models.CheckConstraint(
                condition=Q(status="active", released=0, closed_at__isnull=True)
                | Q(
                    status="closed",
                    reserved=0,
                    closed_at__isnull=False,
                    amount=F("spent") + F("released"),
                ),
                name="allocation_closed_is_settled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} allocation to case {self.case_id}"

    @property
    def remaining(self):
        """What new requests may still reserve."""
        return self.amount - self.reserved - self.spent - self.released


class RateCheck(models.TextChoices):
    OK = "ok"
    OUTSIDE_TOLERANCE = "outside_tolerance"


class ApprovalReason(models.TextChoices):
    """Why a request needs two approvers (design.md, Funds). Stable codes: clients rely on them."""

    AMOUNT_OVER_THRESHOLD = "amount_over_threshold"  # in the source's currency
    PAID_AMOUNT_OVER_THRESHOLD = "paid_amount_over_threshold"  # in the currency paid
    SPLIT_REQUESTS = "split_requests"  # with the case's others in the category and window
    RATE_OUTSIDE_TOLERANCE = "rate_outside_tolerance"


class Disbursement(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested"
        APPROVED = "approved"
        PAID = "paid"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    class Method(models.TextChoices):
        CASH = "cash"
        BANK_TRANSFER = "bank_transfer"
        MONEY_TRANSFER_SERVICE = "money_transfer_service"
        CARD = "card"
        OTHER = "other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    allocation = models.ForeignKey(
        Allocation, on_delete=models.PROTECT, related_name="disbursements"
    )
    amount = _amount()
    currency = models.CharField(max_length=3)
    # Copied from the source (which never changes currency), so the rows below can require a
    # rate exactly when the currencies differ.
    source_currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, null=True, blank=True
    )  # units of the source's currency per unit paid
    rate_source = models.CharField(max_length=200, blank=True, default="")
    rate_date = models.DateField(null=True, blank=True)
    # What is reserved, then spent, on the allocation: in another currency, the larger of the
    # conversions at the requester's rate and at the reference rate, so a tiny typed rate can
    # neither shrink the reservation nor slip under the dual-approval threshold.
    amount_in_source_currency = _amount()
    # In another currency (null otherwise): the requester's own conversion, and the reference
    # the rate was checked against when it was requested or its terms last changed.
    amount_at_exchange_rate = _amount(null=True, blank=True)
    amount_at_reference_rate = _amount(null=True, blank=True)
    reference_rate = models.DecimalField(
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, null=True, blank=True
    )  # units of the source's currency per unit paid, like `exchange_rate`
    reference_rate_date = models.DateField(null=True, blank=True)
    reference_rate_source = models.CharField(max_length=600, blank=True, default="")
    reference_rate_ids = models.JSONField(default=list, blank=True)  # the ReferenceRate rows used
    rate_check = models.CharField(
        max_length=20, choices=RateCheck.choices, blank=True, default=""
    )  # blank: same currency (or requested before rates were checked)
    # Why two approvers are needed (codes of ApprovalReason; empty: one is enough), fixed when
    # the request is made and whenever its terms change, so it does not shift under an approver.
    approval_reasons = models.JSONField(default=list, blank=True)
    purpose = models.CharField(max_length=500)
    method = models.CharField(max_length=24, choices=Method.choices)
    payee = EncryptedTextField(key_from="allocation.case.data_key")
    receipt_reference = EncryptedTextField(key_from="allocation.case.data_key")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )  # who rejected or cancelled it
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_reason = EncryptedTextField(key_from="allocation.case.data_key")
    payment_comment = EncryptedTextField(key_from="allocation.case.data_key")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at", "id"]
        indexes = [
            models.Index(fields=["allocation", "status"]),
            models.Index(fields=["status", "-requested_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(amount__lt=MAX_AMOUNT)
                & Q(amount_in_source_currency__gt=0)
                & Q(amount_in_source_currency__lt=MAX_AMOUNT),
                name="disbursement_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(
                    currency=F("source_currency"),
                    exchange_rate__isnull=True,
                    amount_in_source_currency=F("amount"),
                )
                | (
                    ~Q(currency=F("source_currency"))
                    & Q(exchange_rate__gt=0, rate_date__isnull=False)
                    & ~Q(rate_source="")
                ),
                name="disbursement_foreign_currency_has_rate",
            ),
            models.CheckConstraint(
                condition=Q(rate_check="")
                | (
                    Q(rate_check__in=RateCheck.values)
                    & ~Q(currency=F("source_currency"))
                    & Q(
                        reference_rate__gt=0,
                        reference_rate_date__isnull=False,
                        amount_at_exchange_rate__isnull=False,
                        amount_at_reference_rate__isnull=False,
                    )
                    & Q(amount_in_source_currency__gte=F("amount_at_exchange_rate"))
                    & Q(amount_in_source_currency__gte=F("amount_at_reference_rate"))
                    & (
                        Q(amount_in_source_currency=F("amount_at_exchange_rate"))
                        | Q(amount_in_source_currency=F("amount_at_reference_rate"))
                    )
                ),
                name="disbursement_checked_rate_reserves_the_larger",
            ),
            models.CheckConstraint(
                condition=~Q(currency=F("source_currency"))
                | Q(
                    rate_check="",
                    reference_rate__isnull=True,
                    amount_at_exchange_rate__isnull=True,
                    amount_at_reference_rate__isnull=True,
                ),
                name="disbursement_same_currency_has_no_reference",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "approved", "paid", "rejected", "cancelled"]),
                name="disbursement_status_known",
            ),
            # Separation of duties, as for approvals: whoever asked for money does not record
            # that it was handed over.
            models.CheckConstraint(
                condition=Q(paid_by__isnull=True) | ~Q(paid_by=F("requested_by")),
                name="payment_not_by_requester",
            ),
            models.CheckConstraint(
                condition=Q(status="paid", paid_at__isnull=False, paid_by__isnull=False)
                | (~Q(status="paid") & Q(paid_at__isnull=True, paid_by__isnull=True)),
                name="disbursement_paid_has_payment",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "paid"]) | Q(approved_at__isnull=False),
                name="disbursement_approved_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["rejected", "cancelled"], closed_at__isnull=False)
                | (~Q(status__in=["rejected", "cancelled"]) & Q(closed_at__isnull=True)),
                name="disbursement_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"disbursement {self.id}"


class Approval(models.Model):
    """One coordinator's decision on a request. Approvals are voided, never deleted, when the
    request changes after they were given."""

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"

    class VoidReason(models.TextChoices):
        TERMS_CHANGED = "terms_changed"
        DECIDED_OTHERWISE = "decided_otherwise"  # the approver rejected the request afterwards
        APPROVER_DEACTIVATED = "approver_deactivated"
        APPROVER_SECOND_FACTOR_RESET = "approver_second_factor_reset"
        APPROVER_ROLE_REMOVED = "approver_role_removed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the request so the database itself refuses a self-approval.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = EncryptedTextField(key_from="disbursement.allocation.case.data_key")
    at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_reason = models.CharField(
        max_length=32, choices=VoidReason.choices, blank=True, default=""
    )  # blank on approvals voided before reasons were kept

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(voided_at__isnull=False) | Q(voided_reason=""),
                name="approval_void_reason_only_when_voided",
            ),
            models.CheckConstraint(
                condition=~Q(approver=F("requester")), name="approval_not_by_requester"
            ),
            models.UniqueConstraint(
                fields=["disbursement", "approver"],
                condition=Q(voided_at__isnull=True),
                name="approval_once_per_approver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} of disbursement {self.disbursement_id}"


class ReferenceRateQuerySet(models.QuerySet["ReferenceRate"]):
    def update(self, **kwargs):
        raise TypeError("Reference rates are append-only: record a new rate instead.")

    def delete(self):
        raise TypeError("Reference rates are append-only: record a new rate instead.")


class ReferenceRate(models.Model):
    """A reference exchange rate: `rate` units of `to_currency` per unit of `from_currency` on
    `rate_date` (the direction of a disbursement's `exchange_rate`: source units per unit paid).

    Imported from the European Central Bank's reference-rate files (`origin` ecb, EUR-based,
    recorded by nobody: `manage.py import_rates`) or recorded by a coordinator (`manual`: the ECB
    has published no rouble rate since March 2022). Append-only in the model and in the
    database (triggers, `funds/triggers.py`); a correction is a newer rate.
    """

    class Origin(models.TextChoices):
        ECB = "ecb"
        MANUAL = "manual"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    from_currency = models.CharField(max_length=3)
    to_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES)
    rate_date = models.DateField()
    rate_source = models.CharField(max_length=200)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ReferenceRateQuerySet.as_manager()

    class Meta:
        ordering = ["-rate_date", "from_currency", "to_currency", "-recorded_at", "id"]
        indexes = [models.Index(fields=["from_currency", "to_currency", "-rate_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gt=0) & Q(rate__lt=MAX_RATE), name="reference_rate_positive"
            ),
            models.CheckConstraint(
                condition=~Q(from_currency=F("to_currency")), name="reference_rate_two_currencies"
            ),
            models.CheckConstraint(condition=~Q(rate_source=""), name="reference_rate_has_source"),
            # The ECB publishes euro rates, and an import is nobody's entry; a hand-entered rate
            # always names who entered it.
            models.CheckConstraint(
                condition=Q(origin="ecb", from_currency="EUR", recorded_by__isnull=True)
                | Q(origin="manual", recorded_by__isnull=False),
                name="reference_rate_origin_and_recorder",
            ),
            # Importing the same file twice adds nothing.
            models.UniqueConstraint(
                fields=["from_currency", "to_currency", "rate_date"],
                condition=Q(origin="ecb"),
                name="ecb_rate_once_per_pair_and_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_currency}/{self.to_currency} {self.rate} on {self.rate_date}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("Reference rates are append-only: record a new rate instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Reference rates are append-only: record a new rate instead.")


class IdempotencyRecord(models.Model):
    """An `Idempotency-Key` a client sent with a POST that moved money, and what it did (no
    status yet: the request is still running).

    Only a keyed digest of the request is kept, never the body or the response (they hold
    payees in clear): a replay answers with the record the first request created, as it is now.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    object_id = models.UUIDField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"idempotency record {self.pk}"
