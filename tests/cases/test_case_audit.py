"""The audit trail of cases: every response that reveals decrypted case data writes an ACCESS
entry first (the list also for the primary person whose name it shows), refusals write none,
and every change to a case, its household, assignments, needs, notes and timeline is logged
with the actor and without the value of any encrypted field."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.roles import Role
from audit.models import Action, LogEntry
from audit.registry import REDACTED
from cases.models import Case, CaseAssignment, CaseMember, Need, Note, TimelineEntry
from people.models import Person
from tests.cases.helpers import (
    CASE_SECRETS,
    CASES_URL,
    access_entries_since,
    case_url,
    last_sequence,
    listed_cases,
    open_case,
    record_person,
)
from tests.erasure import erase_body

pytestmark = pytest.mark.django_db

NAME_FIELDS = ["full_name", "preferred_name"]


def described(entries: list[LogEntry]) -> list[tuple[str, str, list[str]]]:
    """(model, record id, fields revealed) of each entry."""
    return [
        (entry.content_type.model, entry.object_pk, entry.additional_data["fields"])
        for entry in entries
    ]


# --- ACCESS entries --------------------------------------------------------------------------


def test_the_list_logs_each_case_and_each_primary_person_whose_name_it_shows(caseworker, client):
    cases = [open_case(client) for _ in range(3)]
    mark = last_sequence()

    response = client.get(CASES_URL)

    assert response.status_code == 200
    entries = access_entries_since(mark)
    assert sorted(described(entries)) == sorted(
        [("case", case["id"], sorted(CASE_SECRETS)) for case in cases]
        + [("person", case["primary_person"], NAME_FIELDS) for case in cases]
    )
    assert {entry.actor_id for entry in entries} == {caseworker.user.pk}


def test_a_list_page_logs_only_the_cases_on_that_page(client):
    for _ in range(3):
        open_case(client)
    mark = last_sequence()

    shown = client.get(CASES_URL, {"page_size": 2}).json()["results"]

    assert len(shown) == 2
    assert sorted(described(access_entries_since(mark))) == sorted(
        [("case", row["id"], sorted(CASE_SECRETS)) for row in shown]
        + [("person", row["primary_person"], NAME_FIELDS) for row in shown]
    )


def test_reading_a_case_logs_the_case_only(client):
    case = open_case(client)
    mark = last_sequence()

    client.get(case_url(case["id"]))

    assert described(access_entries_since(mark)) == [("case", case["id"], sorted(CASE_SECRETS))]


def test_opening_and_correcting_a_case_log_what_the_answer_reveals(client):
    primary = record_person(client)
    mark = last_sequence()

    case = open_case(client, primary=primary)
    client.patch(case_url(case["id"]), {"summary": "corrected"})

    assert described(access_entries_since(mark)) == [("case", case["id"], sorted(CASE_SECRETS))] * 2


def test_the_answers_to_transition_and_assign_log_the_case(client, lead, coordinator, make_staff):
    case = open_case(client)
    url = case_url(case["id"])
    relief = make_staff(Role.CASEWORKER).user.username
    mark = last_sequence()

    client.post(f"{url}transition/", {"to": "verification", "reason": "seen"})
    lead.post(f"{url}assign/", {"caseworkers": [relief]})

    entries = access_entries_since(mark)
    assert described(entries) == [("case", case["id"], sorted(CASE_SECRETS))] * 2
    assert entries[1].actor_id == coordinator.user.pk


def test_needs_notes_and_the_timeline_log_each_item_they_reveal(client):
    case = open_case(client)
    url = case_url(case["id"])
    need = client.post(f"{url}needs/", {"category": "food", "description": "bread"}).json()
    note = client.post(f"{url}notes/", {"body": "called"}).json()
    client.post(f"{url}transition/", {"to": "verification", "reason": "seen"})
    entry = TimelineEntry.objects.get(case_id=case["id"])
    mark = last_sequence()

    client.get(f"{url}needs/")
    client.get(f"{url}needs/{need['id']}/")
    client.patch(f"{url}needs/{need['id']}/", {"status": "met"})
    client.get(f"{url}notes/")
    client.get(f"{url}notes/{note['id']}/")
    client.get(f"{url}timeline/")

    assert described(access_entries_since(mark)) == [
        ("need", need["id"], ["description"]),
        ("need", need["id"], ["description"]),
        ("need", need["id"], ["description"]),
        ("note", note["id"], ["body"]),
        ("note", note["id"], ["body"]),
        ("timelineentry", str(entry.pk), ["reason"]),
    ]


def test_creating_a_need_or_a_note_logs_the_answer(client):
    case = open_case(client)
    url = case_url(case["id"])
    mark = last_sequence()

    need = client.post(f"{url}needs/", {"category": "food", "description": "bread"}).json()
    note = client.post(f"{url}notes/", {"body": "called"}).json()

    assert described(access_entries_since(mark)) == [
        ("need", need["id"], ["description"]),
        ("note", note["id"], ["body"]),
    ]


def test_refused_requests_log_no_access(client, make_staff, client_for, lead):
    case = open_case(client)
    url = case_url(case["id"])
    need = client.post(f"{url}needs/", {"category": "food"}).json()
    outsider = client_for(make_staff(Role.CASEWORKER))
    auditor = client_for(make_staff(Role.AUDITOR))
    admin = client_for(make_staff(Role.ADMIN))
    mark = last_sequence()

    statuses = [
        outsider.get(url).status_code,
        outsider.get(f"{url}needs/").status_code,
        outsider.get(f"{url}needs/{need['id']}/").status_code,
        outsider.get(f"{url}notes/").status_code,
        outsider.get(f"{url}timeline/").status_code,
        outsider.patch(url, {"summary": "mine now"}).status_code,
        auditor.get(url).status_code,
        auditor.get(CASES_URL).status_code,
        admin.get(url).status_code,
        client.get(CASES_URL, {"status": "nonsense"}).status_code,
        client.patch(url, {"status": "closed"}).status_code,
        client.post(f"{url}notes/", {"body": ""}).status_code,
        client.post(f"{url}transition/", {"to": "approved", "reason": "go"}).status_code,
        lead.post(f"{url}assign/", {"caseworkers": ["nobody"]}).status_code,
    ]

    assert statuses == [404] * 6 + [403] * 3 + [400] * 3 + [409, 400]
    assert access_entries_since(mark) == []


def test_an_empty_list_logs_nothing(client):
    mark = last_sequence()

    assert listed_cases(client) == []
    assert access_entries_since(mark) == []


def test_reading_an_erased_case_logs_no_access(client, lead):
    case = open_case(client)
    url = case_url(case["id"])
    client.post(f"{url}notes/", {"body": "called"})
    lead.post(f"{url}erase/", erase_body(lead))
    mark = last_sequence()

    for path in ("", "needs/", "notes/", "timeline/"):
        assert lead.get(f"{url}{path}").status_code == 200
    lead.get(CASES_URL)

    assert access_entries_since(mark) == []


def test_every_name_the_list_shows_is_logged(client, lead):
    """An erased case whose primary person survives (they are on another open case): if the
    list shows their name, it must log that it did."""
    survivor = record_person(client, full_name="Survivor Of An Erased Case")
    erased = open_case(client, primary=survivor)
    open_case(client, members=[(survivor, "sibling")])
    lead.post(case_url(erased["id"], "erase/"), erase_body(lead))
    mark = last_sequence()

    rows = lead.get(CASES_URL).json()["results"]

    logged = {
        entry.object_pk
        for entry in access_entries_since(mark)
        if entry.content_type.model == "person"
    }
    named = {row["primary_person"] for row in rows if row["primary_person_name"] is not None}
    assert named <= logged


# --- change entries --------------------------------------------------------------------------

SECRETS = [
    "Marked by the family; hiding in a garage",
    "Garage behind the market, Gudermes",
    "Wire: ask for Ruslan's cousin",
    "Corrected: hiding in a cellar now",
    "Two train tickets to Moscow",
    "Bus instead of the train",
    "She called from the cellar at noon",
    "Passport pages photographed",
    "He went back to his family's village",
]


def entries_for(model) -> list[LogEntry]:
    """The model's change entries (reads left out), oldest first."""
    content_type = ContentType.objects.get_for_model(model)
    entries = LogEntry.objects.filter(content_type=content_type).exclude(action=Action.ACCESS)
    return list(entries.order_by("sequence"))


