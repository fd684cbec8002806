"""Who may open which page, as one table (role x page x object -> status), with a check that
the table covers every address of the web interface's URL conf: a page added later without
its row fails here.

Every request is sent by a fresh client signed in as the actor (anonymous: none), so a row that
ends the session (sign out, quick exit) does not change the next one. Pages of this slice name
no object yet; rows for `/cases/<id>/` and the like will use the `own`/`other`/`missing` kinds
of tests/matrix.py.

The order of the gate (web/decorators.py): no session -> 302 to sign in; a role the page's
permission does not name -> 403; a method the page lacks -> 405. Views outside the gate refuse
a method before anything else (405), whoever asks.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.roles import Role
from tests.matrix import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    AUDITOR,
    COORDINATOR,
    CW_ASSIGNED,
    CW_UNASSIGNED,
    METHODS,
    NO_OBJECT,
    Expect,
    everywhere,
    new_staff,
    table_gaps,
)
from tests.web.helpers import signed_in_client
from tests.web.test_webcases_matrix import CASES_ROWS
from tests.web.test_webedit_matrix import EDIT_ROWS
from tests.web.test_webstaff_matrix import STAFF_ROWS
from tests.web.webmoney_rows import WEBMONEY_ROWS
from tests.web.weboversight_rows import OVERSIGHT_ROWS

SIGNED_IN = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR, AUDITOR, ADMIN)
CASEWORKERS = (CW_ASSIGNED, CW_UNASSIGNED)
ROLE_OF = {
    CW_ASSIGNED: Role.CASEWORKER,
    CW_UNASSIGNED: Role.CASEWORKER,
    COORDINATOR: Role.COORDINATOR,
    AUDITOR: Role.AUDITOR,
    ADMIN: Role.ADMIN,
}
SAFE = ("GET", "HEAD")
WEB_PREFIXES = ("/",)
NOT_WEB = ("/api/", "/healthz", "/readyz", "/static/")


def same_for_all(status: int) -> Expect:
    return {actor: everywhere(status) for actor in ACTORS}


def page(allowed: tuple[str, ...]) -> dict[str, Expect]:
    """A signed-in page: its roles read it (200), other roles 403, no session 302; other
    methods: 405 for its roles, the same refusals for everyone else."""
    read = {actor: everywhere(200 if actor in allowed else 403) for actor in SIGNED_IN}
    other = {actor: everywhere(405 if actor in allowed else 403) for actor in SIGNED_IN}
    anonymous = {ANONYMOUS: everywhere(302)}
    return {method: {**(read if method in SAFE else other), **anonymous} for method in METHODS}


def only(allowed_methods: tuple[str, ...], status: dict[str, int] | int) -> dict[str, Expect]:
    """A view outside the page gate: 405 for other methods, whoever asks."""
    expect = {}
    for method in METHODS:
        if method not in allowed_methods:
            expect[method] = same_for_all(405)
        elif isinstance(status, int):
            expect[method] = same_for_all(status)
        else:
            expect[method] = {actor: everywhere(code) for actor, code in status.items()}
    return expect


SIGNED_IN_ELSEWHERE = {**dict.fromkeys(SIGNED_IN, 302), ANONYMOUS: 200}
TABLE: dict[str, dict[str, Expect]] = {
    "/": only(SAFE, 302),  # home: to one's main page, or to sign in
    "/login/": {
        **only(("GET", "HEAD", "POST"), SIGNED_IN_ELSEWHERE),
        # an empty form: 400 for a visitor, home for someone signed in
        "POST": {**same_for_all(302), ANONYMOUS: everywhere(400)},
    },
    "/logout/": only(("POST",), 302),
    "/exit/": only(("POST",), 302),
    "/recipe/": only(SAFE, 200),
    "/favicon.ico": only(SAFE, 204),
    "/language/": only(("POST",), 302),
    "/account/": page(SIGNED_IN),
    "/cases/": page((*CASEWORKERS, COORDINATOR)),
    "/funds/": page((*CASEWORKERS, COORDINATOR, AUDITOR)),
    "/reports/": page((COORDINATOR, AUDITOR)),
    "/audit/": page((AUDITOR,)),
    "/staff/": page((ADMIN,)),
}
TABLE.update(WEBMONEY_ROWS)  # the money pages (tests/web/webmoney_rows.py)

TABLE.update(STAFF_ROWS)  # the staff, account and enrolment pages (test_webstaff_matrix.py)
TABLE.update(OVERSIGHT_ROWS)  # /reports/... and /audit/... (tests/web/weboversight_rows.py)

TABLE.update(CASES_ROWS)  # the case pages' rows (tests/web/test_webcases_matrix.py)
TABLE.update(EDIT_ROWS)  # the edit pages and /needs/ (tests/web/test_webedit_matrix.py)

ROWS = [(path, method) for path, methods in TABLE.items() for method in methods]


def test_the_table_covers_every_web_address_and_method():
    routed, missing, stale = table_gaps(WEB_PREFIXES, ROWS)
    web_routed = {path for path in routed if not path.startswith(NOT_WEB)}
    missing = [(path, method) for path, method in missing if path in web_routed]

    assert "/account/" in web_routed
    assert missing == [], f"web addresses without a row: {missing}"
    assert stale == [], f"rows for addresses that no longer exist: {stale}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", list(TABLE))
def test_page_access_follows_the_table(path):
    people = {actor: new_staff(ROLE_OF[actor]) for actor in SIGNED_IN}
    failures = []
    for method, expect in TABLE[path].items():
        for actor in ACTORS:
            client = Client() if actor == ANONYMOUS else signed_in_client(people[actor])
            response = getattr(client, method.lower())(path)
            wanted = expect[actor][NO_OBJECT]
            if response.status_code != wanted:
                failures.append(f"{method} {path} as {actor}: {response.status_code} != {wanted}")
            elif (
                wanted == 302
                and actor == ANONYMOUS
                and path not in ("/exit/", "/language/")
                and not response["Location"].startswith("/login/")
            ):
                failures.append(f"{method} {path} as {actor} went to {response['Location']}")
    assert failures == []
