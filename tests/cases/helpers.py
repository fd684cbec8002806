"""Shared bits of the case tests: URLs, request bodies, and opening cases through the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework.test import APIClient

from audit.models import LogEntry
from tests.audit.reads import access_reads
from tests.people.helpers import PEOPLE_URL, a_person

CASES_URL = "/api/v1/cases/"
REFERENCE_PATTERN = r"^EV-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$"
CASE_SECRETS = ("summary", "location", "safe_contact", "protection_concerns")


def case_url(case_id: object, suffix: str = "") -> str:
    return f"{CASES_URL}{case_id}/{suffix}"


def a_case(primary_person: object, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "primary_person": str(primary_person),
        "risk_level": "high",
        "protection_concerns": ["in_hiding", "threatened_by_family"],
        "summary": "Threatened by an uncle after being outed; hiding since Tuesday.",
        "location": "A friend's flat, Nazran",
        "safe_contact": "Signal, ask for 'the tailor'",
        "consent_to_store": True,
        "consent_to_share": False,
        "consent_given_on": "2026-11-20",
    }
    body.update(overrides)
    return body


def record_person(client: APIClient, **overrides: Any) -> str:
    """A person recorded through the API by the client's staff member; returns the id."""
    response = client.post(PEOPLE_URL, a_person(**overrides))
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def open_case(
    client: APIClient,
    primary: str | None = None,
    members: Sequence[tuple[str, str]] = (),
    **overrides: Any,
) -> dict[str, Any]:
    """A case opened through the API (recording a primary person first if none is given)."""
    primary = primary or record_person(client)
    body = a_case(primary, **overrides)
    if members:
        body["members"] = [{"person": pid, "relationship": rel} for pid, rel in members]
    response = client.post(CASES_URL, body)
    assert response.status_code == 201, response.json()
    return response.json()


def listed_cases(client: APIClient, **params: Any) -> list[dict[str, Any]]:
    """Every case the list shows the client, page after page by its `next` links."""
    rows: list[dict[str, Any]] = []
    url: str | None = CASES_URL
    for _ in range(100):  # a next link that leads back round would otherwise never end
        if not url:
            return rows
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        rows += body["results"]
        url, params = body["next"], {}  # the link carries the filters and the page size
    raise AssertionError("the next links did not end within 100 pages")


def last_sequence() -> int:
    entry = LogEntry.objects.order_by("-sequence").first()
    return entry.sequence if entry else 0


def access_entries_since(sequence: int) -> list:
    """Each record read since `sequence` (tests/audit/reads.py)."""
    return access_reads(sequence__gt=sequence)


def error_fields(response: Any) -> dict[str, Any]:
    """The field errors of a 400 answer (`{"status", "code", "message", "fields"}`)."""
    return response.json().get("fields", {})


def hand_over(lead: APIClient, case_id: object, successor: str) -> None:
    """Take a case off its caseworkers by assigning it to `successor` alone (a case that is not
    over always keeps a caseworker: `assign/` with nobody is refused)."""
    response = lead.post(case_url(case_id, "assign/"), {"caseworkers": [successor]})
    assert response.status_code == 200, response.json()
