"""Who may open or act on which money record through the pages, as one table (role x page x
`own`/`other`/`missing` record -> status), with real records:

- `own`: the request (and allocation) of the case the assigned caseworker works on, made by
  them; `other`: those of a case only a third caseworker works on; `missing`: an id that
  exists nowhere.
- Out of scope reads exactly like missing (404); a role the page does not name is 403 whatever
  the record; a form sent empty to a record one may act on is 400 (it reached the record, and
  did nothing); cancelling needs no field, so it is done (302); an allocation with money
  reserved on it is not closed (409).

Each request runs in a savepoint rolled back after it, so every actor meets the same records.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.test import Client

from accounts.roles import Role
from funds.services.disbursements import disbursement_request
from tests.funds.helpers import funded_case, terms
from tests.matrix import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    AUDITOR,
    COORDINATOR,
    CW_ASSIGNED,
    CW_UNASSIGNED,
    MISSING,
    OBJECTS,
    OTHER,
    OWN,
    new_staff,
)
from tests.web.helpers import signed_in_client

pytestmark = pytest.mark.django_db

DETAIL, CHANGE = "/funds/disbursements/{id}/", "/funds/disbursements/{id}/change/"
APPROVE, REJECT = "/funds/disbursements/{id}/approve/", "/funds/disbursements/{id}/reject/"
PAY, CANCEL = "/funds/disbursements/{id}/pay/", "/funds/disbursements/{id}/cancel/"
CLOSE = "/funds/allocations/{id}/close/"


def kinds(own: int, other: int, missing: int = 404) -> dict[str, int]:
    return {OWN: own, OTHER: other, MISSING: missing}


def same(status: int) -> dict[str, int]:
    return kinds(status, status, status)


DENIED = {ADMIN: same(403), ANONYMOUS: same(302)}
TABLE = {
    ("GET", DETAIL): {
        CW_ASSIGNED: kinds(200, 404),
        CW_UNASSIGNED: kinds(404, 404),
        COORDINATOR: kinds(200, 200),
        AUDITOR: kinds(200, 200),
        **DENIED,
    },
    ("GET", CHANGE): {  # only the requester changes a request
        CW_ASSIGNED: kinds(200, 404),
        CW_UNASSIGNED: kinds(404, 404),
        COORDINATOR: kinds(403, 403),
        AUDITOR: same(403),
        **DENIED,
    },
    ("POST", APPROVE): {
        CW_ASSIGNED: same(403),
        CW_UNASSIGNED: same(403),
        COORDINATOR: kinds(400, 400),
        AUDITOR: same(403),
        **DENIED,
    },
    ("POST", REJECT): {
        CW_ASSIGNED: same(403),
        CW_UNASSIGNED: same(403),
        COORDINATOR: kinds(400, 400),
        AUDITOR: same(403),
        **DENIED,
    },
    ("POST", PAY): {
        CW_ASSIGNED: same(403),
        CW_UNASSIGNED: same(403),
        COORDINATOR: kinds(400, 400),
        AUDITOR: same(403),
        **DENIED,
    },
    ("POST", CANCEL): {
        CW_ASSIGNED: kinds(302, 404),
        CW_UNASSIGNED: kinds(404, 404),
        COORDINATOR: kinds(302, 302),
        AUDITOR: same(403),
        **DENIED,
    },
    ("POST", CLOSE): {  # each allocation has an open request on it: 409, closed by nobody
        CW_ASSIGNED: same(403),
        CW_UNASSIGNED: same(403),
        COORDINATOR: kinds(409, 409),
        AUDITOR: same(403),
        **DENIED,
    },
}


@pytest.fixture
def world():
    people = {
        CW_ASSIGNED: new_staff(Role.CASEWORKER),
        CW_UNASSIGNED: new_staff(Role.CASEWORKER),
        COORDINATOR: new_staff(Role.COORDINATOR),
        AUDITOR: new_staff(Role.AUDITOR),
        ADMIN: new_staff(Role.ADMIN),
    }
    third = new_staff(Role.CASEWORKER)
    records = {}
    for kind, caseworker in ((OWN, people[CW_ASSIGNED]), (OTHER, third)):
        _, allocation = funded_case(caseworker, people[COORDINATOR], kind)
        item = disbursement_request(
            allocation=allocation, requested_by=caseworker, terms=terms(f"Payee {kind}")
        )
        records[kind] = {"disbursement": item.pk, "allocation": allocation.pk}
    records[MISSING] = {"disbursement": uuid.uuid4(), "allocation": uuid.uuid4()}
    return people, records


@pytest.mark.parametrize(("method", "path"), list(TABLE))
def test_money_pages_follow_the_table(world, method, path):
    people, records = world
    failures = []
    for actor in ACTORS:
        for kind in OBJECTS:
            target = "allocation" if path == CLOSE else "disbursement"
            url = path.format(id=records[kind][target])
            client = Client() if actor == ANONYMOUS else signed_in_client(people[actor])
            with transaction.atomic():
                response = getattr(client, method.lower())(url)
                transaction.set_rollback(True)
            wanted = TABLE[(method, path)][actor][kind]
            if response.status_code != wanted:
                failures.append(
                    f"{method} {path} {actor}/{kind}: {response.status_code} != {wanted}"
                )
    assert failures == []
