"""Second factors: one sealed TOTP device and ten single-use backup codes per person
(`accounts.models.devices`).

A TOTP code is accepted once: the device remembers the last time step used (`last_t`, shared by
login and step-up), and its row is locked while a code is checked, so two requests carrying the
same code at the same instant cannot both pass.
"""

from __future__ import annotations

import secrets
from base64 import b32encode
from dataclasses import dataclass

from django.db import transaction

from accounts.models import BackupCode, BackupCodeDevice, SealedTOTPDevice, User
from accounts.models.devices import backup_code_digest
from encryption.services import data_key_destroy, data_key_issue

BACKUP_CODE_COUNT = 10
MAX_CODE_LENGTH = 32
TOTP_DIGITS = 6


@dataclass(frozen=True)
class Enrolment:
    """What a new device's owner needs once: shown to them, never stored in the clear."""

    otpauth_uri: str
    secret: str  # base32, for typing into an authenticator app by hand
    backup_codes: list[str]


def new_backup_code() -> str:
    """Eight base32 characters (40 random bits), as django-otp's static tokens."""
    return b32encode(secrets.token_bytes(5)).decode("ascii").lower()


@transaction.atomic
def second_factor_remove(*, user: User) -> None:
    """Delete every device of `user` and destroy the TOTP secrets' data keys, so no copy of a
    secret (a replica, an export of the rows) opens again."""
    for device in SealedTOTPDevice.objects.select_for_update().filter(user=user):
        data_key = device.data_key
        device.delete()
        data_key_destroy(data_key=data_key)
    for backup in BackupCodeDevice.objects.select_for_update().filter(user=user):
        backup.delete()


@transaction.atomic
def second_factor_enrol(*, user: User, confirmed: bool = True) -> Enrolment:
    """Replace every device of `user` with a fresh TOTP device and new backup codes.

    `confirmed=False` (an enrolment redeemed through the API) leaves both unusable until the
    owner proves the new authenticator with a first code (`second_factor_confirm`)."""
    second_factor_remove(user=user)
    totp = SealedTOTPDevice(user=user, name="authenticator", confirmed=confirmed)
    totp.data_key = data_key_issue(owner=totp)
    totp.secret = SealedTOTPDevice.new_secret()
    totp.save()
    backup = BackupCodeDevice.objects.create(user=user, name="backup codes", confirmed=confirmed)
    codes = [new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    for code in codes:  # one by one: bulk_create would skip the audit log's signals
        BackupCode.objects.create(
            device=backup, digest=backup_code_digest(device_id=backup.pk, code=code)
        )
    return Enrolment(otpauth_uri=totp.config_url, secret=totp.base32_secret, backup_codes=codes)


@transaction.atomic
def second_factor_confirm(*, user: User, code: str) -> bool:
    """Confirm `user`'s new, unconfirmed devices with a first TOTP code. The check is
    django-otp's, throttled; call it outside any transaction that may roll back."""
    device = (
        SealedTOTPDevice.objects.select_for_update(of=("self",))
        .filter(user=user, confirmed=False)
        .select_related("data_key")
        .first()
    )
    if device is None or not device.verify_token(_normalized(code)):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    for backup in BackupCodeDevice.objects.select_for_update().filter(user=user, confirmed=False):
        backup.confirmed = True
        backup.save(update_fields=["confirmed"])
    return True


def has_second_factor(user: User) -> bool:
    return SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _normalized(code: str) -> str:
    return "".join(code.split()).lower()


def second_factor_verify(*, user: User, code: str) -> bool:
    """True if `code` is a current, unused TOTP code or an unused backup code of `user`.

    The check consumes the code when it succeeds; a failure counts towards django-otp's
    per-device throttle, which is stored in the database and so shared by all workers. Call it
    outside any transaction that may roll back, or a failure would not be counted.
    """
    code = _normalized(code)
    if not code or len(code) > MAX_CODE_LENGTH:
        return False
    # TOTP codes are six digits; backup codes are eight base32 characters.
    is_totp = code.isascii() and code.isdigit() and len(code) == TOTP_DIGITS
    with transaction.atomic():
        if is_totp:
            devices = SealedTOTPDevice.objects.select_related("data_key")
        else:
            devices = BackupCodeDevice.objects.all()
        devices = devices.select_for_update(of=("self",)).filter(user=user, confirmed=True)
        devices = devices.order_by("pk")
        return any(device.verify_token(code) for device in devices)
