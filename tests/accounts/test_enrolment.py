"""Enrolment that only the staff member sees: the admin gets a single-use code, never a secret
or a password; the staff member chooses their password, gets their own secret, and confirms it
with a first code."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from accounts.models import EnrolmentCode, SealedTOTPDevice, User
from tests.accounts.helpers import (
    CONFIRM_URL,
    ENROL_URL,
    STAFF_URL,
    admin_post,
    login,
    staff_url,
)
from tests.dbdump import dump_database_text

pytestmark = pytest.mark.django_db

CHOSEN = "a long passphrase of my own 7"


def code_of(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def enrol(body: dict, ip: str = "10.8.0.1"):
    return login_like(ENROL_URL, body, ip)


def confirm(body: dict, ip: str = "10.8.0.1"):
    return login_like(CONFIRM_URL, body, ip)


def login_like(url: str, body: dict, ip: str):
    return APIClient(REMOTE_ADDR=ip).post(url, body, format="json")


@pytest.fixture
def admin(make_staff, client_for):
    staff = make_staff("admin")
    return staff, client_for(staff)


@pytest.fixture
def invited(admin) -> dict:
    """An account an admin created: its username and the enrolment code passed on."""
    staff, client = admin
    response = admin_post(client, staff, STAFF_URL, {"username": "leyla", "roles": ["auditor"]})
    assert response.status_code == 201
    return {"username": "leyla", "code": response.json()["enrolment"]["code"]}


def test_a_new_staff_member_enrols_confirms_and_logs_in(invited):
    redeemed = enrol({**invited, "password": CHOSEN})
    enrolment = redeemed.json()
    secret = parse_qs(urlparse(enrolment["otpauth_uri"]).query)["secret"][0]
    before_confirming = login(
        {"username": "leyla", "password": CHOSEN, "otp": code_of(secret)}, "10.8.0.2"
    )
    confirmed = confirm({**invited, "password": CHOSEN, "otp": code_of(secret)})
    later = login(
        {"username": "leyla", "password": CHOSEN, "otp": enrolment["backup_codes"][0]}, "10.8.0.3"
    )

    assert redeemed.status_code == 200
    assert enrolment["secret"] == secret
    assert len(enrolment["backup_codes"]) == 10
    assert before_confirming.status_code == 401  # not a working factor until confirmed
    assert confirmed.status_code == 200
    assert set(confirmed.json()) == {"token", "expiry", "user", "device_token"}
    assert confirmed.json()["user"] == {"username": "leyla", "roles": ["auditor"]}
    assert later.status_code == 200
    assert EnrolmentCode.objects.get().confirmed_at is not None


def test_the_creating_admin_holds_no_working_credential(invited):
    response_text = str(EnrolmentCode.objects.values())

    guesses = [
        login({"username": "leyla", "password": guess, "otp": "123456"}, f"10.8.1.{n}")
        for n, guess in enumerate(["", "leyla", invited["code"]])
    ]

    assert not User.objects.get(username="leyla").has_usable_password()
    assert not SealedTOTPDevice.objects.filter(user__username="leyla").exists()
    assert all(guess.status_code in (400, 401) for guess in guesses)
    assert invited["code"] not in response_text  # only a digest is kept
    assert invited["code"] not in dump_database_text()


def test_an_enrolment_code_works_once(invited):
    first = enrol({**invited, "password": CHOSEN})
    second = enrol({**invited, "password": "somebody elses passphrase 9"}, ip="10.8.2.2")

    assert first.status_code == 200
    assert second.status_code == 401
    assert second.json()["code"] == "login_failed"


def test_an_expired_enrolment_code_is_refused(invited):
    EnrolmentCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = enrol({**invited, "password": CHOSEN})

    assert response.status_code == 401
    assert timedelta(hours=24) == settings.STAFF_ENROLMENT_TTL


def test_the_code_lives_for_the_configured_hours(admin):
    staff, client = admin

    response = admin_post(client, staff, STAFF_URL, {"username": "timur", "roles": ["auditor"]})

    expires = EnrolmentCode.objects.get().expires_at
    assert abs(expires - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    assert response.json()["enrolment"]["expires_at"].startswith(expires.date().isoformat())


def test_guessing_enrolment_codes_is_stopped_by_the_lockout(invited):
    guesses = [
        enrol({**invited, "code": f"AAAA-BBBB-CCCC-DDD{n}", "password": CHOSEN}, f"10.8.3.{n}")
        for n in range(settings.LOGIN_FAILURE_LIMIT)
    ]
    with_the_right_code = enrol({**invited, "password": CHOSEN}, "10.8.4.1")

    assert [g.status_code for g in guesses][-1] == 429
    assert with_the_right_code.status_code == 429


def test_a_weak_password_is_refused_and_spends_nothing(invited):
    weak = enrol({**invited, "password": "password"})
    strong = enrol({**invited, "password": CHOSEN})

    assert weak.status_code == 400
    assert "password" in str(weak.json())
    assert strong.status_code == 200


def test_a_wrong_first_code_leaves_the_new_authenticator_unconfirmed(invited):
    enrolment = enrol({**invited, "password": CHOSEN}).json()
    secret = enrolment["secret"]
    wrong = "000000" if code_of(secret) != "000000" else "111111"

    refused = confirm({**invited, "password": CHOSEN, "otp": wrong})
    no_password = confirm({**invited, "password": "not my passphrase 1", "otp": code_of(secret)})
    SealedTOTPDevice.objects.update(  # a few seconds later: django-otp's throttle has passed
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=5)
    )
    right = confirm({**invited, "password": CHOSEN, "otp": code_of(secret, 1)})

    assert (refused.status_code, no_password.status_code) == (401, 401)
    assert right.status_code == 200


def test_after_a_reset_the_holder_enrols_with_their_current_password(admin, make_staff):
    staff, client = admin
    holder = make_staff("auditor")
    reset = admin_post(client, staff, staff_url(holder.user.pk, "reset-second-factor/"))
    invite = {"username": holder.user.username, "code": reset.json()["enrolment"]["code"]}

    without_password = enrol({**invite, "password": "a guess at the password 1"})
    with_password = enrol({**invite, "password": holder.password}, ip="10.8.5.2")
    secret = with_password.json()["secret"]
    confirmed = confirm({**invite, "password": holder.password, "otp": code_of(secret)})

    assert reset.json()["enrolment"] is not None
    assert without_password.status_code == 401
    assert with_password.status_code == 200
    assert confirmed.status_code == 200
    assert User.objects.get(pk=holder.user.pk).check_password(holder.password)


def test_a_new_code_withdraws_the_one_before(admin, invited):
    staff, client = admin
    leyla = User.objects.get(username="leyla")

    again = admin_post(client, staff, staff_url(leyla.pk, "reset-second-factor/"))
    old = enrol({**invited, "password": CHOSEN})
    new = enrol({**invited, "code": again.json()["enrolment"]["code"], "password": CHOSEN})

    assert old.status_code == 401
    assert new.status_code == 200


def test_a_deactivated_account_cannot_enrol(admin, invited):
    staff, client = admin
    leyla = User.objects.get(username="leyla")
    admin_post(client, staff, staff_url(leyla.pk, "deactivate/"))

    response = enrol({**invited, "password": CHOSEN})

    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"username": "leyla", "code": 42, "password": CHOSEN},
        {"username": "leyla", "password": CHOSEN},
        {"username": "leyla", "code": "x", "password": CHOSEN, "roles": ["admin"]},
    ],
)
def test_malformed_enrolment_bodies_are_400(invited, body):
    response = enrol(body)

    assert response.status_code == 400
