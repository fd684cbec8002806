"""CSRF from the attacker's side: a POST without a valid token changes nothing, on every
address of the web interface (quick exit excepted: it still only ends the session)."""

from __future__ import annotations

import pytest
from django.conf import settings
from knox.models import AuthToken

from tests.urlconf import url_paths
from tests.web.helpers import EXIT, NEUTRAL, signed_in_client
from tests.web.test_page_matrix import NOT_WEB

WEB_PATHS = sorted(path for _, path in url_paths() if not path.startswith(NOT_WEB))

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", [path for path in WEB_PATHS if path != EXIT])
def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(make_staff, path):
    staff = make_staff()
    client = signed_in_client(staff, enforce_csrf_checks=True)

    response = client.post(path, {"language": "ru", **staff.login_body()})

    assert response.status_code == 403
    assert "This form is no longer valid" in response.content.decode()
    assert AuthToken.objects.filter(user=staff.user).count() == 1
    assert client.get("/account/").status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_a_cross_site_quick_exit_only_ends_a_session(make_staff):
    staff = make_staff()
    client = signed_in_client(staff, enforce_csrf_checks=True)

    response = client.post(EXIT)

    assert response["Location"] == NEUTRAL
    assert not AuthToken.objects.filter(user=staff.user).exists()


def test_a_signed_in_form_carries_a_token_the_server_accepts(make_staff):
    # Guards the refusals above against passing because every POST fails for another reason.
    client = signed_in_client(make_staff(), enforce_csrf_checks=True)
    page = client.get("/account/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    response = client.post("/language/", {"language": "ru", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
