"""Who may do what on the case and people endpoints, as one table.

Every row is an endpoint, a method and a body; its expectations give the status for each kind
of caller (a caseworker assigned to the case, one who is not, a coordinator, an auditor, an
admin, no token) and each kind of object (`own`: the assigned caseworker's case and its need,
note and person; `other`: a case only a third caseworker is assigned to; `missing`: ids that
exist nowhere). The parametrisation is generated from the table, and a coverage test fails when
the URL conf has a path or a method the table does not cover, so a new endpoint cannot ship
without its row.

What DRF really does with a method a path does not have, and why the table accepts it: the
role check runs first (in `initial()`), then the method dispatch, then any lookup. So auditors
and admins get 403 and no token gets 401 on every method; caseworkers and coordinators get 405,
whatever the id. On the coordinator-only paths (`assign/`, `erase/`) DRF resolves no action for
a method the path lacks, so the view applies the general case-user check and a caseworker gets
405 there too (403 for the POST). None of these answers depends on the record or carries data.

Speed: the objects are built once per module inside a transaction that is rolled back at the
end, and every test runs in its own savepoint inside it (pytest-django's `db`), so each test
starts from the same untouched objects even after an erase or a transition, without rebuilding
them. Nothing the tests touch is cached outside the database (unwrapped data keys live on the
loaded rows only; the shared cache is emptied before each test by `tests/conftest.py`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from accounts.services import token_issue
from cases.models import Case, CaseMember
from cases.services import Member, case_create, case_transition, need_create, note_create
from people.models import Person
from people.services import person_create
from tests.erasure import erase_body
from tests.matrix import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    API,
    AUDITOR,
    COORDINATOR,
    CW_ASSIGNED,
    CW_UNASSIGNED,
    MISSING,
    NO_OBJECT,
    OBJECTS,
    OTHER,
    OWN,
    Expect,
    send,
    table_gaps,
)
from tests.matrix import everywhere as _everywhere
from tests.matrix import new_staff as _staff
from tests.people.helpers import a_person
from tests.urlconf import SAMPLE_ID

# --- The expectation profiles ----------------------------------------------------------------


def _refused_roles(expect: dict[str, dict[str, int]]) -> Expect:
    """Auditors and admins get no case or people data at all; no token is 401 everywhere."""
    return {
        **expect,
        AUDITOR: _everywhere(403),
        ADMIN: _everywhere(403),
        ANONYMOUS: _everywhere(401),
    }


def scoped(ok: int) -> Expect:
    """A caseworker reaches only their assigned cases (and the people on them); a coordinator
    reaches every one. Out of scope reads exactly like missing: 404."""
    return _refused_roles(
        {
            CW_ASSIGNED: {OWN: ok, OTHER: 404, MISSING: 404},
            CW_UNASSIGNED: {OWN: 404, OTHER: 404, MISSING: 404},
            COORDINATOR: {OWN: ok, OTHER: ok, MISSING: 404},
        }
    )


def steering(ok: int) -> Expect:
    """Coordinators only; a caseworker is refused before any lookup, so 403 says nothing about
    whether the id exists."""
    return _refused_roles(
        {
            CW_ASSIGNED: _everywhere(403),
            CW_UNASSIGNED: _everywhere(403),
            COORDINATOR: {OWN: ok, OTHER: ok, MISSING: 404},
        }
    )


def for_coordinators(status: int, caseworkers: int = 403) -> Expect:
    """A path only coordinators may use, naming no record (`staff/directory/`)."""
    return _refused_roles(
        {
            CW_ASSIGNED: _everywhere(caseworkers),
            CW_UNASSIGNED: _everywhere(caseworkers),
            COORDINATOR: _everywhere(status),
        }
    )


def for_case_staff(status: int) -> Expect:
    """The same answer for every caseworker and coordinator, whatever the id: lists, creates,
    OPTIONS (which describes the endpoint, never a record) and the methods a path does not have
    (405, decided before any lookup, so it says nothing about the id either)."""
    return _refused_roles(
        {actor: _everywhere(status) for actor in (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR)}
    )


# --- The objects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Objects:
    case: str
    person: str
    need: str
    note: str
    member: str  # on the household beside the primary person
    person_name: str = ""
    markers: tuple[str, ...] = ()  # what only those who may see this case may ever read


@dataclass(frozen=True)
class World:
    users: dict[str, User]  # by actor kind; the anonymous caller has none
    bystander: User  # the only caseworker on the `other` case
    objects: dict[str, Objects]  # by object kind

    def ids(self, kind: str) -> dict[str, str]:
        chosen = self.objects[kind]
        return {
            "case": chosen.case,
            "person": chosen.person,
            "need": chosen.need,
            "note": chosen.note,
            "member": chosen.member,
        }

    def unreadable_by(self, actor: str) -> tuple[str, ...]:
        readable = {CW_ASSIGNED: {OWN}, COORDINATOR: {OWN, OTHER}}.get(actor, set())
        return tuple(
            marker
            for kind in (OWN, OTHER)
            if kind not in readable
            for marker in self.objects[kind].markers
        )


def _case_with_items(caseworker: User, tag: str) -> Objects:
    """A case opened by `caseworker` (so assigned to them), with a person, a household member, a
    need, a note and a timeline entry, every secret carrying one random marker."""
    secret = f"{tag}-{secrets.token_hex(8)}"
    name = f"Person {secret}"
    person = person_create(created_by=caseworker, full_name=name, notes=f"notes {secret}")
    member = person_create(created_by=caseworker, full_name=f"Partner {secret}")
    case = case_create(
        created_by=caseworker,
        primary_person=person,
        members=[Member(person=member, relationship="partner")],
        risk_level="high",
        summary=f"summary {secret}",
        location=f"location {secret}",
        safe_contact=f"contact {secret}",
    )
    need = need_create(
        case=case, created_by=caseworker, category="travel", description=f"need {secret}"
    )
    note = note_create(case=case, author=caseworker, body=f"note {secret}")
    case_transition(case=case, actor=caseworker, to="verification", reason=f"reason {secret}")
    entry = case.timeline.get()
    ids = [str(x) for x in (case.pk, person.pk, need.pk, note.pk, member.pk, entry.pk)]
    return Objects(
        case=ids[0],
        person=ids[1],
        need=ids[2],
        note=ids[3],
        member=ids[4],
        person_name=name,
        markers=(secret, case.reference, *ids),
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    # Rolled back when the module is done; each test's own savepoint undoes what it changed.
    with django_db_blocker.unblock(), transaction.atomic():
        users = {
            CW_ASSIGNED: _staff(Role.CASEWORKER),
            CW_UNASSIGNED: _staff(Role.CASEWORKER),
            COORDINATOR: _staff(Role.COORDINATOR),
            AUDITOR: _staff(Role.AUDITOR),
            ADMIN: _staff(Role.ADMIN),
        }
        bystander = _staff(Role.CASEWORKER)
        missing = Objects(*(str(uuid.uuid4()) for _ in range(5)))
        yield World(
            users=users,
            bystander=bystander,
            objects={
                OWN: _case_with_items(users[CW_ASSIGNED], OWN),
                OTHER: _case_with_items(bystander, OTHER),
                MISSING: missing,
            },
        )
        transaction.set_rollback(True)


# --- Bodies ------------------------------------------------------------------------------------

Body = Callable[[World, str, str], Any]  # (world, actor, object kind) -> JSON body or None


def no_body(world: World, actor: str, kind: str) -> None:
    return None


def fixed(body: dict[str, Any]) -> Body:
    return lambda world, actor, kind: body


def new_case(world: World, actor: str, kind: str) -> dict[str, Any]:
    # A person the caller recorded and who is on no case yet: in every case-user's scope.
    recorder = world.users.get(actor, world.users[COORDINATOR])
    person = person_create(created_by=recorder, full_name="Newly Recorded")
    return {"primary_person": str(person.pk), "risk_level": "medium"}


def new_member(world: World, actor: str, kind: str) -> dict[str, Any]:
    recorder = world.users.get(actor, world.users[COORDINATOR])
    person = person_create(created_by=recorder, full_name="Newly Recorded Sibling")
    return {"person": str(person.pk), "relationship": "sibling", "reason": "joined"}


def own_person_name(world: World, actor: str, kind: str) -> dict[str, Any]:
    return {"full_name": world.objects[OWN].person_name}


def fresh_code(world: World, actor: str, kind: str) -> dict[str, Any]:
    """An erasure's body: a fresh code of the actor's (any six digits for no one)."""
    user = world.users.get(actor)
    return erase_body(user) if user is not None else {"otp": "000000"}


def assigned_caseworker(world: World, actor: str, kind: str) -> dict[str, Any]:
    return {"caseworkers": [world.users[CW_ASSIGNED].username]}


# --- The table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    template: str  # under /api/v1/; placeholders {case}, {need}, {note}, {person}, {member}
    method: str
    expect: Expect
    body: Body = no_body
    label: str = ""

    @property
    def has_object(self) -> bool:
        return "{" in self.template

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}" + (f" [{self.label}]" if self.label else "")


def not_allowed(template: str, *methods: str) -> list[Row]:
    return [Row(template, method, for_case_staff(405), fixed({})) for method in methods]


CASE = "cases/{case}/"
NEEDS = "cases/{case}/needs/"
NEED = "cases/{case}/needs/{need}/"
NOTES = "cases/{case}/notes/"
NOTE = "cases/{case}/notes/{note}/"
PERSON = "people/{person}/"
MEMBER_REMOVE = "cases/{case}/members/{member}/remove/"

TABLE: list[Row] = [
    # cases/
    Row("cases/", "GET", for_case_staff(200)),
    Row("cases/", "HEAD", for_case_staff(200)),
    Row("cases/", "OPTIONS", for_case_staff(200)),
    Row("cases/", "POST", for_case_staff(201), new_case),
    *not_allowed("cases/", "PUT", "PATCH", "DELETE"),
    # cases/{id}/
    Row(CASE, "GET", scoped(200)),
    Row(CASE, "HEAD", scoped(200)),
    Row(CASE, "OPTIONS", for_case_staff(200)),
    Row(CASE, "PATCH", scoped(200), fixed({"risk_level": "low", "summary": "moved on"})),
    Row(CASE, "PATCH", scoped(400), fixed({"status": "closed"}), "status"),
    Row(CASE, "PATCH", scoped(400), fixed({"assigned_to": ["someone"]}), "assigned_to"),
    *not_allowed(CASE, "POST", "PUT", "DELETE"),
    # the case's actions
    Row(f"{CASE}transition/", "POST", scoped(200), fixed({"to": "intake", "reason": "back"})),
    Row(f"{CASE}transition/", "OPTIONS", for_case_staff(200)),
    *not_allowed(f"{CASE}transition/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    Row(f"{CASE}assign/", "POST", steering(200), assigned_caseworker),
    Row(f"{CASE}assign/", "OPTIONS", for_case_staff(200)),
    *not_allowed(f"{CASE}assign/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    Row(f"{CASE}erase/", "POST", steering(200), fresh_code),
    Row(f"{CASE}erase/", "OPTIONS", for_case_staff(200)),
    *not_allowed(f"{CASE}erase/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    # the household, one person at a time
    Row(f"{CASE}members/", "POST", scoped(201), new_member),
    Row(f"{CASE}members/", "OPTIONS", for_case_staff(200)),
    *not_allowed(f"{CASE}members/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    Row(MEMBER_REMOVE, "POST", scoped(200), fixed({"reason": "went back"})),
    Row(MEMBER_REMOVE, "OPTIONS", for_case_staff(200)),
    *not_allowed(MEMBER_REMOVE, "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    # the queues: the needs across cases; whom to assign
    Row("needs/", "GET", for_case_staff(200)),
    Row("needs/", "HEAD", for_case_staff(200)),
    Row("needs/", "OPTIONS", for_case_staff(200)),
    *not_allowed("needs/", "POST", "PUT", "PATCH", "DELETE"),
    Row("staff/directory/", "GET", for_coordinators(200)),
    Row("staff/directory/", "HEAD", for_coordinators(200)),
    Row("staff/directory/", "OPTIONS", for_coordinators(200)),
    *(
        Row("staff/directory/", method, for_coordinators(405), fixed({}))
        for method in ("POST", "PUT", "PATCH", "DELETE")
    ),
    # needs
    Row(NEEDS, "GET", scoped(200)),
    Row(NEEDS, "HEAD", scoped(200)),
    Row(NEEDS, "OPTIONS", for_case_staff(200)),
    Row(NEEDS, "POST", scoped(201), fixed({"category": "food", "description": "three days"})),
    *not_allowed(NEEDS, "PUT", "PATCH", "DELETE"),
    Row(NEED, "GET", scoped(200)),
    Row(NEED, "HEAD", scoped(200)),
    Row(NEED, "OPTIONS", for_case_staff(200)),
    Row(NEED, "PATCH", scoped(200), fixed({"urgency": "critical"})),
    *not_allowed(NEED, "POST", "PUT", "DELETE"),
    # notes: append-only
    Row(NOTES, "GET", scoped(200)),
    Row(NOTES, "HEAD", scoped(200)),
    Row(NOTES, "OPTIONS", for_case_staff(200)),
    Row(NOTES, "POST", scoped(201), fixed({"body": "called back, safe"})),
    *not_allowed(NOTES, "PUT", "PATCH", "DELETE"),
    Row(NOTE, "GET", scoped(200)),
    Row(NOTE, "HEAD", scoped(200)),
    Row(NOTE, "OPTIONS", for_case_staff(200)),
    *not_allowed(NOTE, "POST", "PUT", "PATCH", "DELETE"),
    # timeline: read-only
    Row("cases/{case}/timeline/", "GET", scoped(200)),
    Row("cases/{case}/timeline/", "HEAD", scoped(200)),
    Row("cases/{case}/timeline/", "OPTIONS", for_case_staff(200)),
    *not_allowed("cases/{case}/timeline/", "POST", "PUT", "PATCH", "DELETE"),
    # people/
    Row("people/", "GET", for_case_staff(200)),
    Row("people/", "HEAD", for_case_staff(200)),
    Row("people/", "OPTIONS", for_case_staff(200)),
    Row("people/", "POST", for_case_staff(201), fixed(a_person(full_name="Recorded Here"))),
    *not_allowed("people/", "PUT", "PATCH", "DELETE"),
    Row("people/duplicates/", "POST", for_case_staff(200), own_person_name),
    Row("people/duplicates/", "OPTIONS", for_case_staff(200)),
    *not_allowed("people/duplicates/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    Row(PERSON, "GET", scoped(200)),
    Row(PERSON, "HEAD", scoped(200)),
    Row(PERSON, "OPTIONS", for_case_staff(200)),
    Row(PERSON, "PATCH", scoped(200), fixed({"preferred_name": "Alias"})),
    *not_allowed(PERSON, "POST", "PUT", "DELETE"),
    Row(f"{PERSON}erase/", "POST", steering(200), fresh_code),
    Row(f"{PERSON}erase/", "OPTIONS", for_case_staff(200)),
    *not_allowed(f"{PERSON}erase/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
]


def _cases() -> Iterator[Any]:
    for row in TABLE:
        for actor in ACTORS:
            for kind in OBJECTS if row.has_object else (NO_OBJECT,):
                yield pytest.param(row, actor, kind, id=f"{row.id} | {actor} | {kind}")


# --- Requests ----------------------------------------------------------------------------------


def client_as(world: World, actor: str) -> APIClient:
    """The same kind of client as `client_for` in tests/conftest.py, for the module's users."""
    client = APIClient()
    if actor != ANONYMOUS:
        token = token_issue(user=world.users[actor]).token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def path_for(template: str, ids: dict[str, str]) -> str:
    return API + template.format(**ids)


