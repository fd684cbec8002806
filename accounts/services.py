"""Every write on staff accounts, second factors and tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import HttpRequest
from knox.models import AuthToken

from accounts.lockout import LOCKOUT_MESSAGE
from accounts.models import User, normalize_username
from accounts.roles import Role
from accounts.second_factor import Enrolment, second_factor_enrol, second_factor_verify
from accounts.signals import staff_rights_reduced
from audit.context import audit_context
from audit.events import record_event
from audit.models import Action
from common.client_ip import client_ip_for
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
    with transaction.atomic():
        _serialise_attempts(username=username, address=client_ip_for(request))
        outcome = _attempt(request=request, username=username, password=password, otp=otp)
    # Raised only now, so the failure's records (lockout count, audit entry) are committed.
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _serialise_attempts(*, username: str, address: str) -> None:
    """The lockout is check-then-act (is it locked? try; count the failure). Concurrent
    attempts against one account or from one address would all pass the check before any
    failure is counted, so they queue here, per account and per address, for the rest of the
    transaction. Locks are always taken account first, so two attempts cannot deadlock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for key in (f"login-account:{username}", f"login-address:{address}"):
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
    # SQLite needs nothing: its transactions here take the database's write lock at BEGIN.


def _attempt(
    *, request: HttpRequest, username: str, password: str, otp: str
) -> IssuedToken | DomainError:
    credentials = {"username": username}
    if AxesProxyHandler.is_locked(request, credentials):
        return _login_failed(username=username, user=None, request=request, locked=True)
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        return _login_failed(username=username, user=None, request=request)
    if not second_factor_verify(user=user, code=otp):
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        return _login_failed(username=username, user=user, request=request)
    with audit_context(actor=user):
        record_event(action=Action.LOGIN, instance=user)
        issued = token_issue(user=user)
        user_logged_in.send(sender=User, request=request, user=user)
    return issued


def _login_failed(
    *, username: str, user: User | None, request: HttpRequest, locked: bool = False
) -> DomainError:
    """Record the failure (never the password or the code) and say no, with one message.

    The name tried is kept only when it is an account's: anything else typed into the
    username field (a password, by mistake) must not stay in an append-only log."""
    locked = locked or getattr(request, "axes_locked_out", False)
    account = user or User.objects.filter(username=username).first()
    record_event(
        action=Action.LOGIN_FAILED,
        instance=account,
        model=User,
        actor=None,
        data={"known_account": account is not None, "locked_out": locked},
    )
    return LockedOut() if locked else LoginFailed()


@transaction.atomic
def token_issue(*, user: User) -> IssuedToken:
    instance, token = AuthToken.objects.create(user=user)
    record_event(
        action=Action.TOKEN_ISSUED, instance=user, data={"expiry": instance.expiry.isoformat()}
    )
    return IssuedToken(user=user, token=token, expiry=instance.expiry)


@transaction.atomic
def token_revoke(*, token: AuthToken, reason: str = "logout") -> None:
    """End one token. `reason` is a short code for the audit entry: "logout", or the web
    interface's "quick exit" and "idle timeout"."""
    token.delete()
    record_event(
        action=Action.TOKEN_REVOKED, instance=token.user, data={"count": 1, "reason": reason}
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


def _lock_admin_membership() -> None:
    """Every change that could leave the programme without an admin (a demotion, a
    deactivation) first locks the admin role's row, before any other row: they queue one
    behind the other and cannot deadlock, and the check that follows, a fresh statement, sees
    what the one before committed."""
    Group.objects.select_for_update().get(name=Role.ADMIN)


def _lock_staff_row(user: User) -> User:
    """Lock the staff member's row exclusively before a right is taken away: anything that
    acts on the strength of that right (an approval, a payment) holds the same row with a
    shared lock, so it either finishes first or sees the right gone."""
    return User.objects.select_for_update().get(pk=user.pk)


def _ensure_another_admin_remains(user: User) -> None:
    admins = User.objects.filter(is_active=True, groups__name=Role.ADMIN)
    if user.has_role(Role.ADMIN) and not admins.exclude(pk=user.pk).exists():
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
def staff_set_roles(*, user: User, roles: Iterable[str], actor: User | None = None) -> User:
    """`actor` (the admin asking) may not change their own roles: granting oneself a role
    that reads personal data or approves money takes a second admin."""
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied("Another admin must change your roles.")
    chosen = _roles_checked(roles)
    if Role.ADMIN not in chosen:
        _lock_admin_membership()
        _ensure_another_admin_remains(user)
    user = _lock_staff_row(user)
    removed = sorted(user.roles - set(chosen))
    if removed:
        staff_rights_reduced.send(
            sender=User, user=user, reason="roles_removed", roles_removed=removed
        )
    user.groups.set(Group.objects.filter(name__in=chosen))
    user._roles = None
    return user


@transaction.atomic
def staff_deactivate(*, user: User) -> User:
    """The panic button: the account stops working and every token it holds dies now."""
    _lock_admin_membership()
    user = _lock_staff_row(user)
    if user.is_active:
        _ensure_another_admin_remains(user)
        staff_rights_reduced.send(sender=User, user=user, reason="deactivated", roles_removed=[])
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
    user = _lock_staff_row(user)
    staff_rights_reduced.send(
        sender=User, user=user, reason="second_factor_reset", roles_removed=[]
    )
    enrolment = second_factor_enrol(user=user)
    tokens_revoke_all(user=user, reason="second factor reset")
    return enrolment
