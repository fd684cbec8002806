"""Who may open and send the edit pages and the open needs, as one table (role x page x own /
other / missing object -> status). `EDIT_ROWS` is merged into the page matrix's TABLE
(tests/web/test_page_matrix.py), whose coverage check then requires a row for every address
here; this module's test sends each edit page again with a real case and person of each kind
(`own` assigned to the `caseworker_assigned` actor, `other` to a bystander). An empty POST
reaches the form and is refused as the API would refuse the same body: 400."""

from __future__ import annotations

import pytest
from django.test import Client

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
    OTHER,
    OWN,
    Expect,
    everywhere,
    new_staff,
)
from tests.urlconf import SAMPLE_ID
from tests.web.helpers import signed_in_client
from tests.web.test_webcases_matrix import ROLE_OF, SAFE, _case_of, _path_for, object_page


def edit_page() -> dict[str, Expect]:
    """GET/HEAD show the form (200 in scope), POST with an empty body is refused (400)."""
    return {**object_page(SAFE, 200), "POST": object_page(("POST",), 400)["POST"]}


def list_page() -> dict[str, Expect]:
    """A list of the caller's own scope: caseworkers and coordinators 200, others 403."""
    allowed = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR)
    expect = {}
    for method in METHODS:
        status = 200 if method in SAFE else 405
        expect[method] = {
            **{actor: everywhere(status) for actor in allowed},
            AUDITOR: everywhere(403),
            ADMIN: everywhere(403),
            ANONYMOUS: everywhere(302),
        }
    return expect


EDIT_ROWS: dict[str, dict[str, Expect]] = {
    f"/cases/{SAMPLE_ID}/edit/": edit_page(),
    f"/people/{SAMPLE_ID}/edit/": edit_page(),
    "/needs/": list_page(),
}
OBJECT_ROWS = [path for path in EDIT_ROWS if SAMPLE_ID in path]


@pytest.mark.django_db
@pytest.mark.parametrize("template", OBJECT_ROWS)
def test_edit_pages_answer_each_caller_and_object_as_the_table_says(template):
    people = {actor: new_staff(ROLE_OF[actor]) for actor in ROLE_OF}
    bystander = new_staff(ROLE_OF[CW_UNASSIGNED])
    objects = {
        OWN: _case_of(people[CW_ASSIGNED], "own"),
        OTHER: _case_of(bystander, "other"),
    }
    objects[MISSING] = {name: SAMPLE_ID for name in objects[OWN]}
    clients = {actor: signed_in_client(people[actor]) for actor in ROLE_OF}
    failures = []
    for method, expect in EDIT_ROWS[template].items():
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
