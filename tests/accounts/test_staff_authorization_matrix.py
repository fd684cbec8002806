"""Who may use the admins' staff endpoints, as one table (caller x endpoint x method x object
-> status), with a check that the table covers every `staff/` address of the URL conf
(`staff/directory/` is the coordinators', in the cases matrix).

Objects: `other` is an existing staff member (or an existing change to one), `missing` an id
that exists nowhere. DRF checks the role before the method and the record, so every refusal of a
non-admin is 403 and says nothing about the id; no token is 401. Admins' writes are sent with an
empty body (400, the body is checked before the record) except `unlock/`, which is sent whole,
with a fresh code (200 for a member, 404 for a missing one).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import staff_roles_request, token_issue
from tests.matrix import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    API,
    AUDITOR,
    COORDINATOR,
    CW_ASSIGNED,
    CW_UNASSIGNED,
    METHODS,
    MISSING,
    OTHER,
    send,
    table_gaps,
)
from tests.urlconf import SAMPLE_ID

ROLE_OF = {
    CW_ASSIGNED: Role.CASEWORKER,
    CW_UNASSIGNED: Role.CASEWORKER,
    COORDINATOR: Role.COORDINATOR,
    AUDITOR: Role.AUDITOR,
    ADMIN: Role.ADMIN,
}
KINDS = (OTHER, MISSING)
ACTIONS = ("roles", "deactivate", "reactivate", "reset-second-factor", "revoke-tokens")


@dataclass(frozen=True)
class Row:
    template: str  # `{id}`: a staff member's or a change's id
    method: str
    admin: dict[str, int]  # object kind -> status for an admin
    fresh_code: bool = False  # send {"otp": <a fresh code of the caller>}

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}"


def _rows(template: str, answers: dict[str, dict[str, int] | int], **options) -> list[Row]:
    rows = []
    for method in METHODS:
        answer = answers.get(method, 405)
        admin = answer if isinstance(answer, dict) else dict.fromkeys(KINDS, answer)
        rows.append(Row(template, method, admin, **options))
    return rows


FOUND = {OTHER: 200, MISSING: 404}
TABLE = [
    *_rows("staff/", {"GET": 200, "HEAD": 200, "OPTIONS": 200, "POST": 400}),
    *_rows("staff/{member}/", {"GET": FOUND, "HEAD": FOUND, "OPTIONS": 200}),
    *(
        row
        for action in ACTIONS
        for row in _rows(f"staff/{{member}}/{action}/", {"OPTIONS": 200, "POST": 400})
    ),
    *_rows("staff/{member}/unlock/", {"OPTIONS": 200, "POST": FOUND}, fresh_code=True),
    *_rows("staff/changes/", {"GET": 200, "HEAD": 200, "OPTIONS": 200}),
    *_rows("staff/changes/{change}/", {"GET": FOUND, "HEAD": FOUND, "OPTIONS": 200}),
    *_rows("staff/changes/{change}/approve/", {"OPTIONS": 200, "POST": 400}),
    *_rows("staff/changes/{change}/reject/", {"OPTIONS": 200, "POST": 400}),
]


def expected(row: Row, actor: str, kind: str) -> int:
    if actor == ANONYMOUS:
        return 401
    if actor != ADMIN:
        return 403
    return row.admin[kind]


@pytest.fixture
def world(make_staff):
    staff = {actor: make_staff(role) for actor, role in ROLE_OF.items()}
    second_admin = make_staff(Role.ADMIN)
    member = make_staff(Role.AUDITOR)
    # Two admins: a grant waits, so there is a pending change to point at.
    outcome = staff_roles_request(
        user=member.user, roles=[Role.AUDITOR, Role.CASEWORKER], actor=second_admin.user
    )
    ids = {
        OTHER: {"member": member.user.pk, "change": outcome.change.pk},
        MISSING: {"member": uuid.uuid4(), "change": uuid.uuid4()},
    }
    return staff, ids


TEMPLATES = sorted({row.template for row in TABLE})


@pytest.mark.django_db
@pytest.mark.parametrize("template", TEMPLATES)
def test_staff_endpoint_access_follows_the_table(world, template):
    staff, ids = world
    clients = {ANONYMOUS: APIClient()}
    for actor, person in staff.items():
        clients[actor] = APIClient()
        token = token_issue(user=person.user).token
        clients[actor].credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    failures = []
    kinds = KINDS if "{" in template else (OTHER,)
    for row in (row for row in TABLE if row.template == template):
        for actor in ACTORS:
            for kind in kinds:
                path = API + row.template.format(**ids[kind])
                fresh = row.fresh_code and actor in staff
                body = {"otp": staff[actor].fresh_totp()} if fresh else {}
                status = send(clients[actor], row.method, path, body).status_code
                wanted = expected(row, actor, kind)
                if status != wanted:
                    failures.append(f"{row.id} as {actor} ({kind}): {status} != {wanted}")
    assert failures == []


def test_the_table_covers_every_staff_address_and_method():
    covered = {
        (API + row.template.format(member=SAMPLE_ID, change=SAMPLE_ID), row.method) for row in TABLE
    }
    routed, missing, stale = table_gaps((f"{API}staff/",), covered)
    directory = f"{API}staff/directory/"
    missing = [(path, method) for path, method in missing if path != directory]

    assert f"{API}staff/{SAMPLE_ID}/unlock/" in routed
    assert missing == [], f"staff addresses without a row: {missing}"
    assert stale == [], f"rows for addresses that no longer exist: {stale}"
