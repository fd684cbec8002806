"""Logging in: a password alone opens nothing, and no failure says which factor was wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.concurrency import run_at_once
from tests.conftest import LOGIN_URL
from tests.dbdump import dump_database_text

pytestmark = pytest.mark.django_db

FAILED = "Login failed: the username, password or one-time code is not valid."


def test_password_and_totp_give_a_token_with_expiry_and_roles(api_client, make_staff):
    staff = make_staff("caseworker", "coordinator")

    response = api_client.post(LOGIN_URL, staff.login_body(), format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"username": staff.user.username, "roles": ["caseworker", "coordinator"]}
    assert len(body["token"]) == 64  # 256 random bits, hex
    expiry = parse_datetime(body["expiry"])
    assert timedelta(hours=7, minutes=59) < expiry - timezone.now() <= timedelta(hours=8)
    me = api_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json()["username"] == staff.user.username


def test_password_without_second_factor_gets_no_token(api_client, make_staff):
    staff = make_staff()
    body = staff.login_body()
    del body["otp"]

    response = api_client.post(LOGIN_URL, body, format="json")

    assert response.status_code == 400
    assert "otp" in response.json()["fields"]
    assert "token" not in response.json()
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("otp", ["", "000000", "12345", "not-a-code", "1" * 33])
def test_wrong_second_factor_is_refused(api_client, make_staff, otp):
    staff = make_staff()
    if staff.totp() == otp:  # one chance in a million
        otp = "111111" if otp != "111111" else "222222"

    response = api_client.post(LOGIN_URL, staff.login_body(otp=otp), format="json")

    assert response.status_code in (400, 401)
    assert "token" not in response.json()
    assert not AuthToken.objects.exists()


def test_every_failure_gives_the_same_answer(api_client, make_staff):
    staff = make_staff()
    inactive = make_staff()
    inactive.user.is_active = False
    inactive.user.save()
    wrong_code = "000000" if staff.totp() != "000000" else "111111"
    attempts = {
        "wrong password": staff.login_body(password="not the password at all"),
        "wrong code": staff.login_body(otp=wrong_code),
        "unknown user": staff.login_body(username="nobody-here"),
        "inactive user": inactive.login_body(),
    }

    answers = {
        cause: api_client.post(LOGIN_URL, body, format="json", REMOTE_ADDR=f"10.9.0.{n}")
        for n, (cause, body) in enumerate(attempts.items())
    }

    for cause, response in answers.items():
        assert response.status_code == 401, cause
        assert response.json() == {"status": 401, "code": "login_failed", "message": FAILED}, cause


def test_replayed_totp_is_refused(api_client, make_staff):
    staff = make_staff()
    body = staff.login_body()

    first = api_client.post(LOGIN_URL, body, format="json")
    replay = api_client.post(LOGIN_URL, body, format="json")

    assert first.status_code == 200
    assert replay.status_code == 401
    assert AuthToken.objects.count() == 1


def test_a_later_totp_code_works_after_an_earlier_one(api_client, make_staff):
    staff = make_staff()

    first = api_client.post(LOGIN_URL, staff.login_body(), format="json")
    later = api_client.post(LOGIN_URL, staff.login_body(otp=staff.totp(1)), format="json")

    assert (first.status_code, later.status_code) == (200, 200)


def test_backup_code_works_once(api_client, make_staff):
    staff = make_staff()
    code = staff.backup_codes[0]

    first = api_client.post(LOGIN_URL, staff.login_body(otp=code.upper()), format="json")
    other = api_client.post(LOGIN_URL, staff.login_body(otp=staff.backup_codes[1]), format="json")
    again = api_client.post(LOGIN_URL, staff.login_body(otp=code), format="json")

    assert first.status_code == 200
    assert other.status_code == 200
    assert again.status_code == 401


def test_database_holds_no_raw_token(api_client, make_staff):
    staff = make_staff()

    token = api_client.post(LOGIN_URL, staff.login_body(), format="json").json()["token"]

    dump = dump_database_text()
    assert staff.user.username in dump  # the dump does read the tables
    assert token not in dump
    assert token[15:] not in dump  # not even the part knox does not use as a lookup key


def test_stored_password_is_an_argon2_hash(make_staff):
    staff = make_staff()

    assert staff.user.password.startswith("argon2$")
    assert staff.password not in staff.user.password


def test_username_is_matched_case_insensitively(api_client, make_staff):
    staff = make_staff(username="ruslan")

    response = api_client.post(LOGIN_URL, staff.login_body(username=" Ruslan "), format="json")

    assert response.status_code == 200


def test_login_answers_json_errors_for_malformed_bodies(api_client):
    not_json = api_client.post(LOGIN_URL, "{not json", content_type="application/json")
    form = api_client.post(
        LOGIN_URL, "username=a", content_type="application/x-www-form-urlencoded"
    )
    listed = api_client.post(LOGIN_URL, ["a"], format="json")

    assert not_json.status_code == 400
    assert not_json.json()["code"] == "parse_error"
    assert form.status_code == 415
    assert form.json()["status"] == 415
    assert listed.status_code == 400
    assert listed.json()["code"] == "invalid"


@pytest.mark.django_db(transaction=True)
def test_one_totp_code_sent_by_several_clients_at_once_logs_in_once(make_staff):
    staff = make_staff()
    body = staff.login_body()

    def attempt(n: int):
        return lambda: APIClient(REMOTE_ADDR=f"10.3.0.{n}").post(LOGIN_URL, body, format="json")

    responses = run_at_once(*(attempt(n) for n in range(4)))

    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401]
    assert AuthToken.objects.count() == 1


def test_a_username_that_normalises_to_an_impossible_length_is_refused(api_client):
    response = api_client.post(
        LOGIN_URL,
        {"username": "\ufdfa" * 100, "password": "x" * 12, "otp": "123456"},
        format="json",
    )

    assert response.status_code == 400
    assert "username" in response.json()["fields"]
