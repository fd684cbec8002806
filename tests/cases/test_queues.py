"""The work queues of the case side: whose cases (`cases/?assigned_to=`), whom to assign
(`staff/directory/`), and what is needed across cases (`needs/?status=open&assigned_to=me`)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from accounts.services import staff_deactivate
from audit.models import LogEntry
from tests.audit.reads import access_reads
from tests.cases.helpers import case_url, error_fields, listed_cases, open_case
from tests.erasure import erase_body

pytestmark = pytest.mark.django_db

NEEDS_URL = "/api/v1/needs/"
DIRECTORY_URL = "/api/v1/staff/directory/"


def ids(rows: list[dict]) -> set[str]:
    return {row["id"] for row in rows}


def walk(client, url: str, **params) -> list[dict]:
    rows, next_url = [], url
    while next_url:
        response = client.get(next_url, params)
        assert response.status_code == 200, response.json()
        rows += response.json()["results"]
        next_url, params = response.json()["next"], {}
    return rows


@pytest.fixture
def two_caseworkers(make_staff, client_for):
    alice = make_staff(Role.CASEWORKER, username="alice")
    bob = make_staff(Role.CASEWORKER, username="bob")
    return (alice, client_for(alice)), (bob, client_for(bob))


# --- cases/?assigned_to= ----------------------------------------------------------------------


def test_a_coordinator_lists_one_caseworkers_cases_and_the_unassigned_ones(two_caseworkers, lead):
    (_, alice), (_, bob) = two_caseworkers
    alices, bobs = open_case(alice), open_case(bob)
    ended = open_case(bob)
    lead.post(case_url(ended["id"], "transition/"), {"to": "withdrawn", "reason": "safe"})
    lead.post(case_url(ended["id"], "assign/"), {"caseworkers": []})

    assert ids(listed_cases(lead, assigned_to="alice")) == {alices["id"]}
    assert ids(listed_cases(lead, assigned_to="bob")) == {bobs["id"]}
    assert ids(listed_cases(lead, assigned_to="none")) == {ended["id"]}
    assert listed_cases(lead, assigned_to="nobody-by-this-name") == []


def test_a_caseworker_may_ask_only_for_their_own_cases(two_caseworkers):
    (_, alice), _ = two_caseworkers
    own = open_case(alice)

    assert ids(listed_cases(alice, assigned_to="me")) == {own["id"]}
    for value in ("bob", "none", "alice"):
        response = alice.get("/api/v1/cases/", {"assigned_to": value})
        assert response.status_code == 400, value
        assert "assigned_to" in error_fields(response)


@pytest.mark.parametrize("value", ["ME", "a b", "x", "'; --", "\x00", "é" * 5])
def test_an_assigned_to_that_is_no_username_is_a_400(lead, value):
    response = lead.get("/api/v1/cases/", {"assigned_to": value})

    assert response.status_code == 400
    assert "assigned_to" in error_fields(response)


# --- staff/directory/ -------------------------------------------------------------------------


def test_the_directory_lists_active_caseworkers_and_their_open_cases_only(
    two_caseworkers, make_staff, lead
):
    (_, alice), _ = two_caseworkers
    open_case(alice)
    closed = open_case(alice)
    lead.post(case_url(closed["id"], "transition/"), {"to": "withdrawn", "reason": "safe"})
    erased = open_case(alice)
    lead.post(case_url(erased["id"], "erase/"), erase_body(lead))
    make_staff(Role.COORDINATOR, username="carol")
    gone = make_staff(Role.CASEWORKER, username="dave")
    staff_deactivate(user=gone.user)

    body = lead.get(DIRECTORY_URL).json()

    assert body["results"] == [
        {"username": "alice", "open_cases": 1},
        {"username": "bob", "open_cases": 0},
    ]


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.AUDITOR, Role.ADMIN])
def test_only_coordinators_read_the_directory(make_staff, client_for, role):
    response = client_for(make_staff(role)).get(DIRECTORY_URL)

    assert response.status_code == 403


def test_staff_by_id_is_still_the_admins_business(make_staff, client_for, lead):
    admin = client_for(make_staff(Role.ADMIN))

    assert lead.get("/api/v1/staff/").status_code == 403
    assert admin.get("/api/v1/staff/").status_code == 200


# --- needs/ -----------------------------------------------------------------------------------


def add_need(client, case_id: str, **body) -> dict:
    response = client.post(
        case_url(case_id, "needs/"), {"category": "food", "description": "bread", **body}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_caseworker_lists_their_open_needs_across_their_cases(two_caseworkers):
    (_, alice), (_, bob) = two_caseworkers
    first, second, theirs = open_case(alice), open_case(alice), open_case(bob)
    wanted = [add_need(alice, first["id"]), add_need(alice, second["id"], category="travel")]
    met = add_need(alice, second["id"])
    alice.patch(case_url(second["id"], f"needs/{met['id']}/"), {"status": "met"})
    add_need(bob, theirs["id"])

    rows = walk(alice, NEEDS_URL, status="open", assigned_to="me", page_size=1)

    assert [row["id"] for row in rows] == [need["id"] for need in wanted]  # oldest first
    assert {row["case"] for row in rows} == {first["id"], second["id"]}
    assert {row["case_reference"] for row in rows} == {first["reference"], second["reference"]}
    assert rows[0]["description"] == "bread"
    assert ids(walk(alice, NEEDS_URL)) == {wanted[0]["id"], wanted[1]["id"], met["id"]}


def test_reading_the_queue_logs_each_need_it_reveals(two_caseworkers):
    (staff, alice), _ = two_caseworkers
    need = add_need(alice, open_case(alice)["id"])
    mark = LogEntry.objects.order_by("-sequence").first().sequence

    alice.get(NEEDS_URL, {"status": "open"})

    reads = access_reads(sequence__gt=mark, object_pk=need["id"])
    assert [(entry.actor_id, entry.additional_data["fields"]) for entry in reads] == [
        (staff.user.pk, ["description"])
    ]


def test_a_coordinator_filters_the_queue_by_caseworker_and_leaves_erased_cases_out(
    two_caseworkers, lead
):
    (_, alice), (_, bob) = two_caseworkers
    alices = add_need(alice, open_case(alice)["id"])
    bobs_case = open_case(bob)
    bobs = add_need(bob, bobs_case["id"])
    erased = open_case(bob)
    gone = add_need(bob, erased["id"])
    lead.post(case_url(erased["id"], "erase/"), erase_body(lead))

    assert ids(walk(lead, NEEDS_URL, assigned_to="alice")) == {alices["id"]}
    assert ids(walk(lead, NEEDS_URL, assigned_to="bob")) == {bobs["id"]}
    assert ids(walk(lead, NEEDS_URL)) == {alices["id"], bobs["id"]}
    with_erased = {row["id"]: row for row in walk(lead, NEEDS_URL, erased="true")}
    assert set(with_erased) == {alices["id"], bobs["id"], gone["id"]}
    assert with_erased[gone["id"]]["description"] is None
    assert ids(walk(lead, NEEDS_URL, case=bobs_case["id"])) == {bobs["id"]}


@pytest.mark.parametrize(
    "query",
    [{"status": "sleeping"}, {"assigned_to": "bob"}, {"erased": "true"}, {"case": "EV-123456"}],
)
def test_the_queue_refuses_what_a_caseworker_may_not_ask_or_cannot_mean(two_caseworkers, query):
    (_, alice), _ = two_caseworkers

    response = alice.get(NEEDS_URL, query)

    assert response.status_code == 400
    assert set(error_fields(response)) == set(query)


def test_a_queue_page_costs_the_same_queries_at_any_size(two_caseworkers, lead):
    (_, alice), _ = two_caseworkers
    for _ in range(3):
        case = open_case(alice)
        for _ in range(2):
            add_need(alice, case["id"])

    def queries(client, url: str, **params) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured.captured_queries)

    assert queries(alice, NEEDS_URL, page_size=2) == queries(alice, NEEDS_URL, page_size=6)
    assert queries(lead, DIRECTORY_URL, page_size=1) == queries(lead, DIRECTORY_URL, page_size=5)