def test_every_case_model_change_is_logged_with_its_actor_and_without_secret_values(
    caseworker, client, coordinator, lead, make_staff
):
    make_staff(Role.CASEWORKER, username="relief")
    member = record_person(client, full_name="Audit Member")
    case = open_case(
        client,
        members=[(member, "partner")],
        summary=SECRETS[0],
        location=SECRETS[1],
        safe_contact=SECRETS[2],
    )
    url = case_url(case["id"])
    client.patch(url, {"summary": SECRETS[3], "risk_level": "critical"})
    client.post(f"{url}members/{member}/remove/", {"reason": SECRETS[8]})
    need = client.post(f"{url}needs/", {"category": "travel", "description": SECRETS[4]}).json()
    client.patch(f"{url}needs/{need['id']}/", {"description": SECRETS[5], "status": "met"})
    client.post(f"{url}notes/", {"body": SECRETS[6]})
    client.post(f"{url}transition/", {"to": "verification", "reason": SECRETS[7]})
    lead.post(f"{url}assign/", {"caseworkers": ["relief"]})

    actions = {
        model: [entry.action for entry in entries_for(model)]
        for model in (Case, CaseMember, CaseAssignment, Need, Note, TimelineEntry)
    }
    create, update, delete = Action.CREATE, Action.UPDATE, Action.DELETE
    assert actions[Case][:3] == [create, update, update]  # opened, corrected, moved
    # The partner taken off the household: marked removed (kept for erasure), not deleted.
    assert sorted(actions[CaseMember]) == [create, create, update]
    assert sorted(actions[CaseAssignment]) == [create, create, delete]  # handed over
    assert actions[Need] == [create, update]
    assert actions[Note] == [create]
    # The risk change, the partner taken off, the move, and the hand-over (one in, one out).
    assert actions[TimelineEntry] == [create] * 5

    changes = [e for e in LogEntry.objects.exclude(action=Action.ACCESS) if e.changes]
    encrypted = {"summary", "location", "safe_contact", "protection_concerns"}
    encrypted |= {"description", "body", "reason"}
    redacted = [value for e in changes for name, value in e.changes.items() if name in encrypted]
    assert len(redacted) >= 10
    assert all(value == [REDACTED, REDACTED] for value in redacted)
    everything = "\n".join(
        f"{e.object_repr} {e.changes} {e.additional_data}" for e in LogEntry.objects.all()
    )
    leaked = [secret for secret in SECRETS if secret.lower() in everything.lower()]
    assert leaked == []

    assert {e.actor_id for e in entries_for(Need) + entries_for(Note)} == {caseworker.user.pk}
    assert entries_for(Case)[0].actor_id == caseworker.user.pk
    assignment_changes = entries_for(CaseAssignment)[1:]
    assert {e.actor_id for e in assignment_changes} == {coordinator.user.pk}


