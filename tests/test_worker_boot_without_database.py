"""A gunicorn worker that boots while PostgreSQL restarts must not fail to boot (gunicorn then
stops the whole server): it answers 503 until its start-up key check can run, runs it before
its first real request, and wrong keys still stop it."""

from __future__ import annotations

import sqlite3

import psycopg2
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError

from common import wsgi


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"served"]


class Check:
    def __init__(self, *outcomes: BaseException | None) -> None:
        self.outcomes, self.calls = list(outcomes), 0

    def __call__(self) -> None:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome


def _down() -> OperationalError:
    error = OperationalError("the database system is starting up")
    error.__cause__ = psycopg2.OperationalError()
    return error


def _call(app) -> tuple[str, dict[str, str], bytes]:
    seen: dict = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": "/api/v1/auth/me/"}, start_response))
    return seen["status"], seen["headers"], body


def test_a_worker_booting_without_its_database_answers_503_then_checks_then_serves():
    check = Check(_down(), _down(), _down(), None)  # at boot, then per request

    app = wsgi.checked_before_serving(_app, check)
    first = _call(app)
    second = _call(app)
    third = _call(app)
    fourth = _call(app)

    assert first[0].startswith("503")
    assert int(first[1]["Retry-After"]) > 0
    assert b"database_unavailable" in first[2]
    assert third[0] == "200 OK"
    assert third[2] == b"served"
    assert fourth[0] == "200 OK"
    assert second[0].startswith("503")
    assert check.calls == 4  # once passed, never again


def test_wrong_keys_at_boot_still_refuse_to_start():
    with pytest.raises(ImproperlyConfigured):
        wsgi.checked_before_serving(_app, Check(ImproperlyConfigured("wrong keys")))


def test_wrong_keys_found_on_the_first_request_stop_the_worker_as_a_failed_boot(monkeypatch):
    exits: list[int] = []

    def exit_(code: int) -> None:
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(wsgi.os, "_exit", exit_)
    app = wsgi.checked_before_serving(_app, Check(_down(), ImproperlyConfigured("wrong keys")))

    with pytest.raises(SystemExit):
        _call(app)

    assert exits == [wsgi.WORKER_BOOT_ERROR]


def test_any_other_database_error_at_boot_is_not_hidden():
    broken = OperationalError("no such table: x")
    broken.__cause__ = sqlite3.OperationalError("no such table: x")

    with pytest.raises(OperationalError):
        wsgi.checked_before_serving(_app, Check(broken))
