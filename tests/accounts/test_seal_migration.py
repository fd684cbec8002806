"""Migration 0004 moves every stock django-otp device into the sealed ones, proves each sealed
copy, and empties the stock tables; with a wrong or missing key it refuses and changes nothing.

Each test takes the database back to before the migration, creates stock devices as the old
release did (secrets in clear), and runs the migration forward."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django_otp.oath import TOTP

from accounts.models import BackupCode, SealedTOTPDevice, User
from encryption.keyring import new_key_text
from encryption.services import data_key_issue
from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("accounts", "0003_sealed_devices_lockout_enrolment_changes")
SEALING = ("accounts", "0004_seal_second_factors")
PASSWORD = "correct horse battery staple 42"
HEX_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key
BACKUP = ["abcdefgh", "ijklmnop"]
STOCK = [("otp_totp", "0003_add_timestamps"), ("otp_static", "0003_add_timestamps")]


def old_apps():
    """The models as the old release knew them (django-otp's stock devices)."""
    return MigrationExecutor(connection).loader.project_state([BEFORE, *STOCK]).apps


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


@pytest.fixture
def before_sealing() -> Iterator[None]:
    migrate(BEFORE)
    try:
        yield
    finally:
        migrate_to_leaves()  # the rest of the suite needs the whole schema


def migrate_to_leaves() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@transaction.atomic
def old_release_staff(username: str) -> User:
    """A staff member as the old release left them: stock devices, secrets in clear."""
    apps = old_apps()
    user = User.objects.create_user(username=username, password=PASSWORD)
    totp = apps.get_model("otp_totp", "TOTPDevice")
    static = apps.get_model("otp_static", "StaticDevice")
    token = apps.get_model("otp_static", "StaticToken")
    totp.objects.create(user_id=user.pk, name="authenticator", key=HEX_KEY, confirmed=True)
    device = static.objects.create(user_id=user.pk, name="backup codes", confirmed=True)
    for code in BACKUP:
        token.objects.create(device=device, token=code)
    return user


def stock_rows() -> tuple[int, int, int]:
    apps = old_apps()
    return tuple(
        apps.get_model(app, model).objects.count()
        for app, model in (
            ("otp_totp", "TOTPDevice"),
            ("otp_static", "StaticDevice"),
            ("otp_static", "StaticToken"),
        )
    )


def code_now() -> str:
    totp = TOTP(bytes.fromhex(HEX_KEY))
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_every_stock_device_is_sealed_and_still_logs_in(before_sealing):
    old_release_staff("amina")
    old_release_staff("ruslan")

    migrate(SEALING)

    assert stock_rows() == (0, 0, 0)
    assert SealedTOTPDevice.objects.count() == 2
    assert BackupCode.objects.count() == 4
    device = SealedTOTPDevice.objects.select_related("data_key").get(user__username="amina")
    assert device.secret == HEX_KEY
    body = {"username": "amina", "password": PASSWORD}
    assert login({**body, "otp": code_now()}, "10.6.0.1").status_code == 200
    assert login({**body, "otp": BACKUP[0]}, "10.6.0.1").status_code == 200
    assert login({**body, "otp": BACKUP[0]}, "10.6.0.1").status_code == 401  # spent


@pytest.mark.parametrize("keys", ["missing", "wrong"])
def test_with_a_missing_or_wrong_key_the_migration_refuses_and_changes_nothing(
    before_sealing, keys
):
    user = old_release_staff("khadija")
    with transaction.atomic():
        data_key_issue(owner=user)  # data already wrapped by the configured key
    kek_id = settings.ENCRYPTION_KEKS.split(":")[0]
    configured = {
        "missing": f"other:{new_key_text()}",
        "wrong": f"{kek_id}:{new_key_text()}",
    }[keys]

    with (
        override_settings(ENCRYPTION_KEKS=configured),
        pytest.raises(ImproperlyConfigured, match=repr(kek_id)),
    ):
        migrate(SEALING)

    assert stock_rows() == (1, 1, 2)
    assert not SealedTOTPDevice.objects.exists()
    assert not BackupCode.objects.exists()


def test_going_back_opens_the_secrets_into_stock_devices_again(before_sealing):
    old_release_staff("zelimkhan")
    migrate(SEALING)

    migrate(BEFORE)

    apps = old_apps()
    restored = apps.get_model("otp_totp", "TOTPDevice").objects.get()
    assert restored.key == HEX_KEY
    assert not SealedTOTPDevice.objects.exists()
    assert stock_rows()[2] == 0  # backup codes cannot come back from their digests
