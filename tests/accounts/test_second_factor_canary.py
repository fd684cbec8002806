"""The plaintext canary for second factors: after enrolment, login, step-up and reset, no TOTP
secret (hex or base32), no backup code, no enrolment code, password or token appears in the
database dump (`pg_dump` on PostgreSQL, `iterdump` on SQLite), the logs or the audit log."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import SealedTOTPDevice
from audit.models import LogEntry
from tests.accounts.helpers import (
    CONFIRM_URL,
    ENROL_URL,
    STAFF_URL,
    a_wrong_code,
    admin_post,
    login,
    staff_url,
)
from tests.accounts.test_enrolment import code_of
from tests.people.test_plaintext_canary import database_dump, occurrences

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "canary passphrase nobody else knows 31"


def secrets_of(device: SealedTOTPDevice) -> list[str]:
    return [device.secret, device.secret.upper(), device.base32_secret]


def redeem_and_confirm(username: str, code: str, password: str) -> tuple[dict, dict]:
    client = APIClient(REMOTE_ADDR="10.10.0.1")
    body = {"username": username, "code": code, "password": password}
    enrolment = client.post(ENROL_URL, body, format="json").json()
    confirmed = client.post(
        CONFIRM_URL, {**body, "otp": code_of(enrolment["secret"])}, format="json"
    ).json()
    return enrolment, confirmed


def test_no_second_factor_secret_is_stored_logged_or_audited_in_clear(
    make_staff, client_for, caplog
):
    caplog.set_level(logging.DEBUG)
    admin = make_staff("admin")
    needles = [*secrets_of(admin.device), *admin.backup_codes, admin.password]
    client = client_for(admin)

    # Enrolment: an admin creates the account, its holder redeems and confirms
    created = admin_post(client, admin, STAFF_URL, {"username": "canary", "roles": ["auditor"]})
    first_code = created.json()["enrolment"]["code"]
    enrolment, confirmed = redeem_and_confirm("canary", first_code, PASSWORD)
    first_secret = SealedTOTPDevice.objects.get(user__username="canary")
    needles += [first_code, first_code.replace("-", ""), *secrets_of(first_secret)]
    needles += [*enrolment["backup_codes"], PASSWORD, confirmed["token"], confirmed["device_token"]]

    # Login, with a backup code and with the device token
    by_backup = login(
        {"username": "canary", "password": PASSWORD, "otp": enrolment["backup_codes"][0]},
        "10.10.0.2",
        confirmed["device_token"],
    )
    needles += [by_backup.json()["token"]]

    # Step-up: a wrong code and a right one
    client.post(staff_url(first_secret.user_id, "revoke-tokens/"), {"otp": a_wrong_code(admin)})
    admin_post(client, admin, staff_url(first_secret.user_id, "revoke-tokens/"))

    # Reset through the API (and enrol again), and from the command line
    reset = admin_post(client, admin, staff_url(first_secret.user_id, "reset-second-factor/"))
    second_code = reset.json()["enrolment"]["code"]
    enrolment_again, _ = redeem_and_confirm("canary", second_code, PASSWORD)
    needles += [second_code, *secrets_of(SealedTOTPDevice.objects.get(user__username="canary"))]
    needles += enrolment_again["backup_codes"]
    call_command("reset_second_factor", admin.user.username, stdout=io.StringIO())
    needles += secrets_of(SealedTOTPDevice.objects.get(user=admin.user))

    dump = database_dump()
    audit_text = "\n".join(
        f"{entry.object_repr} {entry.changes} {entry.additional_data}"
        for entry in LogEntry.objects.all()
    )
    assert "canary" in dump  # the dump really holds the staff table
    assert created.status_code == 201
    assert by_backup.status_code == 200
    for needle in needles:
        found = {
            "database dump": occurrences(dump, needle),
            "log output": occurrences(caplog.text, needle),
            "audit entries": occurrences(audit_text, needle),
        }
        assert found == dict.fromkeys(found, 0), f"a secret ({len(needle)} chars) leaked"
