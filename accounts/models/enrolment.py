"""Single-use enrolment codes: how a staff member gets their own second factor without anyone
else ever holding it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class EnrolmentCode(models.Model):
    """Issued to an admin for a new account or after a second-factor reset, and passed on to
    the staff member, who redeems it (`POST auth/enrol/`) and confirms their new authenticator
    with a first code (`POST auth/enrol/confirm/`). Only a keyed digest of the code is kept."""

    class Purpose(models.TextChoices):
        NEW_ACCOUNT = "new_account"
        RESET = "reset"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="enrolment_code_user")]

    def __str__(self) -> str:
        return f"enrolment code {self.pk}"

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.confirmed_at is None and self.withdrawn_at is None and now < self.expires_at