def request_row(world: World, row: Row, actor: str, kind: str):
    ids = world.ids(OWN if kind == NO_OBJECT else kind)
    body = row.body(world, actor, kind)
    return send(client_as(world, actor), row.method, path_for(row.template, ids), body)


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "actor", "kind"), list(_cases()))
def test_endpoint_answers_each_caller_as_the_table_says(world, row, actor, kind):
    response = request_row(world, row, actor, kind)

    assert response.status_code == row.expect[actor][kind], response.content[:500]
    if row.method != "HEAD":
        # Never a Django HTML page: every answer, refusals included, is the API's JSON.
        assert response["Content-Type"].startswith("application/json")
    leaked = [m for m in world.unreadable_by(actor) if m.encode() in response.content]
    assert not leaked, f"the response reveals {leaked}"


# --- Out of scope reads exactly like missing -----------------------------------------------------

OUT_OF_SCOPE = [
    pytest.param(row, actor, hidden, id=f"{row.id} | {actor} | {hidden}")
    for row in TABLE
    if row.has_object and row.expect[CW_ASSIGNED][OTHER] == 404
    for actor, hidden in ((CW_ASSIGNED, OTHER), (CW_UNASSIGNED, OWN))
]


def _with_ids_masked(content: bytes, ids: dict[str, str]) -> bytes:
    for value in ids.values():
        content = content.replace(value.encode(), b"<id>")
    return content


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "actor", "hidden"), OUT_OF_SCOPE)
def test_a_record_out_of_scope_answers_exactly_like_a_missing_one(world, row, actor, hidden):
    hidden_answer = request_row(world, row, actor, hidden)
    missing_answer = request_row(world, row, actor, MISSING)

    assert hidden_answer.status_code == missing_answer.status_code == 404
    assert _with_ids_masked(hidden_answer.content, world.ids(hidden)) == _with_ids_masked(
        missing_answer.content, world.ids(MISSING)
    )
    for header in ("Content-Type", "Allow", "Vary"):
        assert hidden_answer.get(header) == missing_answer.get(header), header


