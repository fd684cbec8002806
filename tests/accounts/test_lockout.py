"""The lockout from the attacker's side: strangers cannot lock staff out, a device token never
grants unlimited guesses, and every counter holds across worker processes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import DeviceToken, LoginFailure, User
from accounts.services import staff_deactivate, staff_reactivate
from tests.accounts.helpers import a_wrong_code, in_other_process, known_device, login
from tests.concurrency import run_at_once
from tests.dbdump import dump_database_text

LIMIT = settings.LOGIN_FAILURE_LIMIT
COOLOFF = int(settings.LOGIN_COOLOFF.total_seconds())


def stranger_guesses(ip: str, count: int = LIMIT, **headers: str) -> list[int]:
    """Made-up names and passwords from one address: what anyone on the internet can send."""
    return [
        login(
            {"username": f"guess-{n}", "password": "password-guess", "otp": "123456"},
            ip,
            **headers,
        ).status_code
        for n in range(count)
    ]


def time_passes(seconds: float) -> None:
    LoginFailure.objects.update(at=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_for_unknown_devices_with_a_json_429(make_staff):
    staff = make_staff()
    wrong = staff.login_body(password="definitely-wrong-password")

    statuses = [login(wrong, f"10.0.0.{n}").status_code for n in range(LIMIT)]
    locked = login(staff.login_body(), "10.0.1.1")

    assert statuses == [401] * (LIMIT - 1) + [429]
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert locked.json()["status"] == 429
    assert COOLOFF - 5 <= int(locked["Retry-After"]) <= COOLOFF
    assert "token" not in locked.json()


@pytest.mark.django_db
def test_wrong_one_time_codes_count_towards_the_lockout(make_staff):
    staff = make_staff()

    for n in range(LIMIT):
        login(staff.login_body(otp=a_wrong_code(staff)), f"10.0.2.{n}")
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
def test_strangers_on_an_address_hold_up_new_devices_there_but_not_known_ones(make_staff):
    # Given a staff member who logged in from this device before, behind a shared address
    victim = make_staff()
    device_token = known_device(victim, ip="10.0.6.6")

    # When a stranger on the same address fails five times with made-up names
    guesses = stranger_guesses("10.0.6.6")

    # Then the known device still logs in; a new device on that address must wait
    from_known = login(victim.login_body(otp=victim.fresh_totp()), "10.0.6.6", device_token)
    from_new = login(victim.login_body(otp=victim.fresh_totp()), "10.0.6.6")
    assert guesses[: LIMIT - 1] == [401] * (LIMIT - 1)
    assert from_known.status_code == 200
    assert from_new.status_code == 429
    assert from_new.json()["code"] == "locked_out"
    assert 0 < int(from_new["Retry-After"]) <= 15


@pytest.mark.django_db
def test_an_address_never_locks_the_accounts_it_did_not_try(make_staff):
    victim = make_staff()

    stranger_guesses("10.0.7.7", count=LIMIT * 3)
    elsewhere = login(victim.login_body(), "10.0.8.8")

    assert elsewhere.status_code == 200


@pytest.mark.django_db
def test_the_address_delay_doubles_with_each_further_failure_and_then_passes(make_staff):
    victim = make_staff()
    stranger_guesses("10.0.9.9")

    time_passes(16)  # past the first delay: one more guess is let through...
    stranger_guesses("10.0.9.9", count=1)
    right_after = login(victim.login_body(), "10.0.9.9")

    assert LoginFailure.objects.count() == LIMIT + 1
    assert right_after.status_code == 429
    assert 15 < int(right_after["Retry-After"]) <= 30  # ...and the next wait is twice as long
    time_passes(31)
    assert login(victim.login_body(), "10.0.9.9").status_code == 200


@pytest.mark.django_db
def test_forged_forwarded_for_headers_do_not_evade_the_address_limit(make_staff):
    victim = make_staff()

    for n in range(LIMIT):
        body = {"username": f"guess-{n}", "password": "password-guess", "otp": "123456"}
        login(body, "10.0.10.10", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = login(victim.login_body(), "10.0.10.10", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 429


@pytest.mark.django_db
def test_a_successful_login_does_not_reset_failures_against_the_address(make_staff):
    insider, colleague = make_staff(), make_staff()

    for n in range(LIMIT - 1):
        login(colleague.login_body(password=f"guess-number-{n}"), "10.0.11.11")
    own = login(insider.login_body(), "10.0.11.11")
    next_guess = login(colleague.login_body(password="guess-number-x"), "10.0.11.11")

    assert own.status_code == 200
    assert next_guess.status_code == 429


@pytest.mark.django_db
def test_the_account_lockout_ends_after_the_cool_off(make_staff):
    staff = make_staff()
    for n in range(LIMIT):
        login(staff.login_body(password="definitely-wrong-password"), f"10.0.12.{n}")
    assert login(staff.login_body(), "10.0.13.1").status_code == 429

    time_passes(COOLOFF + 1)
    response = login(staff.login_body(otp=staff.totp(1)), "10.0.13.1")

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_locked_account_still_opens_from_a_device_that_logged_in_before(make_staff):
    # Given the owner's device, and an attacker who locked the account for everyone else
    owner = make_staff()
    device_token = known_device(owner)
    for n in range(LIMIT):
        login(owner.login_body(password=f"attacker-guess-{n}"), f"203.0.113.{n}")
    assert login(owner.login_body(otp=owner.fresh_totp()), "198.51.100.1").status_code == 429

    # When the owner logs in from their device
    response = login(owner.login_body(otp=owner.fresh_totp()), "198.51.100.1", device_token)

    # Then it opens, and the device keeps its token
    assert response.status_code == 200
    assert response.json()["device_token"] == device_token


@pytest.mark.django_db
def test_a_device_token_that_keeps_sending_wrong_passwords_is_locked(make_staff):
    owner = make_staff()
    device_token = known_device(owner)

    statuses = [
        login(owner.login_body(password=f"guess-{n}"), "10.0.14.1", device_token).status_code
        for n in range(LIMIT + 3)
    ]
    right_password = login(owner.login_body(otp=owner.fresh_totp()), "10.0.14.1", device_token)

    assert statuses == [401] * (LIMIT - 1) + [429] * 4
    assert right_password.status_code == 429  # no unlimited guesses with a device token
    time_passes(COOLOFF + 1)
    later = login(owner.login_body(otp=owner.fresh_totp()), "10.0.14.1", device_token)
    assert later.status_code == 200


@pytest.mark.django_db
def test_failures_with_a_device_token_count_against_it_not_the_account(make_staff):
    owner = make_staff()
    device_token = known_device(owner)

    for n in range(LIMIT):
        login(owner.login_body(password=f"typo-{n}"), "10.0.15.1", device_token)
    other_device = login(owner.login_body(otp=owner.fresh_totp()), "10.0.16.1")

    assert other_device.status_code == 200


@pytest.mark.django_db
def test_a_device_token_of_another_account_is_an_unknown_device(make_staff):
    insider, victim = make_staff(), make_staff()
    insiders_token = known_device(insider)
    for n in range(LIMIT):
        login(victim.login_body(password=f"guess-{n}"), f"10.0.17.{n}")

    response = login(victim.login_body(), "10.0.18.1", insiders_token)

    assert response.status_code == 429


@pytest.mark.django_db
@pytest.mark.parametrize("tamper", ["signature", "secret", "garbage", "too long"])
def test_a_forged_or_altered_device_token_is_an_unknown_device(make_staff, tamper):
    owner = make_staff()
    token = known_device(owner)
    body, _, signature = token.rpartition(":")
    forged = {
        "signature": f"{body}:{signature[::-1]}",
        "secret": f"{body[:-3]}abc:{signature}",
        "garbage": "not-a-device-token",
        "too long": token * 10,
    }[tamper]
    for n in range(LIMIT):
        login(owner.login_body(password=f"attacker-{n}"), f"10.0.19.{n}")

    response = login(owner.login_body(otp=owner.fresh_totp()), "10.0.20.1", forged)

    assert response.status_code == 429


@pytest.mark.django_db
def test_a_device_token_dies_with_deactivation(make_staff):
    owner = make_staff()
    token = known_device(owner)

    staff_deactivate(user=owner.user)
    staff_reactivate(user=owner.user)
    for n in range(LIMIT):
        login(owner.login_body(password=f"attacker-{n}"), f"10.0.21.{n}")
    response = login(owner.login_body(otp=owner.fresh_totp()), "10.0.21.9", token)

    assert not DeviceToken.objects.filter(user=owner.user).exists()
    assert response.status_code == 429


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_BY_ADDRESS=False)
def test_with_address_limits_off_strangers_on_a_shared_address_hold_up_nobody(make_staff):
    # Behind a Tor onion service every client shares one address
    victim = make_staff()

    guesses = stranger_guesses("127.0.0.1", count=LIMIT * 2)
    response = login(victim.login_body(), "127.0.0.1")

    assert guesses == [401] * (LIMIT * 2)
    assert response.status_code == 200
    assert not LoginFailure.objects.exclude(address=None).exists()


@pytest.mark.django_db
@override_settings(LOGIN_LIMIT_BY_ADDRESS=False)
def test_with_address_limits_off_the_account_lockout_still_holds(make_staff):
    victim = make_staff()

    for n in range(LIMIT):
        login(victim.login_body(password=f"guess-{n}"), "127.0.0.1")

    assert login(victim.login_body(), "127.0.0.1").status_code == 429


@pytest.mark.django_db
def test_failed_attempts_keep_no_typed_name_and_no_request_data(make_staff):
    # A password typed into the username field, by mistake
    typed = "kadyrov-hunts-us-2026"
    staff = make_staff()

    login({"username": typed, "password": "the-real-password-x", "otp": "123456"}, "10.0.22.1")
    login(staff.login_body(password="wrong-password-typed"), "10.0.22.1")

    rows = list(LoginFailure.objects.values_list("account", "address"))
    dump = dump_database_text()
    assert len(rows) == 2
    assert all(len(account) == 64 and len(address) == 64 for account, address in rows)
    assert "10.0.22.1" not in "".join(address for _, address in rows)
    for secret in (typed, "the-real-password-x", "wrong-password-typed"):
        assert secret not in dump


@pytest.mark.django_db
def test_purge_forgets_old_failures_and_unused_device_tokens(make_staff):
    staff = make_staff()
    known_device(staff)
    login(staff.login_body(password="wrong-password-once"), "10.0.23.1")
    old = timezone.now() - settings.LOGIN_ATTEMPT_RETENTION - timedelta(minutes=1)
    LoginFailure.objects.update(at=old)
    DeviceToken.objects.update(last_used_at=old)
    login(staff.login_body(password="wrong-password-again"), "10.0.23.1")

    output = io.StringIO()
    call_command("purge_login_attempts", stdout=output)

    assert "Forgot 1 login failure(s) and 1 device token(s)" in output.getvalue()

    assert LoginFailure.objects.count() == 1
    assert not DeviceToken.objects.exists()


@pytest.mark.django_db
def test_a_device_token_unused_for_the_retention_period_is_no_longer_known(make_staff):
    owner = make_staff()
    token = known_device(owner)
    DeviceToken.objects.update(
        last_used_at=timezone.now() - settings.LOGIN_ATTEMPT_RETENTION - timedelta(minutes=1)
    )
    for n in range(LIMIT):
        login(owner.login_body(password=f"guess-{n}"), f"10.0.24.{n}")

    assert login(owner.login_body(otp=owner.fresh_totp()), "10.0.25.1", token).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_the_account_lockout_count_is_shared_between_worker_processes(make_staff):
    staff = make_staff()
    wrong = staff.login_body(password="definitely-wrong-password")
    assert LIMIT == 5

    first_worker = in_other_process("10.1.0.1", [wrong] * 3)
    second_worker = in_other_process("10.1.0.2", [wrong] * 2)
    here = login(staff.login_body(), "10.1.0.3")

    assert [status for status, _ in first_worker] == [401, 401, 401]
    assert second_worker == [[401, "login_failed"], [429, "locked_out"]]
    assert here.status_code == 429


@pytest.mark.django_db(transaction=True)
def test_the_address_and_device_token_counts_are_shared_between_worker_processes(make_staff):
    owner, victim = make_staff(), make_staff()
    device_token = known_device(owner)
    guess = {"username": "someone", "password": "password-guess", "otp": "123456"}
    wrong = owner.login_body(password="definitely-wrong-password")

    strangers = in_other_process("10.1.1.1", [guess] * LIMIT)
    typos = in_other_process("10.1.1.2", [wrong] * LIMIT, device_token=device_token)
    new_device_there = login(victim.login_body(), "10.1.1.1")
    with_locked_token = login(owner.login_body(), "10.1.1.2", device_token)

    assert [status for status, _ in strangers] == [401] * (LIMIT - 1) + [429]
    assert [status for status, _ in typos] == [401] * (LIMIT - 1) + [429]
    assert new_device_there.status_code == 429
    assert with_locked_token.status_code == 429


@pytest.mark.django_db(transaction=True)
@override_settings(LOGIN_THROTTLE_RATE="4/min")
def test_the_login_throttle_is_shared_between_worker_processes():
    guess = {"username": "someone", "password": "password-guess", "otp": "123456"}
    env = {"env": {"LOGIN_THROTTLE_RATE": "4/min", "LOGIN_FAILURE_LIMIT": "100"}}

    first_worker = in_other_process("10.2.0.1", [guess] * 2, **env)
    second_worker = in_other_process("10.2.0.1", [guess] * 2, **env)
    here = login(guess, "10.2.0.1")

    assert [status for status, _ in first_worker + second_worker] == [401, 401, 401, 401]
    assert here.status_code == 429
    assert here.json()["code"] == "throttled"
    assert int(here["Retry-After"]) > 0


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_RATE="3/min", LOGIN_FAILURE_LIMIT=100)
def test_a_known_device_is_not_held_up_by_the_login_rate_limit_of_its_address(make_staff):
    owner = make_staff()
    device_token = known_device(owner, ip="10.2.1.1")

    stranger_guesses("10.2.1.1", count=3)
    new_device = login(owner.login_body(otp=owner.fresh_totp()), "10.2.1.1")
    own_device = login(owner.login_body(otp=owner.fresh_totp()), "10.2.1.1", device_token)

    assert new_device.json()["code"] == "throttled"
    assert own_device.status_code == 200


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
