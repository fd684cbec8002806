"""Who sees which cases and people, and how `assign/` changes it.

A caseworker's scope is read from the assignment rows at every request: one who is unassigned
loses the case, everything under it and its people on their very next request, with the token
they already hold; one who is assigned gains them as quickly.
"""

from __future__ import annotations

import pytest

from accounts.roles import Role
from accounts.services import staff_deactivate
from cases.models import CaseAssignment
from tests.cases.helpers import case_url, error_fields, listed_cases, open_case, record_person
from tests.people.helpers import PEOPLE_URL, person_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_staff):
    return make_staff(Role.CASEWORKER, username="alice")


@pytest.fixture
def bob(make_staff):
    return make_staff(Role.CASEWORKER, username="bob")


def assign(lead, case_id: str, *names: str):
    return lead.post(case_url(case_id, "assign/"), {"caseworkers": list(names)})


def assignees(case_id: str) -> list[str]:
    return sorted(
        CaseAssignment.objects.filter(case_id=case_id).values_list("user__username", flat=True)
    )


# --- assign/ ---------------------------------------------------------------------------------


def test_assign_replaces_the_caseworkers_with_the_list_given(alice, bob, make_staff, client_for):
    carol = make_staff(Role.CASEWORKER, username="carol")
    lead = client_for(make_staff(Role.COORDINATOR))
    case = open_case(client_for(alice))

    response = assign(lead, case["id"], "bob", "carol")

    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] == ["bob", "carol"]
    assert assignees(case["id"]) == ["bob", "carol"]
    assert assign(lead, case["id"], carol.user.username).json()["assigned_to"] == ["carol"]


def test_assign_with_an_empty_list_is_refused_until_the_case_is_over(alice, client_for, lead):
    case = open_case(client_for(alice))

    refused = assign(lead, case["id"])
    lead.post(case_url(case["id"], "transition/"), {"to": "rejected", "reason": "not eligible"})
    emptied = assign(lead, case["id"])

    assert refused.status_code == 409
    assert emptied.status_code == 200
    assert emptied.json()["assigned_to"] == []
    assert assignees(case["id"]) == []


def test_assign_names_a_caseworker_once_however_often_listed(alice, bob, client_for, lead):
    case = open_case(client_for(alice))

    response = assign(lead, case["id"], "bob", "bob", "alice")

    assert response.status_code == 200
    assert response.json()["assigned_to"] == ["alice", "bob"]


def test_assign_refuses_an_unknown_username_and_changes_nothing(alice, bob, client_for, lead):
    case = open_case(client_for(alice))

    response = assign(lead, case["id"], "bob", "nobody-by-that-name")

    assert response.status_code == 400
    assert "caseworkers" in error_fields(response)
    assert assignees(case["id"]) == ["alice"]


@pytest.mark.parametrize(
    "roles",
    [(Role.COORDINATOR,), (Role.AUDITOR,), (Role.ADMIN,)],
    ids=["coordinator", "auditor", "admin"],
)
def test_assign_refuses_staff_who_are_not_caseworkers(roles, alice, make_staff, client_for, lead):
    make_staff(*roles, username="not-a-caseworker")
    case = open_case(client_for(alice))

    response = assign(lead, case["id"], "alice", "not-a-caseworker")

    assert response.status_code == 400
    assert assignees(case["id"]) == ["alice"]


def test_assign_refuses_a_deactivated_caseworker(alice, bob, client_for, lead):
    case = open_case(client_for(alice))
    staff_deactivate(user=bob.user)

    response = assign(lead, case["id"], "bob")

    assert response.status_code == 400
    assert assignees(case["id"]) == ["alice"]


@pytest.mark.parametrize(
    "body",
    [{}, {"caseworkers": "bob"}, {"caseworkers": [7]}, {"caseworkers": ["bob"], "extra": 1}],
)
def test_assign_refuses_a_malformed_body(body, alice, bob, client_for, lead):
    case = open_case(client_for(alice))

    response = lead.post(case_url(case["id"], "assign/"), body)

    assert response.status_code == 400
    assert assignees(case["id"]) == ["alice"]


# --- losing and gaining access ---------------------------------------------------------------


def case_with_everything(client) -> dict[str, str]:
    """A case with a member, a need, a note and a transition; the ids of each."""
    member = record_person(client, full_name="Member")
    case = open_case(client, members=[(member, "sibling")])
    url = case_url(case["id"])
    need = client.post(f"{url}needs/", {"category": "food"}).json()
    note = client.post(f"{url}notes/", {"body": "first call"}).json()
    assert client.post(f"{url}transition/", {"to": "verification"}).status_code == 200
    return {
        "case": case["id"],
        "primary": case["primary_person"],
        "member": member,
        "need": need["id"],
        "note": note["id"],
    }


def reads(ids: dict[str, str]) -> list[str]:
    url = case_url(ids["case"])
    return [
        url,
        f"{url}needs/",
        f"{url}needs/{ids['need']}/",
        f"{url}notes/",
        f"{url}notes/{ids['note']}/",
        f"{url}timeline/",
        person_url(ids["primary"]),
        person_url(ids["member"]),
    ]


