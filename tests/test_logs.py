"""Logs an operator can read: one traceback per failure, the request id on every line (Django's
own included), JSON on request, repeated errors held back, and never what a failure said (an
exception's text may quote a person's data)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import psycopg2
import pytest
from django.db import OperationalError
from django.test import RequestFactory

from accounts.api import MeView
from common.log import JsonFormatter, RepeatFilter, SafeFormatter
from common.middleware import RequestIdLogFilter
from tests.web.helpers import signed_in_client
from web import webstaff_views

pytestmark = pytest.mark.django_db

CANARY = "Ruslan Abdulaev +79280001122"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler writes, through its own formatter and filters."""
    (handler,) = [h for h in logging.getLogger().handlers if h.name == "console"]
    for repeats in handler.filters:
        if isinstance(repeats, RepeatFilter):
            repeats.forget()  # what earlier tests logged is not held against this one
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def _explode(*args, **kwargs):
    raise RuntimeError(f"could not process {CANARY}")


def test_an_api_500_writes_one_traceback_with_its_request_id_and_not_its_message(
    make_staff, client_for, monkeypatch, log_output
):
    client = client_for(make_staff())
    client.raise_request_exception = False
    monkeypatch.setattr(MeView, "get", _explode)

    response = client.get("/api/v1/auth/me/")

    text = log_output.getvalue()
    assert response.status_code == 500
    assert text.count("Traceback (most recent call last)") == 1
    assert "RuntimeError (message withheld)" in text
    assert CANARY not in text
    request_id = response["X-Request-ID"]
    headed = [line for line in text.splitlines() if " ERROR " in line or " WARNING " in line]
    assert headed
    assert all(f"[{request_id}]" in line for line in headed)


def test_a_page_500_writes_one_traceback_and_djangos_own_line_has_the_request_id(
    make_staff, monkeypatch, log_output
):
    client = signed_in_client(make_staff())
    client.raise_request_exception = False
    monkeypatch.setattr(webstaff_views, "render", _explode)  # the account page's view

    response = client.get("/account/")

    text = log_output.getvalue()
    assert response.status_code == 500
    assert text.count("Traceback (most recent call last)") == 1
    assert CANARY not in text
    django_lines = [line for line in text.splitlines() if "django.request" in line]
    assert django_lines
    assert all(f"[{response['X-Request-ID']}]" in line for line in django_lines)


def test_a_database_outage_writes_one_line_per_window_not_one_per_request(
    make_staff, client_for, monkeypatch, log_output
):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect") from psycopg2.OperationalError()

    client = client_for(make_staff())
    monkeypatch.setattr(MeView, "get", unreachable)

    statuses = {client.get("/api/v1/auth/me/").status_code for _ in range(25)}

    text = log_output.getvalue()
    assert statuses == {503}
    assert text.count("The database is unavailable") == 1
    assert "Traceback" not in text


def _record(message: str, *, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("common.test", logging.ERROR, __file__, 1, message, (), exc_info)


def test_the_repeat_filter_holds_back_identical_errors_and_then_counts_them(monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 3.0, 61.0])
    monkeypatch.setattr("common.log.time.monotonic", lambda: next(clock))
    repeats = RepeatFilter(window=60)

    passed = [repeats.filter(_record("Same failure")) for _ in range(4)]
    later = _record("Same failure")

    assert passed == [True, False, False, False]
    assert repeats.filter(later)
    assert later.getMessage() == "Same failure (3 identical messages held back)"


def test_json_lines_carry_the_request_id_and_no_request_object_or_query_string():
    try:
        raise ValueError(f"bad value {CANARY}")
    except ValueError as error:
        record = _record("Something failed", exc=error)
    record.request = RequestFactory().get("/api/v1/people/", {"phone": CANARY})
    RequestIdLogFilter().filter(record)

    line = JsonFormatter().format(record)

    body = json.loads(line)
    assert body["message"] == "Something failed"
    assert body["levelname"] == "ERROR"
    assert "request_id" in body
    assert "ValueError (message withheld)" in body["exc_info"]
    assert CANARY not in line
    assert "request" not in body


def test_plain_tracebacks_withhold_every_message_in_the_chain():
    try:
        try:
            raise KeyError(CANARY)
        except KeyError as inner:
            raise RuntimeError(f"wrapping {CANARY}") from inner
    except RuntimeError as error:
        record = _record("Failed", exc=error)
    record.request_id = "-"

    text = SafeFormatter("%(message)s").format(record)

    assert CANARY not in text
    assert "KeyError (message withheld)" in text
    assert "RuntimeError (message withheld)" in text
    assert text.count("Traceback (most recent call last)") == 2
