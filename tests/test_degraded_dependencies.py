"""A cache outage degrades, a database outage is a 503, and neither is ever a 500.

The cache here is the real Redis backend pointed at a port where nothing listens (refused at
once) or at a server that accepts connections and never answers (a network partition): the
worker must neither stall nor fail, and the limits that bound guessing must still hold.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.test import override_settings

from accounts.api import MeView
from accounts.authentication import BearerTokenAuthentication
from common.cache import CacheUnavailable

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
DUPLICATES = "/api/v1/people/duplicates/"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SilentServer:
    """Accepts every connection and never answers: what a partitioned Redis looks like."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


def _redis_at(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "common.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        },
        "fallback": settings.CACHES["fallback"],
    }


@pytest.fixture(params=["refused", "silent"])
def broken_cache(request) -> Iterator[str]:
    if request.param == "refused":
        with override_settings(CACHES=_redis_at(_closed_port())):
            yield request.param
        return
    server = SilentServer()
    try:
        with override_settings(CACHES=_redis_at(server.port)):
            yield request.param
    finally:
        server.close()


def test_every_cache_call_fails_as_cache_unavailable_within_the_timeout(broken_cache):
    started = time.monotonic()
    with pytest.raises(CacheUnavailable):
        caches["default"].get("anything")
    assert time.monotonic() - started < settings.CACHE_TIMEOUT_SECONDS * 4 + 0.5


def test_the_breaker_opens_so_later_calls_do_not_reach_the_network(broken_cache):
    cache = caches["default"]
    for _ in range(settings.CACHE_BREAKER_FAILURES):
        with pytest.raises(CacheUnavailable):
            cache.get("anything")

    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(CacheUnavailable):
            cache.get("anything")

    assert time.monotonic() - started < 0.2  # twenty refusals, no timeout among them


def test_the_api_serves_while_the_cache_is_down(broken_cache, make_staff, client_for):
    client = client_for(make_staff())

    started = time.monotonic()
    responses = [client.get(ME) for _ in range(10)]

    assert [response.status_code for response in responses] == [200] * 10
    assert time.monotonic() - started < 5


def test_readyz_says_degraded_and_stays_in_rotation_while_the_cache_is_down(broken_cache, client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"


def test_the_duplicate_check_rate_still_holds_while_the_cache_is_down(
    broken_cache, make_staff, client_for
):
    # An infiltrator must not get an unlimited phone-number oracle by waiting for an outage.
    client = client_for(make_staff("caseworker"))
    with override_settings(DUPLICATE_CHECK_RATE="3/hour"):
        statuses = [
            client.post(DUPLICATES, {"phone": f"+7928000000{n}"}).status_code for n in range(5)
        ]

    assert statuses == [200, 200, 200, 429, 429]


def test_one_warning_per_outage_not_one_per_request(broken_cache, make_staff, client_for, caplog):
    client = client_for(make_staff())
    caplog.set_level("WARNING", logger="common.cache")

    for _ in range(15):
        client.get(ME)

    warnings = [record for record in caplog.records if record.name == "common.cache"]
    assert len(warnings) == 1
    assert "unavailable" in warnings[0].getMessage()


def test_readyz_is_ok_with_a_working_cache(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "encryption_keys": "ok"},
    }


# The database.


def _lost_connection(*args, **kwargs):
    # As Django raises it: its own error, caused by the driver's (which has no SQLSTATE when
    # the server went away).
    raise OperationalError("server closed the connection") from psycopg2.OperationalError()


def test_a_database_outage_during_authentication_is_a_503_with_retry_after(
    make_staff, client_for, monkeypatch
):
    client = client_for(make_staff())
    monkeypatch.setattr(BearerTokenAuthentication, "authenticate", _lost_connection)

    response = client.get(ME)

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert set(response.json()) == {"status", "code", "message"}
    assert int(response["Retry-After"]) > 0


def test_a_database_outage_in_a_view_is_a_503_with_retry_after(make_staff, client_for, monkeypatch):
    client = client_for(make_staff())
    monkeypatch.setattr(MeView, "get", _lost_connection)

    response = client.get(ME)

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert int(response["Retry-After"]) > 0


def test_a_closed_connection_is_a_503(make_staff, client_for, monkeypatch):
    def closed(*args, **kwargs):
        raise InterfaceError("connection already closed")

    client = client_for(make_staff())
    monkeypatch.setattr(MeView, "get", closed)

    assert client.get(ME).status_code == 503


def test_a_broken_query_is_still_a_500_not_a_retry_invitation(make_staff, client_for, monkeypatch):
    def broken(*args, **kwargs):
        raise ProgrammingError("syntax error at or near")

    client = client_for(make_staff())
    client.raise_request_exception = False
    monkeypatch.setattr(MeView, "get", broken)

    response = client.get(ME)

    assert response.status_code == 500
    assert "Retry-After" not in response


def test_a_database_outage_on_a_page_is_a_503_page(client, monkeypatch):
    from web import middleware

    def unreachable(*args, **kwargs):
        raise OperationalError("the database system is shutting down") from (
            psycopg2.OperationalError()
        )

    monkeypatch.setattr(middleware.WebSessionMiddleware, "__call__", unreachable)
    client.raise_request_exception = False

    response = client.get("/login/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")


def test_the_sign_in_rate_per_address_still_holds_while_the_cache_is_down(broken_cache, api_client):
    body = {"username": "nobody-here", "password": "wrong-password-1", "otp": "000000"}
    with override_settings(LOGIN_THROTTLE_RATE="3/min", LOGIN_LIMIT_BY_ADDRESS=True):
        statuses = [
            api_client.post("/api/v1/auth/login/", body, REMOTE_ADDR="10.20.30.40").status_code
            for _ in range(5)
        ]

    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
