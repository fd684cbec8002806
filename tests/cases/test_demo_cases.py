"""`make run`'s demo cases put something in each of the case side's queues."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_the_demo_data_fills_every_case_queue_once(make_staff, client_for):
    caseworker = make_staff(Role.CASEWORKER, username="demo-caseworker")
    coordinator = make_staff(Role.COORDINATOR, username="demo-coordinator")
    call_command("seed_demo_people")
    call_command("seed_demo_cases")
    call_command("seed_demo_cases")  # a second run adds nothing
    mine, lead = client_for(caseworker), client_for(coordinator)

    needs = mine.get("/api/v1/needs/", {"status": "open", "assigned_to": "me"}).json()
    nobodys = lead.get("/api/v1/cases/", {"assigned_to": "none"}).json()
    directory = lead.get("/api/v1/staff/directory/").json()

    assert len(needs["results"]) == 1
    assert len(nobodys["results"]) == 1
    assert nobodys["results"][0]["risk_level"] == "critical"
    assert directory["results"] == [{"username": "demo-caseworker", "open_cases": 1}]
    assert len(lead.get("/api/v1/cases/").json()["results"]) == 2
