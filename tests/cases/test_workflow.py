"""The case workflow through the API: every (from, to) pair of states for every kind of case
user, against the one table in `cases.workflow.TRANSITIONS`.

A move the table allows answers 200 and leaves a timeline entry (from, to, reason, actor); any
other answers 409 naming the moves open to the caller, and changes nothing.

The users and the case are built once per module inside a transaction rolled back at the end;
every test runs in its own savepoint, so each starts from the same case (see the authorization
matrix for the same arrangement).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from accounts.services import staff_create, token_issue
from cases.models import Case, Status, TimelineEntry
from cases.services import case_create, case_shred
from cases.workflow import TRANSITIONS, transitions_open_to
from people.services import person_create

CASES_URL = "/api/v1/cases/"

CASEWORKER = "caseworker"
COORDINATOR = "coordinator"
BOTH = "caseworker_and_coordinator"
ROLES_OF = {
    CASEWORKER: {Role.CASEWORKER},
    COORDINATOR: {Role.COORDINATOR},
    BOTH: {Role.CASEWORKER, Role.COORDINATOR},
}


@dataclass(frozen=True)
class Setting:
    users: dict[str, User]  # by kind; the caseworkers among them are assigned to the case
    case_id: str

    @property
    def url(self) -> str:
        return f"{CASES_URL}{self.case_id}/"

    def client(self, kind: str) -> APIClient:
        client = APIClient()
        token = token_issue(user=self.users[kind]).token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    def put_case_in(self, status: str) -> None:
        # Test set-up only: status is in clear, and the service would refuse most moves.
        Case.objects.filter(pk=self.case_id).update(status=status)

    def status(self) -> str:
        return Case.objects.values_list("status", flat=True).get(pk=self.case_id)

    def timeline(self) -> list[TimelineEntry]:
        return list(TimelineEntry.objects.filter(case_id=self.case_id))


def _staff(*roles: str) -> User:
    user, _ = staff_create(
        username=f"{roles[0]}-{secrets.token_hex(4)}",
        roles=roles,
        password=secrets.token_urlsafe(18),
    )
    return user


@pytest.fixture(scope="module")
def setting(django_db_setup, django_db_blocker) -> Iterator[Setting]:
    with django_db_blocker.unblock(), transaction.atomic():
        caseworker = _staff(Role.CASEWORKER)
        person = person_create(created_by=caseworker, full_name="Workflow Person")
        case = case_create(created_by=caseworker, primary_person=person, risk_level="high")
        users = {
            CASEWORKER: caseworker,
            COORDINATOR: _staff(Role.COORDINATOR),
            BOTH: _staff(Role.CASEWORKER, Role.COORDINATOR),
        }
        yield Setting(users=users, case_id=str(case.pk))
        transaction.set_rollback(True)


def table_allows(kind: str, from_status: str, to_status: str) -> bool:
    return bool(ROLES_OF[kind] & TRANSITIONS.get((from_status, to_status), frozenset()))


def transition(setting: Setting, kind: str, to: str, reason: str = ""):
    return setting.client(kind).post(
        f"{setting.url}transition/", {"to": to, "reason": reason}, format="json"
    )


EVERY_MOVE = [
    pytest.param(kind, from_status, to_status, id=f"{kind}: {from_status} -> {to_status}")
    for kind in ROLES_OF
    for from_status, to_status in itertools.product(Status.values, Status.values)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "from_status", "to_status"), EVERY_MOVE)
def test_a_move_succeeds_exactly_when_the_workflow_table_allows_it(
    setting, kind, from_status, to_status
):
    setting.put_case_in(from_status)
    before = setting.timeline()
    reason = f"moved {from_status} -> {to_status}: «причина» {secrets.token_hex(4)}"

    response = transition(setting, kind, to_status, reason)

    if table_allows(kind, from_status, to_status):
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == setting.status() == to_status
        assert len(setting.timeline()) == len(before) + 1
        shown = setting.client(kind).get(f"{setting.url}timeline/").json()["results"][-1]
        assert shown["kind"] == "status"
        assert (shown["from_value"], shown["to_value"]) == (from_status, to_status)
        assert shown["reason"] == reason
        assert shown["actor"] == setting.users[kind].username
    else:
        assert response.status_code == 409, response.json()
        body = response.json()
        assert body["allowed"] == transitions_open_to(setting.users[kind], from_status)
        assert setting.status() == from_status
        assert setting.timeline() == before


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(ROLES_OF))
@pytest.mark.parametrize("from_status", Status.values)
def test_the_moves_offered_to_a_user_are_the_ones_the_table_gives_their_roles(
    setting, kind, from_status
):
    expected = [to for to in Status.values if table_allows(kind, from_status, to)]

    assert transitions_open_to(setting.users[kind], from_status) == expected


def test_the_table_names_only_real_states_and_case_roles():
    states = set(Status.values)
    assert all({a, b} <= states and a != b for a, b in TRANSITIONS)
    assert all(roles <= {Role.CASEWORKER, Role.COORDINATOR} for roles in TRANSITIONS.values())


COORDINATOR_ONLY_MOVES = [
    pytest.param(Status.VERIFICATION, Status.APPROVED, id="approve"),
    pytest.param(Status.INTAKE, Status.REJECTED, id="reject at intake"),
    pytest.param(Status.VERIFICATION, Status.REJECTED, id="reject after verification"),
    pytest.param(Status.RESETTLED, Status.CLOSED, id="close a resettled case"),
    pytest.param(Status.REJECTED, Status.CLOSED, id="close a rejected case"),
    pytest.param(Status.WITHDRAWN, Status.CLOSED, id="close a withdrawn case"),
    pytest.param(Status.LOST_CONTACT, Status.CLOSED, id="close a lost case"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), COORDINATOR_ONLY_MOVES)
def test_only_a_coordinator_approves_rejects_or_closes(setting, from_status, to_status):
    setting.put_case_in(from_status)

    refused = transition(setting, CASEWORKER, to_status, "I decide")
    assert refused.status_code == 409
    assert to_status not in refused.json()["allowed"]
    assert setting.status() == from_status

    accepted = transition(setting, COORDINATOR, to_status, "decided")
    assert accepted.status_code == 200
    assert setting.status() == to_status


@pytest.mark.django_db
def test_a_refused_move_is_explained_in_the_language_the_client_reads(setting):
    setting.put_case_in(Status.VERIFICATION)

    response = setting.client(CASEWORKER).post(
        f"{setting.url}transition/",
        {"to": Status.APPROVED, "reason": ""},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    assert response.status_code == 409
    assert "вы не можете перевести" in response.json()["message"]


@pytest.mark.django_db
def test_a_caseworker_cannot_approve_a_case_for_evacuation(setting):
    setting.put_case_in(Status.VERIFICATION)

    response = transition(setting, CASEWORKER, Status.APPROVED)

    assert response.status_code == 409
    assert response.json()["allowed"] == [Status.INTAKE, Status.WITHDRAWN, Status.LOST_CONTACT]
    assert setting.status() == Status.VERIFICATION


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [CASEWORKER, COORDINATOR])
def test_a_move_to_an_unknown_state_is_a_bad_request(setting, kind):
    response = transition(setting, kind, "teleported")

    assert response.status_code == 400
    assert "to" in response.json()["fields"]
    assert setting.status() == Status.INTAKE
    assert setting.timeline() == []


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"to": None}, {"to": ["verification"]}, {"reason": "x"}])
def test_a_move_without_a_target_state_is_a_bad_request(setting, body):
    response = setting.client(COORDINATOR).post(f"{setting.url}transition/", body, format="json")

    assert response.status_code == 400
    assert setting.status() == Status.INTAKE


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [CASEWORKER, COORDINATOR])
def test_an_erased_case_does_not_move(setting, kind):
    case_shred(case=Case.objects.get(pk=setting.case_id), actor=setting.users[COORDINATOR])

    response = transition(setting, kind, Status.VERIFICATION, "too late")

    # The erasure ended its assignments: out of the caseworker's scope, erased to a coordinator.
    assert response.status_code == (404 if kind == CASEWORKER else 409)
    assert setting.status() == Status.INTAKE
    assert setting.timeline() == []


@pytest.mark.django_db
def test_patch_cannot_write_the_status(setting):
    response = setting.client(COORDINATOR).patch(setting.url, {"status": "closed"}, format="json")

    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    assert setting.status() == Status.INTAKE


@pytest.mark.django_db
def test_a_risk_level_change_leaves_a_risk_entry_on_the_timeline(setting):
    client = setting.client(CASEWORKER)

    response = client.patch(setting.url, {"risk_level": "critical"}, format="json")

    assert response.status_code == 200
    [entry] = client.get(f"{setting.url}timeline/").json()["results"]
    assert entry["kind"] == "risk"
    assert (entry["from_value"], entry["to_value"]) == ("high", "critical")
    assert entry["actor"] == setting.users[CASEWORKER].username
    assert setting.status() == Status.INTAKE


@pytest.mark.django_db
def test_an_edit_that_keeps_the_risk_level_leaves_no_risk_entry(setting):
    client = setting.client(CASEWORKER)

    response = client.patch(setting.url, {"risk_level": "high", "summary": "same risk"})

    assert response.status_code == 200
    assert setting.timeline() == []
