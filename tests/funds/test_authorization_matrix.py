"""Who may do what on the funds endpoints, as one table.

Every row is an endpoint, a method and a body; its expectations give the status for each kind
of caller (a caseworker assigned to the case, one who is not, a coordinator, an auditor, an
admin, no token) and each kind of object (`own`: the source, allocations and disbursements of
the assigned caseworker's case; `other`: those of a case only a third caseworker is assigned to;
`missing`: ids that exist nowhere). Rows whose object is named in the body rather than the path
(a new allocation's case and source, a new request's allocation) are run for each kind too. A
coverage test fails when the URL conf has a funds path or method the table does not cover.

design.md's table, as the rows encode it:
- sources: every money role reads every source (no personal data); coordinators write.
  `transparency/` is the donor report of a source: coordinators and auditors, like the summary.
- allocations: a caseworker reads only their cases' ones; coordinators read and write; auditors
  read.
- disbursements: a caseworker requests and cancels on their cases (a request against another
  case's allocation is a 400 "No such allocation.", exactly like an unknown one, since the id is
  a body field); a coordinator does everything but approve (or reject) their own request; only
  the requester changes a request (409 for anyone else in scope); auditors only read.
- reports: coordinators and auditors. Admins get 403 everywhere in funds; no token is 401.
- A method a path lacks is 405, decided after the role check and before any lookup, so it says
  nothing about the id.

Where the state matters, each kind has an object in the right state: a `requested` request (by
the case's caseworker) for approve/reject/cancel/change, an `approved` one for pay/, the
coordinator's own request (`mine`) for the four-eyes rows, and an allocation with nothing
reserved (`spare`) for close/. Steps that need a second factor carry a current code of the
acting user.

Speed: the objects are built once per module inside a transaction that is rolled back at the
end, and every test runs in its own savepoint inside it (pytest-django's `db`), so each test
meets the same untouched objects (and an unused second factor) without rebuilding them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import SealedTOTPDevice, User
from accounts.roles import Role
from accounts.services import token_issue
from funds.models import Allocation, Disbursement, FundingSource
from funds.services.disbursements import disbursement_approve, disbursement_request
from funds.services.sources import allocation_create
from tests.conftest import current_totp
from tests.funds.helpers import a_request, a_source, funded_case, record_rate, terms
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
from tests.urlconf import SAMPLE_ID

MONEY_ROLES = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR, AUDITOR)


# --- The expectation profiles ----------------------------------------------------------------


def _on(own: int, other: int, missing: int) -> dict[str, int]:
    return {OWN: own, OTHER: other, MISSING: missing, NO_OBJECT: own}


def _refused_roles(expect: Expect) -> Expect:
    """Admins get no money data at all; no token is 401 everywhere."""
    return {**expect, ADMIN: _everywhere(403), ANONYMOUS: _everywhere(401)}


def for_money_staff(status: int) -> Expect:
    """The same answer for every money role whatever the id: lists, OPTIONS, and the methods a
    path does not have (405)."""
    return _refused_roles({actor: _everywhere(status) for actor in MONEY_ROLES})


def readable_by_money_staff(ok: int) -> Expect:
    """Sources: every money role reads every one."""
    return _refused_roles({actor: _on(ok, ok, 404) for actor in MONEY_ROLES})


def coordinators_only(ok: int, missing: int = 404) -> Expect:
    """Refused (403) before any lookup for everyone else, so it says nothing about the id."""
    return _refused_roles(
        {
            CW_ASSIGNED: _everywhere(403),
            CW_UNASSIGNED: _everywhere(403),
            COORDINATOR: _on(ok, ok, missing),
            AUDITOR: _everywhere(403),
        }
    )


def reporting(ok: int, missing: int = 404) -> Expect:
    """Reports: coordinators and auditors. OPTIONS describes the view and looks nothing up."""
    return _refused_roles(
        {
            CW_ASSIGNED: _everywhere(403),
            CW_UNASSIGNED: _everywhere(403),
            COORDINATOR: _on(ok, ok, missing),
            AUDITOR: _on(ok, ok, missing),
        }
    )


def reporting_not_allowed() -> Expect:
    return _refused_roles(
        {
            CW_ASSIGNED: _everywhere(403),
            CW_UNASSIGNED: _everywhere(403),
            COORDINATOR: _everywhere(405),
            AUDITOR: _everywhere(405),
        }
    )


def case_scoped_read(ok: int) -> Expect:
    """A caseworker reads only their cases' records; out of scope reads like missing (404)."""
    return _refused_roles(
        {
            CW_ASSIGNED: _on(ok, 404, 404),
            CW_UNASSIGNED: _everywhere(404),
            COORDINATOR: _on(ok, ok, 404),
            AUDITOR: _on(ok, ok, 404),
        }
    )


