"""Finding a staff member by username from a command line."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import User, normalize_username


def staff_by_username(username: str) -> User:
    try:
        return User.objects.get(username=normalize_username(username))
    except User.DoesNotExist:
        raise CommandError(f"No staff member is called {username!r}.") from None
