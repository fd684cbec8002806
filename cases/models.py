"""Evacuation cases: who, how urgent, where things stand, what is needed, what was noted.

Everything narrative (summary, where the person is, how to reach them safely, protection
concerns, need descriptions, notes, the reasons for transitions) is encrypted under the case's
own data key. What stays in clear is what the workflow and the money need to work on: status,
risk level, consent flags, categories, amounts and times.
"""

from __future__ import annotations

import re
import secrets
import uuid

from django.conf import settings
from django.db import models

from common.money import AMOUNT_DIGITS, AMOUNT_PLACES, MAX_AMOUNT
from encryption.fields import EncryptedJSONField, EncryptedTextField
from encryption.models import DataKey
from people.models import Person

# No 0/O, 1/I/L, so a reference read out over a bad phone line is not misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 6
REFERENCE_PATTERN = re.compile(rf"^EV-[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}\Z")


def new_reference() -> str:
    """`EV-7K3Q9P`: random (31^6, about 887 million), so it says nothing about order or count."""
    return "EV-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class Status(models.TextChoices):
    INTAKE = "intake"
    VERIFICATION = "verification"
    APPROVED = "approved"
    IN_TRANSIT = "in_transit"
    SHELTERED = "sheltered"
    RESETTLED = "resettled"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LOST_CONTACT = "lost_contact"


# A case in one of these is over; a person who is on no other case may be erased with it.
ENDED_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.WITHDRAWN})


class RiskLevel(models.TextChoices):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ProtectionConcern(models.TextChoices):
    DETAINED = "detained"
    TORTURED = "tortured"
    THREATENED_BY_FAMILY = "threatened_by_family"
    THREATENED_BY_AUTHORITIES = "threatened_by_authorities"
    OUTED = "outed"
    IN_HIDING = "in_hiding"
    MEDICAL_EMERGENCY = "medical_emergency"
    FORCED_MARRIAGE = "forced_marriage"
    HONOUR_VIOLENCE = "honour_violence"
    MISSING_DOCUMENTS = "missing_documents"
    OTHER = "other"


class Relationship(models.TextChoices):
    PRIMARY = "primary"
    PARTNER = "partner"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    OTHER = "other"


# What someone can be added to a household as: the primary person is named by the case itself.
MEMBER_RELATIONSHIPS = [choice for choice in Relationship.values if choice != Relationship.PRIMARY]


class CaseQuerySet(models.QuerySet["Case"]):
    def for_display(self) -> CaseQuerySet:
        """Keys and the primary person in the same query; members and assignees in one more
        each: a page costs the same number of queries at any size."""
        return self.select_related(
            "data_key", "primary_person", "primary_person__data_key"
        ).prefetch_related(
            models.Prefetch("memberships", queryset=CaseMember.objects.current()),
            "assignments__user",
        )


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=12, unique=True, default=new_reference)
    data_key = models.OneToOneField(DataKey, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INTAKE)
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices)
    primary_person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")

    summary = EncryptedTextField()
    location = EncryptedTextField()
    safe_contact = EncryptedTextField()
    protection_concerns = EncryptedJSONField()  # codes of ProtectionConcern

    consent_to_store = models.BooleanField(default=False)
    consent_to_share = models.BooleanField(default=False)
    consent_given_on = models.DateField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "id"]
        # The list's order, alone and behind each filter, so every cursor page is read from
        # an index (the list pages by cursor on this order: no offset, no count).
        indexes = [
            models.Index(fields=["-updated_at", "id"], name="case_list_order"),
            models.Index(fields=["status", "-updated_at", "id"], name="case_status_order"),
            models.Index(fields=["risk_level", "-updated_at", "id"], name="case_risk_order"),
            models.Index(
                fields=["status", "risk_level", "-updated_at", "id"],
                name="case_status_risk_order",
            ),
        ]

    def __str__(self) -> str:  # in audit entries and logs: the reference, nothing personal
        return f"case {self.reference}"

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


class CaseMemberQuerySet(models.QuerySet["CaseMember"]):
    def current(self) -> CaseMemberQuerySet:
        return self.filter(removed_at__isnull=True)


class CaseMember(models.Model):
    """A person in the case's household (the primary person is one, as `primary`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    # Taken off the household, not deleted: the person stays linked to the case for its
    # erasure, and does not fall back into whoever recorded them's scope.
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = CaseMemberQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="person_once_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.relationship} of case {self.case.reference}"


class CaseAssignment(models.Model):
    """A caseworker assigned to a case. Rows are removed on unassignment (audited), so the
    scope check is one join, and an unassigned caseworker loses access at once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="caseworker_once_per_case")
        ]
        indexes = [models.Index(fields=["user", "case"])]

    def __str__(self) -> str:
        return f"assignment of {self.user.username} to case {self.case.reference}"


class TimelineEntry(models.Model):
    """What happened to a case, by whom and when: a transition or a risk change (`from_value`
    -> `to_value`), a household change (`person`; the relationship before and after), an
    assignment change (`caseworker`) or a money request that moved with the case (cancelled as
    it ended). The reason is encrypted under the case's key."""

    class Kind(models.TextChoices):
        STATUS = "status"
        RISK = "risk"
        MONEY = "money"  # a money request that moved with the case (cancelled as it ended)
        MEMBER_ADDED = "member_added"
        MEMBER_REMOVED = "member_removed"
        MEMBER_CHANGED = "member_changed"  # another relationship (a new primary person)
        ASSIGNED = "assigned"
        UNASSIGNED = "unassigned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_value = models.CharField(max_length=16)
    to_value = models.CharField(max_length=16)
    # By id only: the id is what a caseworker needs to put someone taken off back on the case.
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    caseworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = EncryptedTextField(key_from="case.data_key")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case.reference}"


class NeedCategory(models.TextChoices):
    TRAVEL = "travel"
    HOUSING = "housing"
    FOOD = "food"
    MEDICAL = "medical"
    DOCUMENTS = "documents"
    COMMUNICATION = "communication"
    LEGAL = "legal"
    OTHER = "other"


Urgency = RiskLevel  # a need's urgency uses the same four levels as a case's risk


class Need(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        IN_PROGRESS = "in_progress"
        MET = "met"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="needs")
    category = models.CharField(max_length=16, choices=NeedCategory.choices)
    description = EncryptedTextField(key_from="case.data_key")
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.MEDIUM)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # Held like every other amount (common.money): any currency's precision, never a float.
    estimated_cost = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True, blank=True
    )
    currency = models.CharField(max_length=3, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        # The queue across cases (`needs/`) pages by cursor on this order, read off the index.
        indexes = [models.Index(fields=["created_at", "id"], name="need_queue_order")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(estimated_cost__isnull=True)
                | models.Q(estimated_cost__gt=0, estimated_cost__lt=MAX_AMOUNT),
                name="need_cost_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(estimated_cost__isnull=True) | ~models.Q(currency=""),
                name="need_cost_has_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} need of case {self.case.reference}"


class Note(models.Model):
    """Append-only: a correction is a new note."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    body = EncryptedTextField(key_from="case.data_key")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on case {self.case.reference}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Notes are append-only: write a new note to correct one.")
        super().save(*args, **kwargs)
