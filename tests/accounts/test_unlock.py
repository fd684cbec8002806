"""An admin unlocks an account the login lockout holds: at once, with a fresh code, audited,
and the answer says whether the addresses that tried it are free too. Only admins may."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import RequestFactory

from accounts import lockout
from accounts.models import LoginFailure, SealedTOTPDevice
from audit.models import Action, LogEntry
from tests.accounts.helpers import a_wrong_code, admin_post, known_device, login, staff_url

pytestmark = pytest.mark.django_db

LIMIT = settings.LOGIN_FAILURE_LIMIT


def lock_out(staff, ip: str) -> None:
    """The account's own failures from a new device: it is locked for new devices."""
    for _ in range(LIMIT):
        login(staff.login_body(password="wrong-password-here"), ip)
    assert login(staff.login_body(), "198.51.100.200").status_code == 429


def strangers_failed_from(ip: str) -> None:
    """Failures for made-up names from `ip`, filed as the lockout files them (the address is
    already slowed by then, so sending them would only be refused, not counted)."""
    request = RequestFactory().post("/api/v1/auth/login/", REMOTE_ADDR=ip)
    for n in range(LIMIT):
        attempt = lockout.attempt_begin(request=request, username=f"guess-{n}", device_token=None)
        lockout.failure_record(attempt)


def unlock(client_for, admin, target, **body):
    return admin_post(client_for(admin), admin, staff_url(target.user.pk, "unlock/"), body)


def test_an_admin_unlocks_a_locked_out_account(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker")
    lock_out(target, "203.0.113.5")

    response = unlock(client_for, admin, target)

    body = response.json()
    assert response.status_code == 200
    assert body["failures_cleared"] == LIMIT
    assert body["address_unlocked"] is True
    assert body["addresses_still_slowed"] == 0
    assert "No address that tried it is slowed down now." in body["note"]
    # From the very address the failures came from, and from a new one.
    assert login(target.login_body(), "203.0.113.5").status_code == 200


def test_the_answer_says_when_the_address_stays_slowed_by_others_failures(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker")
    office = "203.0.113.9"
    lock_out(target, office)
    strangers_failed_from(office)  # failures for other names from the same office address

    response = unlock(client_for, admin, target)

    assert response.json()["address_unlocked"] is False
    assert response.json()["addresses_still_slowed"] == 1
    assert response.json()["address_failures_cleared"] == 0
    assert "still slowed down" in response.json()["note"]
    assert login(target.login_body(), office).status_code == 429
    assert login(target.login_body(), "198.51.100.7").status_code == 200


def test_an_unlock_with_the_addresses_frees_the_office_address_too(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker")
    office = "203.0.113.10"
    lock_out(target, office)
    strangers_failed_from(office)

    response = unlock(client_for, admin, target, addresses=True)

    assert response.json()["address_unlocked"] is True
    assert response.json()["address_failures_cleared"] == LIMIT
    assert login(target.login_body(), office).status_code == 200


def test_unlock_frees_a_locked_device_token_and_the_authenticator_throttle(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker")
    device = known_device(target)
    for _ in range(LIMIT):
        login(target.login_body(otp=a_wrong_code(target)), "192.0.2.1", device_token=device)
    assert login(target.login_body(), "192.0.2.1", device_token=device).status_code == 429
    assert SealedTOTPDevice.objects.get(user=target.user).throttling_failure_count > 0

    response = unlock(client_for, admin, target)

    assert response.json()["second_factor_throttle_reset"] is True
    assert SealedTOTPDevice.objects.get(user=target.user).throttling_failure_count == 0
    again = login(target.login_body(otp=target.fresh_totp()), "192.0.2.1", device_token=device)
    assert again.status_code == 200


def test_an_unlock_is_audited_with_counts_and_no_name_or_address(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker", username="unlock-audited")
    lock_out(target, "203.0.113.77")

    unlock(client_for, admin, target)

    entry = LogEntry.objects.filter(action=Action.ACCOUNT_UNLOCKED).get()
    assert entry.actor_id == admin.user.pk
    assert str(entry.object_pk) == str(target.user.pk)
    recorded = str(entry.additional_data)
    assert "failures_cleared" in recorded
    assert "203.0.113.77" not in recorded


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "auditor"])
def test_nobody_but_an_admin_can_unlock(make_staff, client_for, role):
    caller, target = make_staff(role), make_staff("caseworker")
    lock_out(target, "203.0.113.20")

    response = unlock(client_for, caller, target)

    assert response.status_code == 403
    assert LoginFailure.objects.count() == LIMIT
    assert login(target.login_body(), "198.51.100.21").status_code == 429


@pytest.mark.parametrize("otp", ["missing", "wrong"])
def test_an_unlock_without_a_fresh_code_is_refused(make_staff, client_for, otp):
    admin, target = make_staff("admin"), make_staff("caseworker")
    lock_out(target, "203.0.113.30")
    body = {} if otp == "missing" else {"otp": a_wrong_code(admin)}

    response = client_for(admin).post(staff_url(target.user.pk, "unlock/"), body, format="json")

    assert response.status_code == (400 if otp == "missing" else 403)
    assert login(target.login_body(), "198.51.100.31").status_code == 429
    assert not LogEntry.objects.filter(action=Action.ACCOUNT_UNLOCKED).exists()


def test_a_replayed_code_does_not_unlock(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker")
    client = client_for(admin)
    code = admin.fresh_totp()
    used = client.post(staff_url(target.user.pk, "unlock/"), {"otp": code}, format="json")
    assert used.status_code == 200
    lock_out(target, "203.0.113.40")

    replay = client.post(staff_url(target.user.pk, "unlock/"), {"otp": code}, format="json")

    assert replay.status_code == 403
    assert login(target.login_body(), "198.51.100.41").status_code == 429