def test_a_case_entry_names_the_case_by_reference_not_by_anything_personal(client):
    case = open_case(client)

    entry = entries_for(Case)[0]

    assert entry.object_pk == case["id"]
    assert entry.object_repr == f"case {case['reference']}"
    assert entries_for(Person)  # the person recorded first has its own entries
    assert entries_for(Person)[0].object_repr == f"Person {case['primary_person']}"


def test_the_entries_of_a_cases_records_name_it_by_reference_too(client, lead, make_staff):
    partner = record_person(client)
    case = open_case(client, members=[(partner, "partner")])
    url = case_url(case["id"])
    client.post(f"{url}needs/", {"category": "food", "description": "bread"})
    client.post(f"{url}notes/", {"body": "called"})
    client.post(f"{url}members/{partner}/remove/", {"reason": "left"})
    lead.post(f"{url}assign/", {"caseworkers": [make_staff(Role.CASEWORKER).user.username]})

    for model in (CaseMember, CaseAssignment, Need, Note, TimelineEntry):
        for entry in entries_for(model):
            assert entry.object_repr.endswith(f"case {case['reference']}"), entry.object_repr


def test_entries_hold_a_records_own_fields_not_the_relations_pointing_at_it(client, make_staff):
    make_staff()  # a user: tokens, assignments and devices point at it
    open_case(client)  # a case: needs, notes, members, assignments point at it

    named = {
        (entry.content_type.model, name)
        for entry in LogEntry.objects.exclude(action=Action.ACCESS)
        for name in (entry.changes or {})
    }

    noise = {("user", "auth_token_set"), ("user", "case_assignments")}
    noise |= {("staticdevice", "token_set"), ("person", "memberships")}
    noise |= {("case", name) for name in ("needs", "notes", "timeline", "assignments")}
    noise |= {("case", "memberships"), ("case", "allocations")}
    assert not named & noise
    assert ("user", "username") in named  # the record's own fields are still there
    assert ("user", "groups") in named  # and the many-to-many registered