def requesters(caseworker: int, coordinator: int, unseen: int = 404) -> Expect:
    """Caseworkers on their cases, coordinators on every case; auditors never act on money.
    `unseen` is what a record out of scope (or missing) answers."""
    return _refused_roles(
        {
            CW_ASSIGNED: _on(caseworker, unseen, unseen),
            CW_UNASSIGNED: _everywhere(unseen),
            COORDINATOR: _on(coordinator, coordinator, unseen),
            AUDITOR: _everywhere(403),
        }
    )


# --- The objects -------------------------------------------------------------------------------


PLACEHOLDERS = ("source", "case", "allocation", "spare", "requested", "approved", "mine", "rate")


@dataclass(frozen=True)
class Objects:
    source: str
    case: str
    allocation: str
    spare: str  # an allocation with nothing reserved: closable
    requested: str  # requested by the case's caseworker
    approved: str  # requested by the case's caseworker, approved by another coordinator
    mine: str  # requested by the coordinator
    rate: str  # a reference rate (no personal data, not tied to the case: read like a source)
    reference: str = ""
    payees: tuple[str, ...] = ()

    def ids(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in PLACEHOLDERS}


@dataclass(frozen=True)
class World:
    users: dict[str, User]  # by actor kind; the anonymous caller has none
    clients: dict[str, APIClient]  # one per actor, logged in once for the module
    objects: dict[str, Objects]  # by object kind

    def ids(self, kind: str) -> dict[str, str]:
        return self.objects[kind].ids()

    def unreadable_by(self, actor: str) -> tuple[str, ...]:
        """What the actor may never read: other cases' references, and payees they may not
        see in clear."""
        references = {CW_ASSIGNED: {OWN}, COORDINATOR: {OWN, OTHER}, AUDITOR: {OWN, OTHER}}
        payees = {CW_ASSIGNED: {OWN}, COORDINATOR: {OWN, OTHER}}
        hidden: list[str] = []
        for kind in (OWN, OTHER):
            if kind not in references.get(actor, set()):
                hidden.append(self.objects[kind].reference)
            if kind not in payees.get(actor, set()):
                hidden.extend(self.objects[kind].payees)
        return tuple(hidden)


def _money_for_a_case(caseworker: User, coordinator: User, approver: User, tag: str) -> Objects:
    """A case opened by `caseworker` (so assigned to them), a source, two allocations to the
    case and three requests in the states the rows need, each payee a unique marker."""
    case, allocation = funded_case(caseworker, coordinator, tag)
    source = allocation.source
    spare = allocation_create(
        source=source,
        case=case,
        category="food",
        amount=Decimal("100.00"),
        created_by=coordinator,
    )
    payees = tuple(f"Payee {tag}-{name}-{secrets.token_hex(6)}" for name in ("r", "a", "m"))
    requested = disbursement_request(
        allocation=allocation, requested_by=caseworker, terms=terms(payees[0])
    )
    approved = disbursement_request(
        allocation=allocation, requested_by=caseworker, terms=terms(payees[1])
    )
    disbursement_approve(disbursement=approved, approver=approver)
    mine = disbursement_request(
        allocation=allocation, requested_by=coordinator, terms=terms(payees[2])
    )
    rate = record_rate("RUB", "EUR", "0.0105", by=coordinator)
    return Objects(
        *(str(x.pk) for x in (source, case, allocation, spare, requested, approved, mine, rate)),
        reference=case.reference,
        payees=payees,
    )


