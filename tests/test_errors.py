"""One JSON error shape; never a Django HTML page or a traceback under /api/."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import override_settings

from accounts.api import MeView

pytestmark = pytest.mark.django_db

SHAPE = {"status", "code", "message"}


def test_an_unexpected_exception_answers_the_json_500_shape(make_staff, client_for, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret detail: Ruslan Abdulaev, +7 928 000-00-00")

    monkeypatch.setattr(MeView, "get", explode)
    client = client_for(make_staff())
    client.raise_request_exception = False

    response = client.get("/api/v1/auth/me/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {"status": 500, "code": "server_error", "message": "Internal server error."}
    assert b"Ruslan" not in response.content
    assert b"Traceback" not in response.content
    assert response["X-Request-ID"]


class _DatabaseCause(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__("database said no")
        self.pgcode = pgcode


@pytest.mark.parametrize(
    ("pgcode", "status"),
    [("40P01", 409), ("40001", 409), ("53300", 503), ("57P01", 503), ("57P03", 503), (None, 503)],
)
def test_a_deadlock_is_a_409_and_a_database_that_cannot_serve_is_a_503(
    make_staff, client_for, monkeypatch, pgcode, status
):
    def collide(*args, **kwargs):
        raise OperationalError("deadlock detected") from _DatabaseCause(pgcode)

    monkeypatch.setattr(MeView, "get", collide)
    client = client_for(make_staff())
    client.raise_request_exception = False

    response = client.get("/api/v1/auth/me/")

    assert response.status_code == status
    assert set(response.json()) == SHAPE
    if status == 409:
        assert response.json()["code"] == "concurrent_change"
    else:
        assert response.json()["code"] == "database_unavailable"
        assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_url_answers_json_404(api_client, debug):
    with override_settings(DEBUG=debug):
        response = api_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "not_found", "message": "Not found."}


def test_a_missing_trailing_slash_is_a_json_404_not_a_redirect(api_client):
    response = api_client.post("/api/v1/auth/login", {}, format="json")

    assert response.status_code == 404
    assert set(response.json()) == SHAPE


def test_a_wrong_method_answers_json_405(make_staff, client_for):
    response = client_for(make_staff()).delete("/api/v1/auth/me/")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_validation_errors_name_their_fields(api_client):
    response = api_client.post("/api/v1/auth/login/", {"username": "x"}, format="json")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"password", "otp"}
    assert body["fields"]["otp"] == ["This field is required."]


def test_unauthenticated_answers_401_with_a_bearer_challenge(api_client):
    response = api_client.get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) == SHAPE


def test_forbidden_answers_json_403(make_staff, client_for):
    response = client_for(make_staff("caseworker")).get("/api/v1/staff/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_api_responses_are_never_cached_and_carry_hardening_headers(make_staff, client_for):
    response = client_for(make_staff()).get("/api/v1/auth/me/")

    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_an_oversized_body_is_refused_as_json(api_client):
    response = api_client.post(
        "/api/v1/auth/login/", "x" * (3 * 1024 * 1024), content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
