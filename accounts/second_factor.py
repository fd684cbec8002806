"""Second factors (django-otp): one TOTP device and ten single-use backup codes per person.

A TOTP code is accepted once: django-otp remembers the last time step used, and the device
row is locked while a code is checked, so two requests carrying the same code at the same
instant cannot both pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

BACKUP_CODE_COUNT = 10
MAX_CODE_LENGTH = 32
TOTP_DIGITS = 6


@dataclass(frozen=True)
class Enrolment:
    """What a new device's owner needs once; shown to them and never stored in the clear
    anywhere else by this module."""

    otpauth_uri: str
    backup_codes: list[str]


@transaction.atomic
def second_factor_enrol(*, user: User) -> Enrolment:
    """Replace every device of `user` with a fresh TOTP device and new backup codes."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    totp = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    backup = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    for code in codes:  # one by one: bulk_create would skip the audit log's signals
        StaticToken.objects.create(device=backup, token=code)
    return Enrolment(otpauth_uri=totp.config_url, backup_codes=codes)


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_verify(*, user: User, code: str, totp_only: bool = False) -> bool:
    """True if `code` is a current, unused TOTP code or (unless `totp_only`) an unused backup
    code of `user`.

    The check consumes the code either way it succeeds; a failure counts towards django-otp's
    per-device throttle, which is stored in the database and so shared by all workers. Call it
    outside any transaction that may roll back, or a failure would not be counted.
    """
    code = "".join(code.split()).lower()
    if not code or len(code) > MAX_CODE_LENGTH:
        return False
    # TOTP codes are six digits; backup codes are eight base32 characters.
    is_totp = code.isdigit() and len(code) == TOTP_DIGITS
    if totp_only and not is_totp:
        return False
    device_model = TOTPDevice if is_totp else StaticDevice
    with transaction.atomic():
        devices = device_model.objects.select_for_update().filter(user=user, confirmed=True)
        return any(device.verify_token(code) for device in devices.order_by("pk"))
