"""Households change on purpose, one person at a time, on the timeline; assignments too.

`POST cases/{id}/members/` adds someone, `POST cases/{id}/members/{person}/remove/` takes them
off with a reason; both, and every assignment change, are timeline entries (actor, time, who,
the reason sealed under the case's key). Someone taken off can be put back by the case's
caseworkers, by the id the timeline shows, and is readable to them again once back.
"""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.roles import Role
from cases.models import CaseMember, TimelineEntry
from tests.cases.helpers import case_url, open_case, record_person
from tests.people.helpers import person_url

pytestmark = pytest.mark.django_db


def timeline(client, case_id: str) -> list[dict]:
    response = client.get(case_url(case_id, "timeline/"))
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def members_of(shown: dict) -> set[tuple[str, str]]:
    return {(m["person"], m["relationship"]) for m in shown["members"]}


def test_adding_someone_puts_them_on_the_household_and_the_timeline(client, caseworker):
    case = open_case(client)
    sibling = record_person(client, full_name="Sibling")

    response = client.post(
        case_url(case["id"], "members/"),
        {"person": sibling, "relationship": "sibling", "reason": "Joined at the border"},
    )

    assert response.status_code == 201, response.json()
    assert members_of(response.json()) == {
        (case["primary_person"], "primary"),
        (sibling, "sibling"),
    }
    (entry,) = timeline(client, case["id"])
    assert (entry["kind"], entry["person"], entry["from_value"], entry["to_value"]) == (
        "member_added",
        sibling,
        "",
        "sibling",
    )
    assert (entry["actor"], entry["reason"]) == (caseworker.user.username, "Joined at the border")
    assert entry["at"]


def test_the_reason_for_a_household_change_is_sealed_under_the_cases_key(client):
    case = open_case(client, members=[(record_person(client), "partner")])
    partner = next(p for p, rel in members_of(case) if rel == "partner")
    reason = "Went back to the family, under pressure"

    client.post(case_url(case["id"], f"members/{partner}/remove/"), {"reason": reason})

    entry = TimelineEntry.objects.get(case_id=case["id"])
    assert entry.reason == reason
    with connection.cursor() as cursor:
        # 32 hex digits: how SQLite stores a UUID, and a form PostgreSQL reads as one.
        cursor.execute("SELECT reason FROM cases_timelineentry WHERE id = %s", [entry.pk.hex])
        (stored,) = cursor.fetchone()
    assert stored is not None
    assert reason.encode() not in bytes(stored)


def test_taking_someone_off_keeps_them_out_of_scope_until_they_are_put_back(client):
    partner = record_person(client, full_name="Partner")
    case = open_case(client, members=[(partner, "partner")])
    url = case_url(case["id"])

    removed = client.post(f"{url}members/{partner}/remove/", {"reason": "Left the household"})

    assert removed.status_code == 200, removed.json()
    assert members_of(removed.json()) == {(case["primary_person"], "primary")}
    assert client.get(person_url(partner)).status_code == 404
    # The timeline names them, and by that id the caseworker puts them back.
    named = [e["person"] for e in timeline(client, case["id"]) if e["kind"] == "member_removed"]
    assert named == [partner]
    back = client.post(f"{url}members/", {"person": named[0], "relationship": "partner"})
    assert back.status_code == 201, back.json()
    assert client.get(person_url(partner)).status_code == 200
    assert CaseMember.objects.filter(case_id=case["id"], person_id=partner).count() == 1
    kinds = [e["kind"] for e in timeline(client, case["id"])]
    assert kinds == ["member_removed", "member_added"]


def test_someone_taken_off_is_not_addable_to_another_case_by_that_id(client):
    partner = record_person(client, full_name="Partner")
    first = open_case(client, members=[(partner, "partner")])
    second = open_case(client)
    client.post(case_url(first["id"], f"members/{partner}/remove/"), {"reason": "Left"})

    response = client.post(
        case_url(second["id"], "members/"), {"person": partner, "relationship": "partner"}
    )

    assert response.status_code == 400
    assert "No such person." in str(response.json())


