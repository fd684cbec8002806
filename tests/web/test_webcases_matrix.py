"""Who may open which case page, and who may send which write, as one table (role x page x
own / other / missing object -> status). `CASES_ROWS` is merged into the page matrix's TABLE
(tests/web/test_page_matrix.py), whose coverage check then requires a row for every address
here; its own test sends each of these paths with the sample id (a missing object, the
`NO_OBJECT` column). This module's test sends each again with a real case (or person, or need)
of each kind: `own` is assigned to the `caseworker_assigned` actor, `other` to a bystander.

The gate's order (web/decorators.py): no session -> 302 to sign in; a role the page does not
name -> 403; a method the page lacks -> 405; then the object, through the caller's scope: out
of scope is a 404, exactly like missing. A write sent with an empty body reaches its form: 400.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.roles import Role
from cases.services import Member, case_create, need_create
from people.services import person_create
from tests.matrix import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    AUDITOR,
    COORDINATOR,
    CW_ASSIGNED,
    CW_UNASSIGNED,
    METHODS,
    MISSING,
    NO_OBJECT,
    OTHER,
    OWN,
    Expect,
    new_staff,
)
from tests.urlconf import SAMPLE_ID
from tests.web.helpers import signed_in_client

ROLE_OF = {
    CW_ASSIGNED: Role.CASEWORKER,
    CW_UNASSIGNED: Role.CASEWORKER,
    COORDINATOR: Role.COORDINATOR,
    AUDITOR: Role.AUDITOR,
    ADMIN: Role.ADMIN,
}
SAFE = ("GET", "HEAD")


def _scoped(ok: int) -> dict[str, dict[str, int]]:
    return {
        CW_ASSIGNED: {OWN: ok, OTHER: 404, MISSING: 404, NO_OBJECT: 404},
        CW_UNASSIGNED: {OWN: 404, OTHER: 404, MISSING: 404, NO_OBJECT: 404},
        COORDINATOR: {OWN: ok, OTHER: ok, MISSING: 404, NO_OBJECT: 404},
    }


def _all(status: int) -> dict[str, int]:
    return {OWN: status, OTHER: status, MISSING: status, NO_OBJECT: status}


def object_page(
    methods: tuple[str, ...], ok: int, *, coordinators_only: bool = False
) -> dict[str, Expect]:
    """A page or a write naming a case (or a person): its methods reach the object (`ok` in
    scope, 404 outside it or missing); other methods 405; auditors and admins 403 (and
    caseworkers too where only coordinators act); no session 302."""
    expect: dict[str, Expect] = {}
    for method in METHODS:
        allowed = _scoped(ok) if method in methods else {
            actor: _all(405) for actor in (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR)
        }  # fmt: skip
        if coordinators_only:
            allowed[CW_ASSIGNED] = allowed[CW_UNASSIGNED] = _all(403)
        expect[method] = {
            **allowed,
            AUDITOR: _all(403),
            ADMIN: _all(403),
            ANONYMOUS: _all(302),
        }
    return expect


def intake_page() -> dict[str, Expect]:
    allowed = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR)
    expect = {}
    for method in METHODS:
        status = {"GET": 200, "HEAD": 200, "POST": 400}.get(method, 405)
        expect[method] = {
            **{actor: _all(status) for actor in allowed},
            AUDITOR: _all(403),
            ADMIN: _all(403),
            ANONYMOUS: _all(302),
        }
    return expect


CASE = f"/cases/{SAMPLE_ID}/"
MEMBER = f"{CASE}household/{SAMPLE_ID}/"
NEED = f"{CASE}needs/{SAMPLE_ID}/"
CASES_ROWS: dict[str, dict[str, Expect]] = {
    "/intake/": intake_page(),
    CASE: object_page(SAFE, 200),
    f"{CASE}transition/": object_page(("POST",), 400),
    f"{CASE}household/": object_page(("POST",), 400),
    f"{MEMBER}remove/": object_page(("POST",), 400),
    f"{MEMBER}erase/": object_page(("POST",), 400, coordinators_only=True),
    f"{CASE}needs/": object_page(("POST",), 400),
    NEED: object_page(("POST",), 400),
    f"{CASE}notes/": object_page(("POST",), 400),
    # An empty body names nobody: the service refuses to leave an open case with no one (409).
    f"{CASE}assign/": object_page(("POST",), 409, coordinators_only=True),
    f"{CASE}erase/": object_page(("POST",), 400, coordinators_only=True),
    f"/people/{SAMPLE_ID}/": object_page(SAFE, 200),
}


def _case_of(caseworker, tag: str) -> dict[str, str]:
    person = person_create(created_by=caseworker, full_name=f"Primary {tag}")
    member = person_create(created_by=caseworker, full_name=f"Member {tag}")
    case = case_create(
        created_by=caseworker,
        primary_person=person,
        members=[Member(person=member, relationship="partner")],
        risk_level="high",
        summary=f"summary {tag}",
    )
    need = need_create(case=case, created_by=caseworker, category="food")
    return {
        "case": str(case.pk),
        "person": str(person.pk),
        "member": str(member.pk),
        "need": str(need.pk),
    }


def _path_for(template: str, ids: dict[str, str]) -> str:
    """The row's path with the object's ids: the case first, then (if any) the member or the
    need, or the person for the person page."""
    if template.startswith("/people/"):
        return template.replace(SAMPLE_ID, ids["person"])
    path = template.replace(SAMPLE_ID, ids["case"], 1)
    second = ids["need"] if "/needs/" in template else ids["member"]
    return path.replace(SAMPLE_ID, second, 1)


OBJECT_ROWS = [path for path in CASES_ROWS if SAMPLE_ID in path]


@pytest.mark.django_db
@pytest.mark.parametrize("template", OBJECT_ROWS)
def test_case_pages_answer_each_caller_and_object_as_the_table_says(template):
    people = {actor: new_staff(ROLE_OF[actor]) for actor in ROLE_OF}
    bystander = new_staff(Role.CASEWORKER)
    objects = {
        OWN: _case_of(people[CW_ASSIGNED], "own"),
        OTHER: _case_of(bystander, "other"),
    }
    objects[MISSING] = {name: SAMPLE_ID for name in objects[OWN]}
    clients = {actor: signed_in_client(people[actor]) for actor in ROLE_OF}
    failures = []
    for method, expect in CASES_ROWS[template].items():
        for actor in ACTORS:
            for kind in (OWN, OTHER, MISSING):
                client = clients.get(actor) or Client()
                path = _path_for(template, objects[kind])
                response = getattr(client, method.lower())(path)
                wanted = expect[actor][kind]
                if response.status_code != wanted:
                    failures.append(f"{method} {template} as {actor} on {kind}: "
                                    f"{response.status_code} != {wanted}")  # fmt: skip
    assert failures == []