@pytest.mark.django_db
@pytest.mark.parametrize("template", [NEED, NOTE])
@pytest.mark.parametrize("actor", [CW_ASSIGNED, COORDINATOR])
def test_an_item_of_another_case_is_not_reached_through_ones_own_case(world, template, actor):
    own_case_other_item = {**world.ids(OTHER), "case": world.objects[OWN].case}
    client = client_as(world, actor)

    crossed = send(client, "GET", path_for(template, own_case_other_item))
    missing = send(client, "GET", path_for(template, world.ids(MISSING)))

    assert crossed.status_code == 404
    assert _with_ids_masked(crossed.content, own_case_other_item) == _with_ids_masked(
        missing.content, world.ids(MISSING)
    )


PERSON_REFERENCES = {
    "primary person of a new case": (
        "POST",
        "cases/",
        lambda p: {"risk_level": "low", "primary_person": p},
    ),
    "primary person of one's case": (
        "PATCH",
        CASE,
        lambda p: {"risk_level": "low", "primary_person": p},
    ),
    "member of one's case": (
        "POST",
        f"{CASE}members/",
        lambda p: {"person": p, "relationship": "partner"},
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("reference", list(PERSON_REFERENCES))
def test_a_person_out_of_scope_named_in_a_body_reads_as_unknown(world, reference):
    method, template, body = PERSON_REFERENCES[reference]
    client = client_as(world, CW_ASSIGNED)
    path = path_for(template, world.ids(OWN))

    hidden = send(client, method, path, body(world.objects[OTHER].person))
    missing = send(client, method, path, body(world.objects[MISSING].person))

    assert hidden.status_code == missing.status_code == 400
    assert _with_ids_masked(hidden.content, world.ids(OTHER)) == _with_ids_masked(
        missing.content, world.ids(MISSING)
    )
    assert list(CaseMember.objects.filter(person_id=world.objects[OTHER].person)) == [
        CaseMember.objects.get(
            case_id=world.objects[OTHER].case, person_id=world.objects[OTHER].person
        )
    ]


# --- Lists hold only what is in scope -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "visible"),
    [(CW_ASSIGNED, {OWN}), (CW_UNASSIGNED, set()), (COORDINATOR, {OWN, OTHER})],
)
@pytest.mark.parametrize(
    ("template", "fields", "key"),
    [
        ("cases/", ("case",), "id"),
        ("people/", ("person", "member"), "id"),
        ("needs/", ("need",), "id"),
        ("needs/", ("case",), "case"),
    ],
)
def test_a_list_holds_exactly_the_callers_records(world, actor, visible, template, fields, key):
    listed = send(client_as(world, actor), "GET", API + template).json()["results"]

    expected = {getattr(world.objects[kind], field) for kind in visible for field in fields}
    assert {item[key] for item in listed} == expected


# --- The table covers the URL conf ----------------------------------------------------------------


def _concrete(template: str) -> str:
    return API + template.format(
        case=SAMPLE_ID, need=SAMPLE_ID, note=SAMPLE_ID, person=SAMPLE_ID, member=SAMPLE_ID
    )


def test_the_table_covers_every_case_and_people_url_and_method():
    covered = {(_concrete(row.template), row.method) for row in TABLE}

    prefixes = (f"{API}cases/", f"{API}people/", f"{API}needs/", f"{API}staff/directory/")
    routed, missing, stale = table_gaps(prefixes, covered)
    assert routed, "the URL enumeration found no case or people endpoint"
    assert not missing, f"paths and methods the table does not cover: {missing}"
    assert not stale, f"rows for paths the URL conf does not have: {stale}"


def test_every_row_names_a_status_for_every_caller_and_object():
    for row in TABLE:
        kinds = OBJECTS if row.has_object else (NO_OBJECT,)
        assert all(kind in row.expect[actor] for actor in ACTORS for kind in kinds), row.id


@pytest.mark.django_db
def test_the_objects_are_untouched_after_the_tests_that_changed_them(world):
    # Runs after the matrix (pytest keeps the module's order): erase, transition, assign and
    # the edits were each undone with their test, so every row met the objects as built.
    for kind, caseworker in ((OWN, world.users[CW_ASSIGNED]), (OTHER, world.bystander)):
        chosen = world.objects[kind]
        case = Case.objects.get(pk=chosen.case)
        assert (case.status, case.risk_level, case.erased) == ("verification", "high", False)
        assert {a.user_id for a in case.assignments.all()} == {caseworker.pk}
        assert case.needs.get().urgency == "medium"
        assert case.memberships.current().count() == 2
        assert (case.needs.count(), case.notes.count(), case.timeline.count()) == (1, 1, 1)
        assert not Person.objects.get(pk=chosen.person).erased
