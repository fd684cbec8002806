"""Reads of staff accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import User


def staff_list() -> QuerySet[User]:
    return User.objects.prefetch_related("groups").order_by("username")


def live_token(*, digest: str) -> AuthToken | None:
    """The token with this digest (knox's SHA-512 of it), if it is unexpired and its owner
    active, with the owner and their roles loaded; None otherwise. Revocation, logout-all,
    deactivation and a second-factor reset all delete or disable what this looks for."""
    return (
        AuthToken.objects.select_related("user")
        .prefetch_related("user__groups")
        .filter(digest=digest, expiry__gt=timezone.now(), user__is_active=True)
        .first()
    )
