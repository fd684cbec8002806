"""Every write on staff accounts, second factors and tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.http import HttpRequest
from knox.models import AuthToken

from accounts.lockout import LOCKOUT_MESSAGE
from accounts.models import User, normalize_username
from accounts.roles import Role
from accounts.second_factor import Enrolment, second_factor_enrol, second_factor_verify
from audit.context import audit_context
from audit.events import record_event
from audit.models import Action
from common.exceptions import DomainError, InvariantViolation


class LoginFailed(DomainError):
    status_code = 401
    code = "login_failed"

    def __init__(self) -> None:
        # One message for every cause: it must not say which factor was wrong, nor whether
        # the account exists or is active.
        super().__init__("Login failed: the username, password or one-time code is not valid.")


class LockedOut(DomainError):
    status_code = 429
    code = "locked_out"

    def __init__(self) -> None:
        super().__init__(LOCKOUT_MESSAGE)
        self.headers = {"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))}


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str
    expiry: datetime


def login(*, request: HttpRequest, username: str, password: str, otp: str) -> IssuedToken:
    """Password and second factor together, or nothing. Every failure counts towards the
    lockout of both the account and the client address (django-axes, in the database)."""
    username = normalize_username(username)
    credentials = {"username": username}
    if AxesProxyHandler.is_locked(request, credentials):
        raise LockedOut
    with transaction.atomic():  # Django may upgrade the stored hash: an audited change
        user = authenticate(request=request, username=username, password=password)
    if user is None:
        _login_failed(username=username, user=None, request=request)
    if not second_factor_verify(user=user, code=otp):
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        _login_failed(username=username, user=user, request=request)
    with transaction.atomic(), audit_context(actor=user):
        record_event(action=Action.LOGIN, instance=user)
        issued = token_issue(user=user)
        user_logged_in.send(sender=User, request=request, user=user)
    return issued


def _login_failed(*, username: str, user: User | None, request: HttpRequest) -> NoReturn:
    """Record the failure (never the password or the code) and refuse, with one message."""
    locked = getattr(request, "axes_locked_out", False)
    account = user or User.objects.filter(username=username).first()
    record_event(
        action=Action.LOGIN_FAILED,
        instance=account,
        model=User,
        actor=None,
        data={"username": username[:64], "locked_out": locked},
    )
    raise LockedOut if locked else LoginFailed


@transaction.atomic
def token_issue(*, user: User) -> IssuedToken:
    instance, token = AuthToken.objects.create(user=user)
    record_event(
        action=Action.TOKEN_ISSUED, instance=user, data={"expiry": instance.expiry.isoformat()}
    )
    return IssuedToken(user=user, token=token, expiry=instance.expiry)


@transaction.atomic
def token_revoke(*, token: AuthToken) -> None:
    token.delete()
    record_event(
        action=Action.TOKEN_REVOKED, instance=token.user, data={"count": 1, "reason": "logout"}
    )


@transaction.atomic
def tokens_revoke_all(*, user: User, reason: str) -> int:
    count, _ = AuthToken.objects.filter(user=user).delete()
    record_event(
        action=Action.TOKEN_REVOKED, instance=user, data={"count": count, "reason": reason}
    )
    return count


def _roles_checked(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    unknown = [role for role in chosen if role not in Role.values]
    if unknown or not chosen:
        raise ValueError(f"Roles must be chosen from {', '.join(Role.values)}.")
    return chosen


def _ensure_another_admin_remains(user: User) -> None:
    others = User.objects.filter(is_active=True, groups__name=Role.ADMIN).exclude(pk=user.pk)
    if user.has_role(Role.ADMIN) and not others.exists():
        raise InvariantViolation("This is the last active admin; appoint another one first.")


@transaction.atomic
def staff_create(*, username: str, roles: Iterable[str], password: str) -> tuple[User, Enrolment]:
    """Create a staff member with their roles and a second factor enrolled."""
    chosen = _roles_checked(roles)
    user = User(username=normalize_username(username))
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=chosen))
    return user, second_factor_enrol(user=user)


@transaction.atomic
def staff_set_roles(*, user: User, roles: Iterable[str]) -> User:
    chosen = _roles_checked(roles)
    if Role.ADMIN not in chosen:
        _ensure_another_admin_remains(user)
    user.groups.set(Group.objects.filter(name__in=chosen))
    user._roles = None
    return user


@transaction.atomic
def staff_deactivate(*, user: User) -> User:
    """The panic button: the account stops working and every token it holds dies now."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        _ensure_another_admin_remains(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
    tokens_revoke_all(user=user, reason="deactivated")
    return user


@transaction.atomic
def staff_reactivate(*, user: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def second_factor_reset(*, user: User) -> Enrolment:
    """A lost or seized authenticator: new TOTP secret, new backup codes, and every token the
    old device may have helped obtain is revoked."""
    enrolment = second_factor_enrol(user=user)
    tokens_revoke_all(user=user, reason="second factor reset")
    return enrolment
