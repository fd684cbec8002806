"""Quick exit: one POST from any page ends the session and its token at once and lands on a
page with no trace of this product; a stale form cannot stop it."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from knox.models import AuthToken

from audit.models import Action, LogEntry
from tests.test_settings import PRODUCTION_ENV, manage
from tests.web.helpers import ACCOUNT, EXIT, NEUTRAL, controls_of, text_of

pytestmark = pytest.mark.django_db


def test_quick_exit_ends_the_session_and_its_token_and_clears_the_site(make_staff, page_client_for):
    staff = make_staff()
    client = page_client_for(staff)

    response = client.post(EXIT)

    assert response.status_code == 302
    assert response["Location"] == NEUTRAL
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert not AuthToken.objects.filter(user=staff.user).exists()
    assert not Session.objects.exists()
    revoked = LogEntry.objects.filter(action=Action.TOKEN_REVOKED).get()
    assert revoked.actor_id == staff.user.pk
    assert revoked.additional_data["reason"] == "quick exit"
    assert client.get(ACCOUNT).status_code == 302


def _form_token(response) -> str:
    return response.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def test_quick_exit_works_from_a_form_gone_stale(make_staff):
    # Given a page rendered before signing in (in another tab, say): signing in rotated the
    # CSRF secret, so that page's forms carry a token that is no longer valid.
    staff = make_staff()
    client = Client(enforce_csrf_checks=True)
    stale = _form_token(client.get("/login/"))
    signed_in = client.post("/login/", {**staff.login_body(), "csrfmiddlewaretoken": stale})
    assert signed_in.status_code == 302
    assert client.post("/logout/", {"csrfmiddlewaretoken": stale}).status_code == 403

    response = client.post(EXIT, {"csrfmiddlewaretoken": stale})

    assert response["Location"] == NEUTRAL
    assert not AuthToken.objects.filter(user=staff.user).exists()
    assert client.get(ACCOUNT).status_code == 302


def test_the_neutral_page_carries_no_trace_of_the_product():
    response = Client().get(NEUTRAL)

    page = controls_of(response)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert page.urls == []  # no stylesheet, script, link or form of ours
    assert page.controls == []
    for trace in ("Safe Passage", "safe passage", "static", "login", "case", "exit", "session"):
        assert trace.lower() not in html.lower(), trace
    assert "flatbread" in text_of(response)


def test_the_neutral_page_speaks_the_browsers_language():
    response = Client(HTTP_ACCEPT_LANGUAGE="ru").get(NEUTRAL)

    assert "лепёшки" in text_of(response)


def test_quick_exit_can_leave_for_another_site_the_pages_allow_as_a_form_target():
    code = (
        "from django.conf import settings; "
        "print(settings.UI_QUICK_EXIT_URL, settings.CONTENT_SECURITY_POLICY['DIRECTIVES']"
        "['form-action'])"
    )
    env = {**PRODUCTION_ENV, "UI_QUICK_EXIT_URL": "https://weather.example.org/today"}

    result = manage("shell", "--no-imports", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "https://weather.example.org/today [\"'self'\", 'https://weather.example.org']"
    )


def test_quick_exit_goes_to_the_configured_address(make_staff, page_client_for, settings):
    settings.UI_QUICK_EXIT_URL = "https://weather.example.org/today"

    response = page_client_for(make_staff()).post(EXIT)

    assert response["Location"] == "https://weather.example.org/today"


@pytest.mark.parametrize("value", ["weather.example.org", "javascript:alert(1)", "ftp://x.org/"])
def test_a_quick_exit_address_that_is_not_absolute_https_stops_the_server(value):
    result = manage("check", env={**PRODUCTION_ENV, "UI_QUICK_EXIT_URL": value})

    assert result.returncode != 0
    assert "UI_QUICK_EXIT_URL must be an absolute https:// address" in result.stderr