def test_an_unassigned_caseworker_loses_the_case_and_its_people_on_the_next_request(
    alice, bob, client_for, lead
):
    client = client_for(alice)  # the same token before and after
    ids = case_with_everything(client)
    assert {url: client.get(url).status_code for url in reads(ids)} == dict.fromkeys(
        reads(ids), 200
    )

    assert assign(lead, ids["case"], "bob").status_code == 200

    assert {url: client.get(url).status_code for url in reads(ids)} == dict.fromkeys(
        reads(ids), 404
    )
    url = case_url(ids["case"])
    writes = [
        client.patch(url, {"summary": "still mine?"}),
        client.post(f"{url}transition/", {"to": "intake"}),
        client.post(f"{url}needs/", {"category": "food"}),
        client.patch(f"{url}needs/{ids['need']}/", {"status": "met"}),
        client.post(f"{url}notes/", {"body": "still here"}),
        client.patch(person_url(ids["primary"]), {"notes": "still here"}),
    ]
    assert [response.status_code for response in writes] == [404] * len(writes)
    assert listed_cases(client) == []
    assert client.get(PEOPLE_URL).json()["count"] == 0


def test_a_newly_assigned_caseworker_gains_the_case_and_its_people_at_once(
    alice, bob, client_for, lead
):
    newcomer = client_for(bob)
    ids = case_with_everything(client_for(alice))
    assert {newcomer.get(url).status_code for url in reads(ids)} == {404}

    assert assign(lead, ids["case"], "alice", "bob").status_code == 200

    assert {url: newcomer.get(url).status_code for url in reads(ids)} == dict.fromkeys(
        reads(ids), 200
    )
    assert [row["id"] for row in listed_cases(newcomer)] == [ids["case"]]
    assert {p["id"] for p in newcomer.get(PEOPLE_URL).json()["results"]} == {
        ids["primary"],
        ids["member"],
    }


# --- people through cases --------------------------------------------------------------------


def test_a_caseworker_sees_the_people_on_assigned_cases_and_no_others(alice, bob, client_for):
    mine, theirs = client_for(alice), client_for(bob)
    my_case = open_case(mine)
    their_case = open_case(theirs)
    their_orphan = record_person(theirs, full_name="Their intake")

    visible = {p["id"] for p in mine.get(PEOPLE_URL).json()["results"]}

    assert visible == {my_case["primary_person"]}
    assert mine.get(person_url(their_case["primary_person"])).status_code == 404
    assert mine.get(person_url(their_orphan)).status_code == 404


def test_a_caseworker_sees_the_people_they_recorded_who_are_on_no_case_yet(alice, client_for):
    client = client_for(alice)

    orphan = record_person(client)

    assert client.get(person_url(orphan)).status_code == 200
    assert [p["id"] for p in client.get(PEOPLE_URL).json()["results"]] == [orphan]


def test_a_person_put_on_someone_elses_case_leaves_their_recorders_scope(
    alice, bob, client_for, lead
):
    recorder = client_for(alice)
    person = record_person(recorder)
    case = open_case(lead, primary=person)

    assert assign(lead, case["id"], "bob").status_code == 200

    assert recorder.get(person_url(person)).status_code == 404
    assert client_for(bob).get(person_url(person)).status_code == 200


def test_a_person_on_two_cases_is_seen_through_either(alice, bob, client_for, lead):
    first = client_for(alice)
    shared = record_person(first)
    case_a = open_case(first, primary=shared)
    case_b = open_case(lead, members=[(shared, "sibling")])
    assign(lead, case_b["id"], "bob")

    assert client_for(bob).get(person_url(shared)).status_code == 200
    assign(lead, case_a["id"], "bob")
    assert first.get(person_url(shared)).status_code == 404


def test_a_coordinator_sees_every_case_and_person(alice, bob, client_for, lead):
    open_case(client_for(alice))
    open_case(client_for(bob))
    record_person(client_for(bob), full_name="Orphan")

    assert len(listed_cases(lead)) == 2
    assert lead.get(PEOPLE_URL).json()["count"] == 3


def test_duplicate_check_counts_people_on_other_caseworkers_cases_as_outside_scope(
    alice, bob, client_for, lead
):
    phone = "+7 928 765-43-21"
    theirs = client_for(bob)
    case = open_case(theirs, primary=record_person(theirs, phone=phone))
    checker = client_for(alice)

    before = checker.post(f"{PEOPLE_URL}duplicates/", {"phone": phone}).json()
    assign(lead, case["id"], "alice", "bob")
    after = checker.post(f"{PEOPLE_URL}duplicates/", {"phone": phone}).json()

    assert (before["matches"], before["outside_scope"]) == ([], 1)
    assert ([m["id"] for m in after["matches"]], after["outside_scope"]) == (
        [case["primary_person"]],
        0,
    )
