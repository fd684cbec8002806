"""Step-up: a fresh TOTP code for an action that matters (approving or paying money, every
admin write, changing one's password), even from a client with a valid token.

Wrong codes are counted per token, apart from login: a stolen token cannot grow the throttle
its owner's authenticator faces at login. The code is checked with django-otp's `oath.TOTP`
(`SealedTOTPDevice.match`) against the device's replay guard, the one login uses too, never
through the device's `verify_token`, which would count towards the login throttle. After
STEP_UP_FAILURE_LIMIT wrong codes in a row the token that sent them is revoked.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from knox.models import AuthToken

from accounts.models import SealedTOTPDevice, TokenRecord, User
from accounts.services.tokens import token_revoke
from audit import writes
from audit.events import record_event
from audit.models import Action
from common.exceptions import DomainError


class StepUpFailed(DomainError):
    status_code = 403
    code = "step_up_failed"

    def __init__(self, *, left: int) -> None:
        super().__init__(
            _(
                "This needs a current code from your authenticator app, not used before. "
                "After %(left)s more wrong codes this token will be revoked."
            )
            % {"left": left},
            extra={"attempts_left": left},
        )


class StepUpTokenRevoked(DomainError):
    status_code = 401
    code = "token_revoked"

    def __init__(self) -> None:
        super().__init__(
            _("Too many wrong codes: this token has been revoked. Log in again to continue.")
        )


def step_up_verify(*, token: AuthToken, user: User, code: str, password: str | None = None) -> None:
    """Pass if `code` is a current TOTP code of `user`'s authenticator not used before (and,
    when `password` is given, it is `user`'s password); raise StepUpFailed (403) otherwise, or
    StepUpTokenRevoked (401) when this failure revokes `token`.

    A failure is committed before it is raised: call this outside any transaction that may
    roll back, or the failure would not be counted."""
    outcome = _check(token=token, user=user, code=code, password=password)
    if outcome is not None:
        raise outcome


@writes.atomic
def _check(*, token: AuthToken, user: User, code: str, password: str | None) -> DomainError | None:
    # The token's record first, then the device: concurrent step-ups with one token queue
    # here, so each failure is counted and the limit is exact.
    record = TokenRecord.objects.select_for_update().filter(token_id=token.pk).first()
    if record is None:
        # Revoked while this request was on its way, or issued before tokens had records. The
        # token's row stays locked until commit, so it cannot vanish under a new record.
        if not AuthToken.objects.select_for_update().filter(pk=token.pk).exists():
            return StepUpTokenRevoked()
        record = TokenRecord.objects.create(token_id=token.pk)
    if _matches(user=user, code=code, password=password):
        if record.step_up_failures:
            record.step_up_failures = 0
            record.save(update_fields=["step_up_failures"])
        return None
    record.step_up_failures += 1
    record.save(update_fields=["step_up_failures"])
    limit = settings.STEP_UP_FAILURE_LIMIT
    record_event(
        action=Action.STEP_UP_FAILED,
        instance=user,
        data={"failures": record.step_up_failures, "limit": limit},
    )
    if record.step_up_failures >= limit:
        token_revoke(token=token, reason="step-up failures")
        return StepUpTokenRevoked()
    return StepUpFailed(left=limit - record.step_up_failures)


def _matches(*, user: User, code: str, password: str | None) -> bool:
    device = (
        SealedTOTPDevice.objects.select_for_update(of=("self",))
        .select_related("data_key")
        .filter(user=user, confirmed=True)
        .first()
    )
    if device is None:
        return False
    # Both checks run whatever the first one answered: the time taken says nothing about which
    # of the two was wrong.
    password_ok = password is None or user.check_password(password)
    code_ok = device.match("".join(code.split()))
    if code_ok and password_ok:
        device.save(update_fields=["last_t", "drift", "last_used_at"])
    return code_ok and password_ok
