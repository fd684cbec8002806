"""A browser session lives exactly as long as its token and its activity: everything that ends
tokens ends it too, idleness ends it, and the API never accepts it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import (
    second_factor_reset,
    staff_deactivate,
    token_issue,
    tokens_revoke_all,
)
from audit.models import Action, LogEntry
from tests.test_settings import PRODUCTION_ENV, manage
from tests.web.helpers import ACCOUNT, LOGIN, LOGOUT, sign_in_through_the_form, text_of

pytestmark = pytest.mark.django_db


def _deactivate(user) -> None:
    staff_deactivate(user=user)


def _reset_second_factor(user) -> None:
    second_factor_reset(user=user)


def _revoke_all(user) -> None:
    tokens_revoke_all(user=user, reason="revoked by admin")


def _expire(user) -> None:
    AuthToken.objects.filter(user=user).update(expiry=timezone.now() - timedelta(seconds=1))


def _logout_all_through_the_api(user) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
    assert api.post("/api/v1/auth/logout-all/").status_code == 200


ENDINGS: dict[str, Callable] = {
    "deactivation": _deactivate,
    "second-factor reset": _reset_second_factor,
    "admin revocation": _revoke_all,
    "logout-all in the API": _logout_all_through_the_api,
    "the token's expiry": _expire,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_whatever_ends_the_token_ends_the_browser_session_at_its_next_request(
    make_staff, page_client_for, ending
):
    staff = make_staff(Role.CASEWORKER)
    client = page_client_for(staff)
    assert client.get(ACCOUNT).status_code == 200

    ENDINGS[ending](staff.user)
    response = client.get(ACCOUNT)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Faccount%2F&ended=revoked"
    assert not Session.objects.exists()
    assert "Your session has ended. Please sign in again." in text_of(
        client.get(response["Location"])
    )
    assert client.get(ACCOUNT).status_code == 302  # and it stays ended


def test_signing_out_revokes_the_token_with_an_audited_entry_naming_the_person(
    make_staff, page_client_for
):
    staff = make_staff()
    client = page_client_for(staff)

    response = client.post(LOGOUT)

    assert response["Location"] == "/login/?ended=signed_out"
    assert not AuthToken.objects.filter(user=staff.user).exists()
    revoked = LogEntry.objects.filter(action=Action.TOKEN_REVOKED).get()
    assert revoked.actor_id == staff.user.pk
    assert revoked.additional_data == {"count": 1, "reason": "logout"}
    assert client.get(ACCOUNT).status_code == 302
    assert "You have signed out." in text_of(client.get(response["Location"]))


def test_an_idle_session_ends_and_its_token_is_revoked(make_staff, page_client_for, settings):
    staff = make_staff()
    client = page_client_for(staff)
    settings.UI_IDLE_TIMEOUT = timedelta(seconds=-1)  # every gap is now longer than allowed

    response = client.get(ACCOUNT)

    assert response["Location"] == "/login/?next=%2Faccount%2F&ended=idle"
    assert not AuthToken.objects.filter(user=staff.user).exists()
    revoked = LogEntry.objects.filter(action=Action.TOKEN_REVOKED).get()
    assert revoked.additional_data["reason"] == "idle timeout"
    assert "idle for too long" in text_of(client.get(response["Location"]))


def test_activity_keeps_a_session_alive_and_every_page_says_when_it_would_end(
    make_staff, page_client_for, settings
):
    settings.UI_IDLE_TIMEOUT = timedelta(minutes=15)
    client = page_client_for(make_staff())
    before = timezone.now()

    pages = [client.get(ACCOUNT) for _ in range(3)]

    assert [page.status_code for page in pages] == [200, 200, 200]
    ends = pages[-1].context["web_session"].idle_ends_at
    assert before + timedelta(minutes=15) <= ends <= timezone.now() + timedelta(minutes=15)
    assert "If you leave this session idle, it ends at" in text_of(pages[-1])


def test_the_token_expiry_is_the_sessions_absolute_end(make_staff, page_client_for):
    staff = make_staff()
    client = page_client_for(staff)
    soon = timezone.now() + timedelta(minutes=5)
    AuthToken.objects.filter(user=staff.user).update(expiry=soon)

    page = client.get(ACCOUNT)

    assert page.context["web_session"].ends_at == soon
    assert "when your sign-in expires" in text_of(page)


def test_the_api_never_accepts_a_session_cookie(make_staff):
    client = Client()
    sign_in_through_the_form(client, make_staff())
    assert client.get(ACCOUNT).status_code == 200

    response = client.get("/api/v1/auth/me/")

    assert response.status_code == 401


def test_session_cookies_are_httponly_strict_and_die_with_the_browser(make_staff):
    client = Client()
    client.get(LOGIN)
    response = sign_in_through_the_form(client, make_staff())

    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        cookie = response.cookies[name]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert not cookie["max-age"]
        assert not cookie["expires"]
        assert cookie["path"] == "/"
        assert not cookie["domain"]


def test_production_cookies_are_secure_and_host_prefixed():
    shown = "; ".join(
        f"{name}={{settings.{name}!r}}"
        for name in (
            "SESSION_COOKIE_NAME",
            "CSRF_COOKIE_NAME",
            "LANGUAGE_COOKIE_NAME",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "LANGUAGE_COOKIE_SECURE",
            "SESSION_ENGINE",
        )
    )
    code = f"from django.conf import settings; print(f'{shown}')"

    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "SESSION_COOKIE_NAME='__Host-sp_session'; CSRF_COOKIE_NAME='__Host-sp_csrf'; "
        "LANGUAGE_COOKIE_NAME='__Host-sp_language'; SESSION_COOKIE_SECURE=True; "
        "CSRF_COOKIE_SECURE=True; LANGUAGE_COOKIE_SECURE=True; "
        "SESSION_ENGINE='django.contrib.sessions.backends.db'"
    )
