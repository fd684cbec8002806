"""Lockout and throttling, from the attacker's side, including across worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.concurrency import run_at_once
from tests.conftest import LOGIN_URL

ROOT = Path(__file__).resolve().parents[2]
LIMIT = settings.AXES_FAILURE_LIMIT


def login(body: dict, ip: str, **headers: str):
    return APIClient(REMOTE_ADDR=ip).post(LOGIN_URL, body, format="json", **headers)


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def login_in_other_process(ip: str, attempts: list[dict], **env: str) -> list[list]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.login_process",
            json.dumps({"remote_addr": ip, "attempts": attempts}),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_with_a_json_429(make_staff):
    staff = make_staff()
    wrong = staff.login_body(password="definitely-wrong-password")

    statuses = [login(wrong, f"10.0.0.{n}").status_code for n in range(LIMIT)]
    locked = login(staff.login_body(), "10.0.1.1")

    assert statuses == [401] * (LIMIT - 1) + [429]
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert locked.json()["status"] == 429
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "token" not in locked.json()


@pytest.mark.django_db
def test_wrong_one_time_codes_count_towards_the_lockout(make_staff):
    staff = make_staff()
    wrong_code = "000000" if staff.totp() != "000000" else "111111"

    for n in range(LIMIT):
        login(staff.login_body(otp=wrong_code), f"10.0.2.{n}")
    locked = login(staff.login_body(), "10.0.3.1")

    assert locked.status_code == 429


@pytest.mark.django_db
def test_username_spelling_does_not_escape_the_lockout(make_staff):
    staff = make_staff(username="zelimkhan")
    spellings = ["zelimkhan", "Zelimkhan", "ZELIMKHAN ", " zelimkhan", "ZelimKhan"]

    for n, spelling in enumerate(spellings[:LIMIT]):
        login(staff.login_body(username=spelling, password="wrong-password-1"), f"10.0.4.{n}")
    locked = login(staff.login_body(), "10.0.5.1")

    assert locked.status_code == 429


@pytest.mark.django_db
def test_a_client_address_guessing_many_accounts_is_locked_out(make_staff):
    victim = make_staff()

    for n in range(LIMIT):
        login({"username": f"guess-{n}", "password": "password-guess", "otp": "123456"}, "10.0.6.6")
    response = login(victim.login_body(), "10.0.6.6")

    assert response.status_code == 429


@pytest.mark.django_db
def test_forged_forwarded_for_headers_do_not_evade_the_address_lockout(make_staff):
    victim = make_staff()

    for n in range(LIMIT):
        body = {"username": f"guess-{n}", "password": "password-guess", "otp": "123456"}
        login(body, "10.0.7.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = login(victim.login_body(), "10.0.7.7", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 429


@pytest.mark.django_db
def test_a_successful_login_does_not_reset_failures_against_the_address(make_staff):
    insider, colleague = make_staff(), make_staff()

    for n in range(LIMIT - 1):
        login(colleague.login_body(password=f"guess-number-{n}"), "10.0.8.8")
    own = login(insider.login_body(), "10.0.8.8")
    next_guess = login(colleague.login_body(password="guess-number-x"), "10.0.8.8")

    assert own.status_code == 200
    assert next_guess.status_code == 429


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off(make_staff):
    staff = make_staff()
    for n in range(LIMIT):
        login(staff.login_body(password="definitely-wrong-password"), f"10.0.9.{n}")
    assert login(staff.login_body(), "10.0.10.1").status_code == 429

    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    response = login(staff.login_body(otp=staff.totp(1)), "10.0.10.1")

    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_lockout_count_is_shared_between_worker_processes(make_staff):
    staff = make_staff()
    wrong = staff.login_body(password="definitely-wrong-password")
    assert LIMIT == 5

    first_worker = login_in_other_process("10.1.0.1", [wrong] * 3)
    second_worker = login_in_other_process("10.1.0.2", [wrong] * 2)
    here = login(staff.login_body(), "10.1.0.3")

    assert [status for status, _ in first_worker] == [401, 401, 401]
    assert second_worker == [[401, "login_failed"], [429, "locked_out"]]
    assert here.status_code == 429


@pytest.mark.django_db(transaction=True)
@override_settings(LOGIN_THROTTLE_RATE="4/min")
def test_the_login_throttle_is_shared_between_worker_processes():
    guess = {"username": "someone", "password": "password-guess", "otp": "123456"}

    first_worker = login_in_other_process("10.2.0.1", [guess] * 2, LOGIN_THROTTLE_RATE="4/min")
    second_worker = login_in_other_process("10.2.0.1", [guess] * 2, LOGIN_THROTTLE_RATE="4/min")
    here = login(guess, "10.2.0.1")

    assert first_worker + second_worker == [[401, "login_failed"]] * 4
    assert here.status_code == 429
    assert here.json()["code"] == "throttled"
    assert int(here["Retry-After"]) > 0


@pytest.mark.django_db(transaction=True)
def test_simultaneous_guesses_get_no_more_tries_than_the_limit(make_staff, monkeypatch):
    staff = make_staff()
    checked = []
    real_check = User.check_password

    def counting_check(user, raw_password):
        checked.append(raw_password)
        return real_check(user, raw_password)

    monkeypatch.setattr(User, "check_password", counting_check)

    def guess(n: int):
        return lambda: login(staff.login_body(password=f"parallel-guess-{n}"), f"10.4.0.{n}")

    statuses = [r.status_code for r in run_at_once(*(guess(n) for n in range(12)))]

    assert len(checked) == LIMIT
    assert sorted(statuses) == [401] * (LIMIT - 1) + [429] * (12 - LIMIT + 1)
