"""Login failures and device tokens: the state of the lockout (see `accounts.lockout`).

Nothing here holds what anyone typed: a failure is filed under keyed digests of the name tried
and of the client address, and a device token is kept as the digest of its secret.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class DeviceToken(models.Model):
    """A browser or app that logged in to this account before (OWASP's "device cookie")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens"
    )
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"device token {self.pk}"


class LoginFailure(models.Model):
    """One failed login or enrolment. `device` is set when the attempt presented a live device
    token of the account tried: then it counts against that token only."""

    at = models.DateTimeField(default=timezone.now)
    account = models.CharField(max_length=64)
    address = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (None: not counted)
    device = models.ForeignKey(
        DeviceToken, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["account", "at"], name="login_failure_account"),
            models.Index(fields=["address", "at"], name="login_failure_address"),
            models.Index(fields=["device", "at"], name="login_failure_device"),
            models.Index(fields=["at"], name="login_failure_at"),
        ]

    def __str__(self) -> str:
        return f"login failure {self.pk}"
