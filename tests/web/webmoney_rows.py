"""The money pages' rows of the page matrix (tests/web/test_page_matrix.py merges them into its
TABLE, so its coverage check sees every `/funds/` address).

Those rows name no real object (an id that exists nowhere): a role the page allows gets 404 on
an object page, a form posted empty is a 400, a method the page lacks 405; other roles 403; no
session 302 to sign in. Real objects (own case, another's case) are in test_webmoney_matrix.py.
"""

from __future__ import annotations

from tests.matrix import (
    ADMIN,
    ANONYMOUS,
    AUDITOR,
    COORDINATOR,
    CW_ASSIGNED,
    CW_UNASSIGNED,
    METHODS,
    Expect,
    everywhere,
)
from tests.urlconf import SAMPLE_ID

CASEWORKERS = (CW_ASSIGNED, CW_UNASSIGNED)
READERS = (*CASEWORKERS, COORDINATOR, AUDITOR)
REQUESTERS = (*CASEWORKERS, COORDINATOR)
MANAGERS = (COORDINATOR,)
SIGNED_IN = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR, AUDITOR, ADMIN)


def gated(allowed: tuple[str, ...], answers: dict[str, int | dict[str, int]]) -> dict[str, Expect]:
    """A page behind the gate: `answers` gives, per method it has, the status for the roles it
    allows (one status, or one per actor); every other method is 405 for them. Other roles get
    403 whatever the method, no session 302."""
    rows: dict[str, Expect] = {}
    for method in METHODS:
        answer = answers.get(method, 405)
        expect: Expect = {ANONYMOUS: everywhere(302)}
        for actor in SIGNED_IN:
            if actor not in allowed:
                status = 403
            elif isinstance(answer, dict):
                status = answer[actor]
            else:
                status = answer
            expect[actor] = everywhere(status)
        rows[method] = expect
    return rows


def _readable_with_managed_post(get: int, post_for_readers: int) -> dict[str, dict[str, int]]:
    """GET for every money role; POST (a new record) for coordinators only: 403 for the rest."""
    post = {actor: 403 for actor in READERS}
    post[COORDINATOR] = post_for_readers
    return {"GET": dict.fromkeys(READERS, get), "HEAD": dict.fromkeys(READERS, get), "POST": post}


ONE = f"/funds/disbursements/{SAMPLE_ID}/"

WEBMONEY_ROWS: dict[str, dict[str, Expect]] = {
    "/funds/approve/": gated(MANAGERS, {"POST": 400}),
    "/funds/disbursements/": gated(READERS, {"GET": 200, "HEAD": 200}),
    "/funds/disbursements/new/": gated(REQUESTERS, {"GET": 200, "HEAD": 200, "POST": 400}),
    ONE: gated(READERS, {"GET": 404, "HEAD": 404}),
    f"{ONE}change/": gated(REQUESTERS, {"GET": 404, "HEAD": 404, "POST": 404}),
    f"{ONE}approve/": gated(MANAGERS, {"POST": 404}),
    f"{ONE}reject/": gated(MANAGERS, {"POST": 404}),
    f"{ONE}pay/": gated(MANAGERS, {"POST": 404}),
    f"{ONE}cancel/": gated(REQUESTERS, {"POST": 404}),
    "/funds/sources/": gated(READERS, _readable_with_managed_post(200, 400)),
    "/funds/allocations/": gated(READERS, _readable_with_managed_post(200, 400)),
    f"/funds/allocations/{SAMPLE_ID}/close/": gated(MANAGERS, {"POST": 404}),
    "/funds/rates/": gated(READERS, _readable_with_managed_post(200, 400)),
}
