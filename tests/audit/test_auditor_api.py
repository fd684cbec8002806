"""The auditors' API, and nobody else's."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import Action, LogEntry
from tests.accounts.helpers import admin_post
from tests.audit.helpers import ENTRY_AT, owner_without_triggers

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/audit/entries/"),
    ("get", "/api/v1/audit/entries/1/"),
    ("post", "/api/v1/audit/verify/"),
    ("get", "/api/v1/audit/checkpoints/"),
]


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "admin"])
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_only_auditors_reach_the_audit_api(make_staff, client_for, role, method, path):
    response = getattr(client_for(make_staff(role)), method)(path)

    assert response.status_code == 403


def test_an_auditor_lists_entries_newest_first_with_cursor_pages(make_staff, client_for):
    auditor = make_staff("auditor")
    client = client_for(auditor)
    total = LogEntry.objects.count()

    first = client.get("/api/v1/audit/entries/?page_size=5").json()
    second = client.get(first["next"]).json()

    sequences = [e["sequence"] for e in first["results"] + second["results"]]
    assert sequences == list(range(total, total - 10, -1))
    assert set(first["results"][0]) >= {"actor", "action", "object_type", "entry_hash", "cid"}


def test_entries_filter_by_actor_action_object_and_time(make_staff, client_for):
    admin, target, auditor = make_staff("admin"), make_staff(), make_staff("auditor")
    admin_post(client_for(admin), admin, f"/api/v1/staff/{target.user.pk}/revoke-tokens/")
    client = client_for(auditor)
    since = (timezone.now() - timedelta(minutes=1)).isoformat()

    by_actor = client.get("/api/v1/audit/entries/", {"actor": admin.user.username}).json()
    by_action = client.get("/api/v1/audit/entries/", {"action": "token_revoked"}).json()
    by_object = client.get(
        "/api/v1/audit/entries/", {"object_type": "accounts.user", "object_id": str(target.user.pk)}
    ).json()
    future = client.get("/api/v1/audit/entries/", {"since": "2999-01-01T00:00:00Z"}).json()
    recent = client.get("/api/v1/audit/entries/", {"since": since}).json()

    assert {e["actor"] for e in by_actor["results"]} == {admin.user.username}
    assert [e["action"] for e in by_action["results"]] == ["token_revoked"]
    assert {e["object_pk"] for e in by_object["results"]} == {str(target.user.pk)}
    assert future["results"] == []
    assert len(recent["results"]) > 0


@pytest.mark.parametrize(
    "query",
    [
        {"action": "explode"},
        {"since": "yesterday"},
        {"until": "2026-13-45"},
        {"object_type": "cases"},  # not app_label.model: it used to list nothing, silently
        {"since": "0001-01-01T00:00:00+23:59"},  # it used to leave the calendar: a 500
        {"since": "2026-11-24T09:00:00"},  # no zone
        {"object_id": "' OR 1=1"},
        {"actor": "Not A Username!"},
        {"page_size": "lots"},
        {"page_size": "0"},
        {"page_size": "201"},
        {"statu": "closed"},
    ],
)
def test_bad_filters_are_refused_with_400(make_staff, client_for, query):
    response = client_for(make_staff("auditor")).get("/api/v1/audit/entries/", query)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == set(query)


@pytest.mark.parametrize("cursor", ["cD14", "cD0xZTk5", "!!!", "cj0xJnA9eA"])
def test_a_forged_cursor_is_a_404_not_a_500(make_staff, client_for, cursor):
    response = client_for(make_staff("auditor")).get("/api/v1/audit/entries/", {"cursor": cursor})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_well_formed_filter_that_matches_nothing_is_an_empty_list(make_staff, client_for):
    client = client_for(make_staff("auditor"))

    for query in (
        {"actor": "nobody-by-this-name"},
        {"object_id": "00000000-0000-0000-0000-000000000000"},
        {"object_type": "funds.approval"},
    ):
        response = client.get("/api/v1/audit/entries/", query)
        assert (response.status_code, response.json()["results"]) == (200, []), query


def test_an_auditor_reads_one_entry(make_staff, client_for):
    auditor = make_staff("auditor")
    entry = LogEntry.objects.filter(action=Action.CREATE).order_by("sequence").first()

    body = client_for(auditor).get(f"/api/v1/audit/entries/{entry.pk}/").json()

    assert body["sequence"] == entry.sequence
    assert body["action"] == "create"
    assert body["object_type"] == "accounts.user"


def test_verify_reports_an_intact_chain_and_a_broken_one(make_staff, client_for):
    client = client_for(make_staff("auditor"))

    intact = client.post("/api/v1/audit/verify/").json()
    with owner_without_triggers() as cursor:
        cursor.execute(f"UPDATE audit_logentry SET object_repr = 'x' WHERE id = {ENTRY_AT}", [2])
    broken = client.post("/api/v1/audit/verify/").json()

    assert intact["ok"] is True
    assert intact["entries"] == LogEntry.objects.count()
    assert broken["ok"] is False
    assert broken["first_break"]["sequence"] == 2


def test_an_auditor_lists_checkpoints(make_staff, client_for):
    auditor = make_staff("auditor")
    call_command("audit_checkpoint", stdout=io.StringIO())

    body = client_for(auditor).get("/api/v1/audit/checkpoints/").json()

    assert body["count"] == 1
    assert set(body["results"][0]) == {
        "id",
        "sequence",
        "entry_hash",
        "signed_at",
        "key_id",
        "signature",
        "document",
    }
    assert body["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert body["key_id"] == body["results"][0]["key_id"]
