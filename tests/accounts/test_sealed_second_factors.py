"""Second factors a stolen dump cannot replay: the secrets are sealed under keys outside the
database, the backup codes are keyed digests, and a key rotation locks nobody out."""

from __future__ import annotations

import binascii
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode, BackupCodeDevice, SealedTOTPDevice
from accounts.services import second_factor_reset
from encryption.keyring import new_key_text
from encryption.models import DataKey
from encryption.services import data_keys_rotate
from tests.accounts.helpers import login
from tests.dbdump import dump_database_text

pytestmark = pytest.mark.django_db


def stored_secret_bytes(device: SealedTOTPDevice) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret FROM {SealedTOTPDevice._meta.db_table} WHERE id = %s",
            [device.pk.hex if connection.vendor == "sqlite" else str(device.pk)],
        )
        return bytes(cursor.fetchone()[0])


def codes_from(key: bytes) -> set[str]:
    """What an attacker computes from `key` for the steps around now."""
    totp = TOTP(key, 30, 0, 6, 0)
    codes = set()
    for offset in (-1, 0, 1):
        totp.time = time.time() + offset * 30
        codes.add(f"{totp.token():06d}")
    return codes


def test_the_database_holds_no_second_factor_secret_and_no_backup_code(make_staff):
    staff = make_staff()
    device = staff.device

    dump = dump_database_text().lower()

    assert staff.user.username in dump  # the dump does read the tables
    assert device.secret.lower() not in dump  # the secret as hex
    assert device.base32_secret.lower() not in dump  # as base32, as in the enrolment URI
    assert binascii.hexlify(device.bin_key).decode() not in dump
    assert not any(code in dump for code in staff.backup_codes)
    assert not TOTPDevice.objects.exists()


def test_a_code_computed_from_the_stored_bytes_does_not_log_in(make_staff):
    staff = make_staff()
    stored = stored_secret_bytes(staff.device)
    guesses = set()
    for candidate in (stored, stored[-20:], stored[17 + 12 : 17 + 12 + 20], stored[:20]):
        guesses |= codes_from(candidate)
    guesses -= codes_from(staff.device.bin_key)  # never fails by accident

    statuses = {
        login(staff.login_body(otp=code), f"10.5.0.{n}").status_code
        for n, code in enumerate(sorted(guesses)[:4])
    }

    assert statuses == {401}


def test_a_backup_code_digest_copied_to_another_account_opens_nothing(make_staff):
    victim, attacker = make_staff(), make_staff()
    attackers = BackupCodeDevice.objects.get(user=attacker.user)
    for code in BackupCode.objects.filter(device__user=victim.user):
        BackupCode.objects.create(device=attackers, digest=code.digest)

    response = login(attacker.login_body(otp=victim.backup_codes[0]), "10.5.1.1")

    assert response.status_code == 401


def test_a_key_rotation_keeps_every_staff_member_able_to_log_in(make_staff):
    staff = [make_staff("caseworker"), make_staff("coordinator"), make_staff("admin")]
    new_kek = f"rotated:{new_key_text()}"

    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        rewrapped = data_keys_rotate()
    with override_settings(ENCRYPTION_KEKS=new_kek):  # the old key removed
        by_code = [login(s.login_body(), f"10.5.2.{n}").status_code for n, s in enumerate(staff)]
        by_backup = login(staff[0].login_body(otp=staff[0].backup_codes[0]), "10.5.2.9")

    assert rewrapped == len(staff)
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {"rotated"}
    assert by_code == [200, 200, 200]
    assert by_backup.status_code == 200


def test_a_reset_crypto_shreds_the_old_secret(make_staff):
    staff = make_staff()
    old_key = staff.device.data_key

    second_factor_reset(user=staff.user)

    old_key.refresh_from_db()
    assert old_key.wrapped is None
    assert old_key.destroyed_at is not None


@pytest.mark.parametrize(("waited", "status"), [(200, 401), (301, 200)])
def test_no_throttle_delay_grows_past_the_cap(make_staff, waited, status):
    # Given a device that failed fifty times: django-otp alone would wait 2^49 seconds
    staff = make_staff()
    SealedTOTPDevice.objects.filter(user=staff.user).update(
        throttling_failure_count=50,
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=waited),
    )

    response = login(staff.login_body(), "10.5.3.1")

    assert settings.OTP_THROTTLE_MAX_SECONDS == 300
    assert response.status_code == status


def test_the_stock_devices_that_keep_secrets_in_clear_cannot_be_written(make_staff):
    staff = make_staff()

    with pytest.raises(RuntimeError, match="in clear"):
        TOTPDevice.objects.create(user=staff.user, name="clear")
