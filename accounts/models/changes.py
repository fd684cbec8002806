"""Admin changes that wait for a second admin (four eyes)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class StaffChange(models.Model):
    """Granting `caseworker`, `coordinator` or `admin`, reactivating an account, or resetting the
    second factor of an account that holds one of those roles. `applied` at once when only one
    admin was active within STAFF_FOUR_EYES_WINDOW_DAYS (`four_eyes` False), otherwise
    `pending` until another admin approves or any admin rejects it."""

    class Kind(models.TextChoices):
        GRANT_ROLES = "grant_roles"
        REACTIVATE = "reactivate"
        RESET_SECOND_FACTOR = "reset_second_factor"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPLIED = "applied"
        REJECTED = "rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    target = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    roles = models.JSONField(default=list, blank=True)  # the roles a grant adds
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    four_eyes = models.BooleanField()
    status = models.CharField(max_length=12, choices=Status.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "kind"],
                condition=models.Q(status="pending"),
                name="one_pending_change_of_a_kind",
            )
        ]

    def __str__(self) -> str:
        return f"staff change {self.pk}"
