"""The case flow end to end through the API: open, transition, needs, notes, timeline, erase."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.roles import Role
from cases.models import Case
from tests.erasure import erase_body
from tests.people.helpers import PEOPLE_URL, a_person

pytestmark = pytest.mark.django_db

CASES_URL = "/api/v1/cases/"


def test_a_caseworker_opens_and_moves_a_case(make_staff, client_for):
    caseworker, coordinator = make_staff(Role.CASEWORKER), make_staff(Role.COORDINATOR)
    client, lead = client_for(caseworker), client_for(coordinator)
    person = client.post(PEOPLE_URL, a_person()).json()
    partner = client.post(PEOPLE_URL, a_person(full_name="Partner Person")).json()

    created = client.post(
        CASES_URL,
        {
            "primary_person": person["id"],
            "members": [{"person": partner["id"], "relationship": "partner"}],
            "risk_level": "critical",
            "protection_concerns": ["detained", "outed"],
            "summary": "Detained twice, released, now in hiding.",
            "location": "A flat in Grozny",
            "safe_contact": "Signal only, code word 'lilac'",
            "consent_to_store": True,
            "consent_given_on": "2026-11-20",
        },
    )
    assert created.status_code == 201, created.json()
    case = created.json()
    assert case["reference"].startswith("EV-")
    assert case["status"] == "intake"
    assert case["assigned_to"] == [caseworker.user.username]
    assert {m["relationship"] for m in case["members"]} == {"primary", "partner"}
    url = f"{CASES_URL}{case['id']}/"

    moved = client.post(f"{url}transition/", {"to": "verification", "reason": "documents seen"})
    refused = client.post(f"{url}transition/", {"to": "approved", "reason": "go"})
    approved = lead.post(f"{url}transition/", {"to": "approved", "reason": "urgent"})
    assert moved.status_code == 200
    assert refused.status_code == 409
    assert "allowed" in refused.json()
    assert approved.json()["status"] == "approved"

    need = client.post(
        f"{url}needs/",
        {
            "category": "travel",
            "description": "bus to Vladikavkaz",
            "estimated_cost": "1500.00",
            "currency": "RUB",
        },
    )
    note = client.post(f"{url}notes/", {"body": "called at 14:00, safe"})
    assert need.status_code == 201, need.json()
    assert note.status_code == 201
    timeline = client.get(f"{url}timeline/").json()
    assert [entry["to_value"] for entry in timeline["results"]] == ["verification", "approved"]
    assert client.patch(url, {"status": "closed"}).status_code == 400
    listed = client.get(CASES_URL).json()
    assert listed["results"][0]["primary_person_name"] == "Иван Петрович Ёлкин"

    erased = lead.post(f"{url}erase/", erase_body(lead))
    assert erased.status_code == 200
    assert erased.json()["summary"] is None
    assert lead.get(f"{PEOPLE_URL}{person['id']}/").json()["erased"] is True
    assert lead.get(f"{url}notes/").json()["results"][0]["body"] is None
    assert lead.get(f"{url}needs/").json()["results"][0]["description"] is None
    assert lead.get(f"{url}timeline/").json()["results"][0]["reason"] is None


def test_make_run_opens_one_fictional_demo_case_once(make_staff):
    make_staff(Role.CASEWORKER, username="demo-caseworker")
    call_command("seed_demo_people")

    call_command("seed_demo_cases")
    call_command("seed_demo_cases")

    case = Case.objects.select_related("data_key").get()
    assert case.summary == "Fictional demo case."
    assert [a.user.username for a in case.assignments.all()] == ["demo-caseworker"]