def _client(user: User | None) -> APIClient:
    """The same kind of client as `client_for` in tests/conftest.py. Kept for the module: a
    client loads the middleware on its first request, which is most of a request's time."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
    return client


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
        bystander, approver = _staff(Role.CASEWORKER), _staff(Role.COORDINATOR)
        coordinator = users[COORDINATOR]
        yield World(
            users=users,
            clients={actor: _client(users.get(actor)) for actor in ACTORS},
            objects={
                OWN: _money_for_a_case(users[CW_ASSIGNED], coordinator, approver, OWN),
                OTHER: _money_for_a_case(bystander, coordinator, approver, OTHER),
                MISSING: Objects(*(str(uuid.uuid4()) for _ in PLACEHOLDERS)),
            },
        )
        transaction.set_rollback(True)


# --- Bodies ------------------------------------------------------------------------------------

Body = Callable[[World, str, str], Any]  # (world, actor, object kind) -> JSON body or None


def no_body(world: World, actor: str, kind: str) -> None:
    return None


def fixed(body: dict[str, Any]) -> Body:
    return lambda world, actor, kind: body


def current_code(world: World, actor: str) -> str:
    """The code the actor's authenticator shows now (any six digits for no one)."""
    if actor == ANONYMOUS:
        return "000000"
    return current_totp(SealedTOTPDevice.objects.get(user=world.users[actor]))


def new_allocation(world: World, actor: str, kind: str) -> dict[str, Any]:
    ids = world.ids(kind)
    return {"source": ids["source"], "case": ids["case"], "category": "travel", "amount": "50.00"}


def new_request(world: World, actor: str, kind: str) -> dict[str, Any]:
    return a_request(world.ids(kind)["allocation"], payee="Matrix payee")


def step_up(world: World, actor: str, kind: str) -> dict[str, Any]:
    return {"otp": current_code(world, actor), "comment": "checked"}


def payment(world: World, actor: str, kind: str) -> dict[str, Any]:
    return {"otp": current_code(world, actor), "receipt_reference": "MATRIX-RECEIPT"}


REASON = fixed({"reason": "no longer needed"})


def new_rate(world: World, actor: str, kind: str) -> dict[str, Any]:
    return {
        "from_currency": "RUB",
        "to_currency": "EUR",
        "rate": "0.0104",
        "rate_date": timezone.localdate().isoformat(),
        "rate_source": "Central Bank of Russia",
    }


# --- The table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    template: str  # under /api/v1/; placeholders are the keys of `Objects.ids()`
    method: str
    expect: Expect
    body: Body = no_body
    label: str = ""
    query: str = ""
    object_in_body: bool = False  # the row's object is named in its body, not its path
    content_type: str = "application/json"  # of a successful answer
    method_missing: bool = False  # a method the path does not have: refused, nothing runs

    @property
    def has_object(self) -> bool:
        return "{" in self.template or self.object_in_body

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}{self.query}" + (
            f" [{self.label}]" if self.label else ""
        )


def not_allowed(template: str, *methods: str) -> list[Row]:
    return [
        Row(template, method, for_money_staff(405), fixed({}), method_missing=True)
        for method in methods
    ]


def reports_not_allowed(template: str, *methods: str) -> list[Row]:
    return [
        Row(template, method, reporting_not_allowed(), fixed({}), method_missing=True)
        for method in methods
    ]


SOURCES = "funds/sources/"
SOURCE = "funds/sources/{source}/"
TRANSPARENCY = "funds/sources/{source}/transparency/"
ALLOCATIONS = "funds/allocations/"
ALLOCATION = "funds/allocations/{allocation}/"
CLOSE = "funds/allocations/{spare}/close/"
DISBURSEMENTS = "funds/disbursements/"
REQUESTED = "funds/disbursements/{requested}/"
MINE = "funds/disbursements/{mine}/"
SUMMARY = "funds/reports/summary/"
RATES = "funds/rates/"
RATE = "funds/rates/{rate}/"

