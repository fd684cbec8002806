"""Enrolment codes: a new account, or one whose second factor was reset, gets its own TOTP
secret and backup codes without anyone else ever holding them.

An admin (through the API) receives a single-use code, valid for STAFF_ENROLMENT_TTL_HOURS,
and passes it on. The staff member redeems it (`POST auth/enrol/`) with the password they
choose for a new account, or their current one after a reset, and receives their secret and
backup codes; the enrolment ends when they confirm the new authenticator with a first code
(`POST auth/enrol/confirm/`), which also logs them in. Only a keyed digest of the code is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import lockout
from accounts.models import EnrolmentCode, User, normalize_username
from accounts.second_factor import Enrolment, second_factor_confirm, second_factor_enrol
from accounts.services.login import LoginFailed, guarded_attempt, session_open
from accounts.services.tokens import IssuedToken
from audit import writes
from encryption.keyring import keyring

ENROLMENT_CODE_LABEL = "accounts.enrolment-code"
CODE_BYTES = 10  # 80 random bits: sixteen base32 characters, typed in four groups


@dataclass(frozen=True)
class IssuedEnrolmentCode:
    code: str  # shown once, to the admin who passes it on
    expires_at: datetime


def normalize_enrolment_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def enrolment_code_digest(code: str) -> str:
    key = keyring().index_key_for(ENROLMENT_CODE_LABEL)
    text = normalize_enrolment_code(code).encode("utf-8", "surrogatepass")
    return hmac.new(key, text, hashlib.sha256).hexdigest()


@writes.atomic
def enrolment_code_issue(
    *, user: User, purpose: str, issued_by: User | None
) -> IssuedEnrolmentCode:
    """A new code for `user`; any code still open for them is withdrawn (one at a time)."""
    now = timezone.now()
    enrolment_codes_withdraw(user=user, now=now)
    text = b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")
    code = "-".join(text[i : i + 4] for i in range(0, len(text), 4))
    issued = EnrolmentCode.objects.create(
        user=user,
        purpose=purpose,
        digest=enrolment_code_digest(code),
        issued_by=issued_by,
        created_at=now,
        expires_at=now + settings.STAFF_ENROLMENT_TTL,
    )
    return IssuedEnrolmentCode(code=code, expires_at=issued.expires_at)


@writes.atomic
def enrolment_codes_withdraw(*, user: User, now: datetime | None = None) -> None:
    now = now or timezone.now()
    open_codes = EnrolmentCode.objects.select_for_update().filter(
        user=user, confirmed_at__isnull=True, withdrawn_at__isnull=True, expires_at__gt=now
    )
    for code in open_codes:  # one by one, so each withdrawal is audited
        code.withdrawn_at = now
        code.save(update_fields=["withdrawn_at"])


def _open_code(*, user: User | None, code: str, redeemed: bool) -> EnrolmentCode | None:
    """`user`'s open code matching `code`: not yet redeemed (or, with `redeemed`, redeemed and
    waiting for its first TOTP code)."""
    if user is None or not user.is_active:
        return None
    digest = enrolment_code_digest(code)
    candidates = EnrolmentCode.objects.select_for_update().filter(
        user=user,
        redeemed_at__isnull=not redeemed,
        confirmed_at__isnull=True,
        withdrawn_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    found = None
    for candidate in candidates:
        if hmac.compare_digest(candidate.digest, digest):
            found = candidate
    return found


def _hash_anyway(password: str) -> None:
    """Hash the password as a real check would, so how long a failure takes does not say
    whether the name or the code was wrong (Django's ModelBackend does the same at login)."""
    make_password(password)


def _enrolment_failed() -> LoginFailed:
    return LoginFailed(
        _("Enrolment failed: the username, enrolment code or password is not valid.")
    )


def _confirmation_failed() -> LoginFailed:
    return LoginFailed(
        _("Enrolment failed: the username, enrolment code, password or one-time code is not valid.")
    )


def enrolment_redeem(
    *,
    request: HttpRequest,
    username: str,
    code: str,
    password: str,
    device_token: str | None = None,
) -> Enrolment:
    """The staff member's new TOTP secret and backup codes, not usable until confirmed.

    Raises LoginFailed (401) for a wrong name, code or (after a reset) password, counted by
    the lockout like a failed login; a weak new password is a ValidationError (400) that
    spends nothing."""

    def attempt(_who: lockout.Attempt) -> Enrolment | None:
        user = User.objects.filter(username=name).first()
        enrolment = _open_code(user=user, code=code, redeemed=False)
        if user is None or enrolment is None:
            _hash_anyway(password)
            return None
        if enrolment.purpose == EnrolmentCode.Purpose.RESET:
            if not user.check_password(password):
                return None
        else:
            validate_password(password, user)
            user.set_password(password)
            user.save(update_fields=["password"])
        enrolment.redeemed_at = timezone.now()
        enrolment.save(update_fields=["redeemed_at"])
        return second_factor_enrol(user=user, confirmed=False)

    name = normalize_username(username)
    return guarded_attempt(
        request=request,
        username=username,
        device_token=device_token,
        step="enrol",
        failure=_enrolment_failed,
        attempt=attempt,
    )


def enrolment_confirm(
    *,
    request: HttpRequest,
    username: str,
    code: str,
    password: str,
    otp: str,
    device_token: str | None = None,
) -> IssuedToken:
    """Confirm the new authenticator with a first code: the enrolment ends, and the staff
    member is logged in (an API token and a device token, as from a login)."""

    def attempt(who: lockout.Attempt) -> IssuedToken | None:
        user = User.objects.filter(username=name).first()
        enrolment = _open_code(user=user, code=code, redeemed=True)
        if user is None or enrolment is None:
            _hash_anyway(password)
            return None
        if not user.check_password(password):
            return None
        if not second_factor_confirm(user=user, code=otp):
            return None
        enrolment.confirmed_at = timezone.now()
        enrolment.save(update_fields=["confirmed_at"])
        return session_open(request=request, user=user, attempt=who, data={"enrolment": True})

    name = normalize_username(username)
    return guarded_attempt(
        request=request,
        username=username,
        device_token=device_token,
        step="enrol_confirm",
        failure=_confirmation_failed,
        attempt=attempt,
    )
