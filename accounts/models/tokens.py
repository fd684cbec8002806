"""What a staff member needs to recognise each of their API tokens (knox keeps the token itself,
as a digest), and the token's own step-up failure count."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from knox.models import AuthToken

CLIENT_MAX_LENGTH = 200


class TokenRecord(models.Model):
    """When, from which address and which client a token was issued, and when it was last used
    (written at most about once a minute, not per request): a person whose phone was seized can
    tell which token to end. No part of the token is kept here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.OneToOneField(AuthToken, on_delete=models.CASCADE, related_name="record")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_from = models.CharField(max_length=64, blank=True)
    client = models.CharField(max_length=CLIENT_MAX_LENGTH, blank=True)
    last_used_at = models.DateTimeField(default=timezone.now)
    # Wrong step-up codes sent with this token since its last right one; at
    # STEP_UP_FAILURE_LIMIT the token is revoked. Apart from the login throttle on purpose.
    step_up_failures = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"token {self.pk}"