TABLE: list[Row] = [
    # sources
    Row(SOURCES, "GET", for_money_staff(200)),
    Row(SOURCES, "HEAD", for_money_staff(200)),
    Row(SOURCES, "OPTIONS", for_money_staff(200)),
    Row(SOURCES, "POST", coordinators_only(201), fixed(a_source())),
    *not_allowed(SOURCES, "PUT", "PATCH", "DELETE"),
    Row(SOURCE, "GET", readable_by_money_staff(200)),
    Row(SOURCE, "HEAD", readable_by_money_staff(200)),
    Row(SOURCE, "OPTIONS", for_money_staff(200)),
    Row(SOURCE, "PATCH", coordinators_only(200), fixed({"notes": "checked the bank statement"})),
    *not_allowed(SOURCE, "POST", "PUT", "DELETE"),
    Row(TRANSPARENCY, "GET", reporting(200)),
    Row(TRANSPARENCY, "HEAD", reporting(200)),
    Row(TRANSPARENCY, "OPTIONS", reporting(200, missing=200)),
    *reports_not_allowed(TRANSPARENCY, "POST", "PUT", "PATCH", "DELETE"),
    # allocations
    Row(ALLOCATIONS, "GET", for_money_staff(200)),
    Row(ALLOCATIONS, "HEAD", for_money_staff(200)),
    Row(ALLOCATIONS, "OPTIONS", for_money_staff(200)),
    Row(ALLOCATIONS, "POST", coordinators_only(201, 400), new_allocation, object_in_body=True),
    *not_allowed(ALLOCATIONS, "PUT", "PATCH", "DELETE"),
    Row(ALLOCATION, "GET", case_scoped_read(200)),
    Row(ALLOCATION, "HEAD", case_scoped_read(200)),
    Row(ALLOCATION, "OPTIONS", for_money_staff(200)),
    *not_allowed(ALLOCATION, "POST", "PUT", "PATCH", "DELETE"),
    Row(CLOSE, "POST", coordinators_only(200)),
    Row(CLOSE, "OPTIONS", for_money_staff(200)),
    *not_allowed(CLOSE, "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    # disbursements
    Row(DISBURSEMENTS, "GET", for_money_staff(200)),
    Row(DISBURSEMENTS, "HEAD", for_money_staff(200)),
    Row(DISBURSEMENTS, "OPTIONS", for_money_staff(200)),
    Row(DISBURSEMENTS, "POST", requesters(201, 201, 400), new_request, object_in_body=True),
    *not_allowed(DISBURSEMENTS, "PUT", "PATCH", "DELETE"),
    Row(REQUESTED, "GET", case_scoped_read(200)),
    Row(REQUESTED, "HEAD", case_scoped_read(200)),
    Row(REQUESTED, "OPTIONS", for_money_staff(200)),
    Row(REQUESTED, "PATCH", requesters(200, 409), fixed({"purpose": "Train tickets"})),
    Row(MINE, "PATCH", requesters(409, 200), fixed({"purpose": "Train tickets"}), "own request"),
    *not_allowed(REQUESTED, "POST", "PUT", "DELETE"),
    Row(f"{REQUESTED}approve/", "POST", coordinators_only(200), step_up),
    Row(f"{MINE}approve/", "POST", coordinators_only(409), step_up, "own request"),
    Row(f"{REQUESTED}approve/", "OPTIONS", for_money_staff(200)),
    *not_allowed(f"{REQUESTED}approve/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    Row(f"{REQUESTED}reject/", "POST", coordinators_only(200), REASON),
    Row(f"{MINE}reject/", "POST", coordinators_only(409), REASON, "own request"),
    Row(f"{REQUESTED}reject/", "OPTIONS", for_money_staff(200)),
    *not_allowed(f"{REQUESTED}reject/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    Row(f"{REQUESTED}cancel/", "POST", requesters(200, 200), REASON),
    Row(f"{MINE}cancel/", "POST", requesters(200, 200), REASON, "coordinator's request"),
    Row(f"{REQUESTED}cancel/", "OPTIONS", for_money_staff(200)),
    *not_allowed(f"{REQUESTED}cancel/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    Row("funds/disbursements/{approved}/pay/", "POST", coordinators_only(200), payment),
    Row(f"{REQUESTED}pay/", "OPTIONS", for_money_staff(200)),
    *not_allowed(f"{REQUESTED}pay/", "GET", "HEAD", "PUT", "PATCH", "DELETE"),
    # reference rates: read like sources, recorded by coordinators, never changed
    Row(RATES, "GET", for_money_staff(200)),
    Row(RATES, "HEAD", for_money_staff(200)),
    Row(RATES, "OPTIONS", for_money_staff(200)),
    Row(RATES, "POST", coordinators_only(201), new_rate),
    *not_allowed(RATES, "PUT", "PATCH", "DELETE"),
    Row(RATE, "GET", readable_by_money_staff(200)),
    Row(RATE, "HEAD", readable_by_money_staff(200)),
    Row(RATE, "OPTIONS", for_money_staff(200)),
    *not_allowed(RATE, "POST", "PUT", "PATCH", "DELETE"),
    # reports
    Row(SUMMARY, "GET", reporting(200)),
    Row(SUMMARY, "GET", reporting(200), query="?format=csv", content_type="text/csv"),
    Row(SUMMARY, "HEAD", reporting(200)),
    Row(SUMMARY, "OPTIONS", reporting(200)),
    *reports_not_allowed(SUMMARY, "POST", "PUT", "PATCH", "DELETE"),
]


def kinds_of(row: Row) -> tuple[str, ...]:
    return OBJECTS if row.has_object else (NO_OBJECT,)


def _cases() -> Iterator[Any]:
    for row in TABLE:
        if row.method_missing:
            continue
        for actor in ACTORS:
            for kind in kinds_of(row):
                yield pytest.param(row, actor, kind, id=f"{row.id} | {actor} | {kind}")


# --- Requests ----------------------------------------------------------------------------------


def client_as(world: World, actor: str) -> APIClient:
    return world.clients[actor]


def path_for(row: Row, ids: dict[str, str]) -> str:
    return API + row.template.format(**ids) + row.query


def request_row(world: World, row: Row, actor: str, kind: str):
    ids = world.ids(OWN if kind == NO_OBJECT else kind)
    body = row.body(world, actor, kind)
    return send(client_as(world, actor), row.method, path_for(row, ids), body)


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "actor", "kind"), list(_cases()))
def test_endpoint_answers_each_caller_as_the_table_says(world, row, actor, kind):
    response = request_row(world, row, actor, kind)

    status = row.expect[actor][kind]
    assert response.status_code == status, response.content[:500]
    if row.method != "HEAD":
        # Never a Django HTML page: every answer, refusals included, is the API's JSON.
        expected_type = row.content_type if status < 300 else "application/json"
        assert response["Content-Type"].startswith(expected_type)
    leaked = [m for m in world.unreadable_by(actor) if m.encode() in response.content]
    assert not leaked, f"the response reveals {len(leaked)} marker(s) it must not"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "row", [row for row in TABLE if row.method_missing], ids=lambda row: row.id
)
def test_a_method_the_path_lacks_is_refused_alike_for_every_id(world, row):
    # One test per row, every caller and id in it (nothing runs, so nothing needs undoing):
    # 405 for the roles that may use the path, the role refusal for the others.
    answers = {
        (actor, kind): request_row(world, row, actor, kind)
        for actor in ACTORS
        for kind in kinds_of(row)
    }

    statuses = {key: response.status_code for key, response in answers.items()}
    assert statuses == {(actor, kind): row.expect[actor][kind] for actor, kind in answers}
    if row.method != "HEAD":
        types = {response["Content-Type"] for response in answers.values()}
        assert types == {"application/json"}


# --- Out of scope reads exactly like missing -----------------------------------------------------

OUT_OF_SCOPE = [
    pytest.param(row, actor, hidden, id=f"{row.id} | {actor} | {hidden}")
    for row in TABLE
    if row.has_object and row.expect[CW_ASSIGNED][OTHER] in (400, 404)
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

    assert hidden_answer.status_code == missing_answer.status_code
    assert hidden_answer.status_code in (400, 404)
    assert _with_ids_masked(hidden_answer.content, world.ids(hidden)) == _with_ids_masked(
        missing_answer.content, world.ids(MISSING)
    )
    for header in ("Content-Type", "Allow", "Vary"):
        assert hidden_answer.get(header) == missing_answer.get(header), header


# --- Refused writes change nothing ----------------------------------------------------------------


def _writes(row: Row) -> bool:
    return row.method in ("POST", "PATCH") and any(
        status < 300 for expect in row.expect.values() for status in expect.values()
    )


REFUSED_WRITES = [
    pytest.param(row, actor, kind, id=f"{row.id} | {actor} | {kind}")
    for row in TABLE
    if _writes(row)
    for actor in ACTORS
    for kind in (OWN, OTHER)
    if row.has_object and row.expect[actor][kind] >= 400
]


def _money_state() -> list[tuple]:
    return [
        *FundingSource.objects.order_by("pk").values_list("pk", "allocated", "notes"),
        *Allocation.objects.order_by("pk").values_list("pk", "status", "reserved", "spent"),
        *Disbursement.objects.order_by("pk").values_list(
            "pk", "status", "purpose", "amount", "approved_at", "paid_at", "closed_at"
        ),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "actor", "kind"), REFUSED_WRITES)
def test_a_refused_write_changes_no_money_record(world, row, actor, kind):
    before = _money_state()

    response = request_row(world, row, actor, kind)

    assert response.status_code >= 400
    assert _money_state() == before


# --- Lists hold only what is in scope -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        (CW_ASSIGNED, {OWN}),
        (CW_UNASSIGNED, set()),
        (COORDINATOR, {OWN, OTHER}),
        (AUDITOR, {OWN, OTHER}),
    ],
)
@pytest.mark.parametrize(
    ("template", "names"),
    [
        (ALLOCATIONS, ("allocation", "spare")),
        (DISBURSEMENTS, ("requested", "approved", "mine")),
    ],
)
def test_a_list_holds_exactly_the_callers_records(world, actor, visible, template, names):
    listed = send(client_as(world, actor), "GET", API + template).json()["results"]

    expected = {world.ids(kind)[name] for kind in visible for name in names}
    assert {item["id"] for item in listed} == expected