def test_a_caseworker_of_another_case_cannot_touch_this_household(client, make_staff, client_for):
    partner = record_person(client, full_name="Partner")
    case = open_case(client, members=[(partner, "partner")])
    stranger = client_for(make_staff(Role.CASEWORKER))

    add = stranger.post(
        case_url(case["id"], "members/"), {"person": partner, "relationship": "partner"}
    )
    remove = stranger.post(case_url(case["id"], f"members/{partner}/remove/"), {"reason": "x"})

    assert add.status_code == remove.status_code == 404
    assert CaseMember.objects.get(person_id=partner).removed_at is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"relationship": "child"}, 400),  # no person
        ({"person": "not-a-uuid", "relationship": "child"}, 400),
        ({"person": "PRIMARY", "relationship": "primary"}, 400),
        ({"person": "ON", "relationship": "child"}, 409),  # on the household already
        ({"person": "NEW", "relationship": "child", "extra": 1}, 400),
    ],
)
def test_adding_refuses_what_cannot_be_done(client, body, status):
    on = record_person(client, full_name="Already On")
    case = open_case(client, members=[(on, "partner")])
    ids = {"PRIMARY": case["primary_person"], "ON": on, "NEW": record_person(client)}
    body = {**body, **({"person": ids[body["person"]]} if body.get("person") in ids else {})}

    response = client.post(case_url(case["id"], "members/"), body)

    assert response.status_code == status, response.json()
    assert client.get(case_url(case["id"])).json()["members"] == case["members"]


def test_the_primary_person_cannot_be_taken_off(client):
    case = open_case(client)

    response = client.post(
        case_url(case["id"], f"members/{case['primary_person']}/remove/"), {"reason": "x"}
    )

    assert response.status_code == 409
    assert "primary" in response.json()["message"]


def test_taking_off_someone_who_is_not_on_it_is_a_404_and_a_reason_is_needed(client):
    partner = record_person(client)
    case = open_case(client, members=[(partner, "partner")])
    stranger = record_person(client)

    not_on = client.post(case_url(case["id"], f"members/{stranger}/remove/"), {"reason": "x"})
    no_reason = client.post(case_url(case["id"], f"members/{partner}/remove/"), {})
    malformed = client.post(case_url(case["id"], f"members/{'-' * 36}/remove/"), {"reason": "x"})

    assert not_on.status_code == malformed.status_code == 404
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["fields"]


def test_a_new_primary_person_is_a_household_change_on_the_timeline(client):
    partner = record_person(client)
    case = open_case(client, members=[(partner, "partner")])

    client.patch(case_url(case["id"]), {"primary_person": partner})

    changes = {
        (e["person"], e["from_value"], e["to_value"])
        for e in timeline(client, case["id"])
        if e["kind"] == "member_changed"
    }
    assert changes == {
        (partner, "partner", "primary"),
        (case["primary_person"], "primary", "other"),
    }


# --- Assignments ---------------------------------------------------------------------------------


def test_assignment_changes_are_timeline_entries(client, caseworker, lead, coordinator, make_staff):
    relief = make_staff(Role.CASEWORKER)
    case = open_case(client)

    lead.post(case_url(case["id"], "assign/"), {"caseworkers": [relief.user.username]})

    entries = {(e["kind"], e["caseworker"], e["actor"]) for e in timeline(lead, case["id"])}
    assert entries == {
        ("assigned", relief.user.username, coordinator.user.username),
        ("unassigned", caseworker.user.username, coordinator.user.username),
    }


def test_assign_with_nobody_is_refused_while_the_case_is_not_over(client, caseworker, lead):
    case = open_case(client, risk_level="critical")

    response = lead.post(case_url(case["id"], "assign/"), {"caseworkers": []})

    assert response.status_code == 409
    assert lead.get(case_url(case["id"])).json()["assigned_to"] == [caseworker.user.username]


def test_an_ended_case_may_be_left_with_nobody(client, lead):
    case = open_case(client)
    lead.post(case_url(case["id"], "transition/"), {"to": "withdrawn", "reason": "safe now"})

    response = lead.post(case_url(case["id"], "assign/"), {"caseworkers": []})

    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] == []
