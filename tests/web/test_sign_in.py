"""Signing in to the web pages: one form, through the API's own login service, lockout,
throttle and audit entries; from the attacker's side where it matters."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import Action, LogEntry
from tests.conftest import LOGIN_URL
from tests.web.helpers import LOGIN, LOGOUT, sign_in_through_the_form, text_of

pytestmark = pytest.mark.django_db

GENERIC_FAILURE = "Sign-in failed: the username, password or code is not valid."


@pytest.mark.parametrize(
    ("roles", "landing"),
    [
        ([Role.CASEWORKER], "/cases/"),
        ([Role.COORDINATOR], "/cases/"),
        ([Role.AUDITOR], "/reports/"),
        ([Role.ADMIN], "/staff/"),
        ([Role.AUDITOR, Role.ADMIN], "/reports/"),
    ],
)
def test_a_totp_code_signs_in_and_home_sends_each_role_to_its_main_page(make_staff, roles, landing):
    staff = make_staff(*roles)
    client = Client()

    signed_in = sign_in_through_the_form(client, staff)
    home = client.get(signed_in["Location"])

    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/"
    assert home.status_code == 302
    assert home["Location"] == landing
    assert client.get(landing).status_code == 200


def test_a_backup_code_signs_in_once(make_staff):
    staff = make_staff()
    code = staff.backup_codes[0]

    first = sign_in_through_the_form(Client(), staff, otp=code)
    again = sign_in_through_the_form(Client(), staff, otp=code)

    assert first.status_code == 302
    assert again.status_code == 401
    assert GENERIC_FAILURE in text_of(again)


@pytest.mark.parametrize("wrong", ["password", "otp", "username"])
def test_any_wrong_factor_gets_one_generic_message_and_an_audited_failure(make_staff, wrong):
    staff = make_staff()
    bad = {"password": "not-the-password", "otp": "000000", "username": "nobody-here"}[wrong]

    response = sign_in_through_the_form(Client(), staff, **{wrong: bad})

    assert response.status_code == 401
    assert GENERIC_FAILURE in text_of(response)
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    failure = LogEntry.objects.filter(action=Action.LOGIN_FAILED).get()
    assert failure.additional_data["known_account"] is (wrong != "username")
    assert not AuthToken.objects.filter(user=staff.user).exists()


def test_a_form_missing_fields_is_a_400_that_names_them_and_counts_nothing(make_staff):
    response = Client().post(LOGIN, {"username": "someone"})

    assert response.status_code == 400
    assert text_of(response).count("This field is required.") == 2
    assert not LogEntry.objects.filter(action=Action.LOGIN_FAILED).exists()


def test_failures_lock_the_account_for_the_web_and_the_api_alike(make_staff):
    staff = make_staff()
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in_through_the_form(client, staff, password="wrong-password")

    slowed = sign_in_through_the_form(client, staff)
    locked = sign_in_through_the_form(Client(REMOTE_ADDR="203.0.113.70"), staff)
    api = APIClient(REMOTE_ADDR="198.51.100.9").post(LOGIN_URL, staff.login_body(), format="json")

    cooloff = int(settings.LOGIN_COOLOFF.total_seconds())
    assert slowed.status_code == 429
    assert 0 < int(slowed["Retry-After"]) <= cooloff
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("text/html")
    assert cooloff - 10 <= int(locked["Retry-After"]) <= cooloff
    assert f"Try again in {cooloff // 60} minutes, or from a device" in text_of(locked)
    assert api.status_code == 429
    assert not AuthToken.objects.filter(user=staff.user).exists()


def test_a_browser_that_signed_in_before_is_not_held_up_by_strangers_failures(make_staff):
    staff = make_staff()
    known = Client(REMOTE_ADDR="203.0.113.10")
    first = sign_in_through_the_form(known, staff)
    device_cookie = known.cookies[settings.UI_DEVICE_COOKIE_NAME]
    known.post(LOGOUT)
    stranger = Client(REMOTE_ADDR="198.51.100.10")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in_through_the_form(stranger, staff, password="wrong-password")

    refused = sign_in_through_the_form(Client(REMOTE_ADDR="203.0.113.10"), staff)
    again = sign_in_through_the_form(known, staff, otp=staff.totp(steps_ahead=1))

    assert first.status_code == 302
    assert device_cookie["httponly"]
    assert device_cookie["samesite"] == "Strict"
    assert refused.status_code == 429
    assert again.status_code == 302


def test_the_lockout_message_is_in_russian_with_the_right_plural(make_staff):
    staff = make_staff()
    client = Client(REMOTE_ADDR="203.0.113.8", HTTP_ACCEPT_LANGUAGE="ru")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in_through_the_form(client, staff, password="wrong-password")

    locked = sign_in_through_the_form(
        Client(REMOTE_ADDR="203.0.113.80", HTTP_ACCEPT_LANGUAGE="ru"), staff
    )

    assert locked.status_code == 429
    assert "Попробуйте снова через 15 минут, или" in text_of(locked)


def test_the_web_and_the_api_share_one_sign_in_rate_per_address(make_staff, settings):
    settings.LOGIN_THROTTLE_RATE = "2/min"
    staff = make_staff()
    address = "203.0.113.9"

    web = [
        sign_in_through_the_form(Client(REMOTE_ADDR=address), staff, password="wrong").status_code
        for _ in range(2)
    ]
    api = APIClient(REMOTE_ADDR=address).post(LOGIN_URL, staff.login_body(), format="json")
    again = sign_in_through_the_form(Client(REMOTE_ADDR=address), staff)

    assert web == [401, 401]
    assert api.status_code == 429
    assert again.status_code == 429
    assert int(again["Retry-After"]) > 0
    assert "Too many sign-in attempts from this address." in text_of(again)


def test_signing_in_replaces_a_planted_session_and_the_csrf_secret(make_staff):
    staff = make_staff()
    client = Client()
    client.get(LOGIN)
    planted = "attackerchosenkey0123456789abcdef"
    client.cookies[settings.SESSION_COOKIE_NAME] = planted
    csrf_before = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = sign_in_through_the_form(client, staff)

    session_key = response.cookies[settings.SESSION_COOKIE_NAME].value
    assert session_key
    assert session_key != planted
    assert response.cookies[settings.CSRF_COOKIE_NAME].value != csrf_before
    assert Session.objects.filter(session_key=session_key).exists()


def test_the_session_keeps_only_the_tokens_digest_and_a_time(make_staff):
    staff = make_staff()
    client = Client()

    response = sign_in_through_the_form(client, staff)

    session = Session.objects.get(session_key=response.cookies[settings.SESSION_COOKIE_NAME].value)
    data = session.get_decoded()
    token = AuthToken.objects.get(user=staff.user)
    assert set(data) == {"web.token", "web.seen"}
    assert data["web.token"] == token.digest
    assert len(token.digest) == 128  # knox's SHA-512 of the token, never the token itself


def test_signing_in_writes_the_same_audit_entries_as_the_api(make_staff):
    staff = make_staff()

    sign_in_through_the_form(Client(), staff)

    entries = LogEntry.objects.filter(object_pk=str(staff.user.pk)).order_by("sequence")
    actions = [entry.action for entry in entries if entry.action >= Action.LOGIN]
    assert actions == [Action.LOGIN, Action.TOKEN_ISSUED]
    assert all(entry.actor_id == staff.user.pk for entry in entries if entry.action >= 10)


@pytest.mark.parametrize(
    "next_path", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_sends_the_browser_to_another_site(make_staff, next_path):
    response = Client().post(
        f"{LOGIN}?next={next_path}", {**make_staff().login_body(), "next": next_path}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_sign_in_returns_to_the_page_that_asked_for_it(make_staff):
    client = Client()
    asked = client.get("/account/")

    response = client.post(asked["Location"], {**make_staff().login_body(), "next": "/account/"})

    assert asked["Location"] == "/login/?next=%2Faccount%2F"
    assert response["Location"] == "/account/"


def test_a_signed_in_visitor_of_the_sign_in_page_goes_home(make_staff):
    client = Client()
    sign_in_through_the_form(client, make_staff())

    assert client.get(LOGIN)["Location"] == "/"


def test_the_sign_in_form_keeps_nothing_in_the_browser(make_staff):
    page = Client().get(LOGIN).content.decode()

    for name in ("username", "password", "otp"):
        field = page[page.index(f'name="{name}"') - 200 : page.index(f'name="{name}"') + 200]
        assert 'autocomplete="off"' in field
        assert 'spellcheck="false"' in field
    assert 'method="post"' in page