@pytest.mark.django_db
def test_the_leak_markers_are_in_what_a_coordinator_reads(world):
    # So the leak check of the matrix can fail: the markers are real values the API shows.
    listed = send(client_as(world, COORDINATOR), "GET", API + DISBURSEMENTS).content

    markers = world.unreadable_by(ADMIN)
    assert len(markers) == 8
    assert all(marker.encode() in listed for marker in markers)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", MONEY_ROLES)
def test_every_money_role_lists_every_source(world, actor):
    listed = send(client_as(world, actor), "GET", API + SOURCES).json()["results"]

    assert {item["id"] for item in listed} == {world.ids(kind)["source"] for kind in (OWN, OTHER)}


# --- The table covers the URL conf ----------------------------------------------------------------


def _concrete(template: str) -> str:
    return API + template.format(**dict.fromkeys(PLACEHOLDERS, SAMPLE_ID))


def test_the_table_covers_every_funds_url_and_method():
    covered = {(_concrete(row.template), row.method) for row in TABLE}

    routed, missing, stale = table_gaps((f"{API}funds/",), covered)
    assert routed, "the URL enumeration found no funds endpoint"
    assert not missing, f"paths and methods the table does not cover: {missing}"
    assert not stale, f"rows for paths the URL conf does not have: {stale}"


def test_every_row_names_a_status_for_every_caller_and_object():
    for row in TABLE:
        kinds = OBJECTS if row.has_object else (NO_OBJECT,)
        assert all(kind in row.expect[actor] for actor in ACTORS for kind in kinds), row.id


@pytest.mark.django_db
def test_the_objects_are_untouched_after_the_tests_that_changed_them(world):
    # Runs after the matrix (pytest keeps the module's order): approvals, payments, closes and
    # edits were each undone with their test, so every row met the objects as built.
    for kind in (OWN, OTHER):
        ids = world.ids(kind)
        statuses = dict(
            Disbursement.objects.filter(allocation_id=ids["allocation"]).values_list("pk", "status")
        )
        assert {str(pk): status for pk, status in statuses.items()} == {
            ids["requested"]: "requested",
            ids["approved"]: "approved",
            ids["mine"]: "requested",
        }
        allocation = Allocation.objects.get(pk=ids["allocation"])
        assert (allocation.status, allocation.reserved, allocation.spent) == (
            "active",
            Decimal("360.00"),
            Decimal(0),
        )
        assert Allocation.objects.get(pk=ids["spare"]).status == "active"
        assert FundingSource.objects.get(pk=ids["source"]).allocated == Decimal("1100.00")
