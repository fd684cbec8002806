"""The body an `erase/` request needs: a fresh code from the caller's authenticator app (the
erase services ask for it, as approving money does)."""

from __future__ import annotations

from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import Staff


def _user_of(who: Staff | User | APIClient) -> User:
    if isinstance(who, Staff):
        return who.user
    if isinstance(who, User):
        return who
    header = who._credentials["HTTP_AUTHORIZATION"]  # the client's own "Bearer <token>"
    token = header.split()[1]
    return AuthToken.objects.get(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH]).user


def erase_body(who: Staff | User | APIClient) -> dict[str, str]:
    """{"otp": a code `who`'s authenticator would show, not used before} for `who` (a staff
    member, a user, or an API client holding their token)."""
    return {"otp": Staff(user=_user_of(who), password="", backup_codes=[]).fresh_totp()}
