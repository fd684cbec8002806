"""Logging in, and the one guard every credential check goes through (login, enrolment): the
lockout (`accounts.lockout`), a failure counted and audited, one answer for every cause."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth import authenticate, user_logged_in
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts import lockout
from accounts.models import User, normalize_username
from accounts.second_factor import second_factor_verify
from accounts.services.tokens import IssuedToken, token_issue
from audit.context import audit_context
from audit.events import record_event
from audit.models import Action
from common.exceptions import DomainError

Result = TypeVar("Result")


class LoginFailed(DomainError):
    status_code = 401
    code = "login_failed"

    def __init__(self, message: str | None = None) -> None:
        # One message for every cause: it must not say which factor was wrong, nor whether
        # the account exists or is active.
        super().__init__(
            message or _("Login failed: the username, password or one-time code is not valid.")
        )


def guarded_attempt(
    *,
    request: HttpRequest,
    username: str,
    device_token: str | None,
    step: str,
    failure: Callable[[], DomainError],
    attempt: Callable[[lockout.Attempt], Result | None],
) -> Result:
    """Run `attempt` (which checks credentials and returns None when they are wrong) under the
    lockout: refused while locked, a failure counted against the device token or the account
    and address, and audited as `login_failed` (`step` says which door: login, enrol,
    enrol_confirm). Raises `failure()` or the lockout's 429 once the failure is committed."""
    username = normalize_username(username)
    with transaction.atomic():
        who = lockout.attempt_begin(request=request, username=username, device_token=device_token)
        refused = lockout.refusal(who)
        result = None if refused is not None else attempt(who)
        if result is None:
            if refused is None:
                lockout.failure_record(who)
                refused = lockout.refusal(who)  # this failure may be the one that locks
            _record_failure(username=username, step=step, locked=refused is not None)
    # Raised only now, so the failure's records (the count, the audit entry) are committed.
    if result is None:
        raise refused if refused is not None else failure()
    return result


def _record_failure(*, username: str, step: str, locked: bool) -> None:
    """Audit a failure, never with the password or the code. The name tried is kept only as
    the account it names: anything else typed into the username field (a password, by
    mistake) must not stay in an append-only log."""
    account = User.objects.filter(username=username).first()
    record_event(
        action=Action.LOGIN_FAILED,
        instance=account,
        model=User,
        actor=None,
        data={"known_account": account is not None, "locked_out": locked, "step": step},
    )


def login(
    *,
    request: HttpRequest,
    username: str,
    password: str,
    otp: str,
    device_token: str | None = None,
) -> IssuedToken:
    """Password and second factor together, or nothing. Returns the API token and the device
    token this device should send back as `X-Device-Token` from now on."""

    def attempt(who: lockout.Attempt) -> IssuedToken | None:
        user = authenticate(request=request, username=who_name, password=password)
        if user is None or not second_factor_verify(user=user, code=otp):
            return None
        return session_open(request=request, user=user, attempt=who, data={})

    who_name = normalize_username(username)
    return guarded_attempt(
        request=request,
        username=username,
        device_token=device_token,
        step="login",
        failure=LoginFailed,
        attempt=attempt,
    )


def session_open(
    *, request: HttpRequest, user: User, attempt: lockout.Attempt, data: dict
) -> IssuedToken:
    """After a successful check: audit the login, issue the API token and the device token."""
    with audit_context(actor=user):
        record_event(
            action=Action.LOGIN,
            instance=user,
            data={**data, "known_device": attempt.device is not None},
        )
        issued = token_issue(user=user, request=request)
        device_token = lockout.device_token_issue(user=user, attempt=attempt)
        user_logged_in.send(sender=User, request=request, user=user)
    return IssuedToken(
        user=user, token=issued.token, expiry=issued.expiry, device_token=device_token
    )
