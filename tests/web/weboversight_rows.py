"""The oversight pages' rows of the page matrix (tests/web/test_page_matrix.py merges them into
its TABLE): who may open /reports/... and /audit/..., as role x method -> status.

Addresses naming an object use the URL conf's sample id (tests/urlconf.py), which names no
record: the roles that may read answer 404 there, exactly as for a record out of scope. The
chart needs its query (`group_by`, `currency`): without one, 400. A POST of the verification
form with nothing in it is a verification against the chain only: 200.
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

SIGNED_IN = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR, AUDITOR, ADMIN)
READERS_OF_REPORTS = (COORDINATOR, AUDITOR)
AUDITORS = (AUDITOR,)


def gated(allowed: tuple[str, ...], answers: dict[str, int]) -> dict[str, Expect]:
    """A page behind web.decorators.page_view: `answers` (method -> status) for the roles in
    `allowed`, 405 for their other methods; 403 for every other role; 302 with no session."""
    expect = {}
    for method in METHODS:
        mine = answers.get(method, 405)
        expect[method] = {
            **{actor: everywhere(mine if actor in allowed else 403) for actor in SIGNED_IN},
            ANONYMOUS: everywhere(302),
        }
    return expect


READ_OK = {"GET": 200, "HEAD": 200}
MISSING = {"GET": 404, "HEAD": 404}

OVERSIGHT_ROWS: dict[str, dict[str, Expect]] = {
    "/reports/chart.svg": gated(READERS_OF_REPORTS, {"GET": 400, "HEAD": 400}),
    "/reports/summary.csv": gated(READERS_OF_REPORTS, READ_OK),
    f"/reports/sources/{SAMPLE_ID}/": gated(READERS_OF_REPORTS, MISSING),
    f"/audit/entries/{SAMPLE_ID}/": gated(AUDITORS, MISSING),
    "/audit/verify/": gated(AUDITORS, {**READ_OK, "POST": 200}),
    "/audit/checkpoints/": gated(AUDITORS, READ_OK),
    "/audit/checkpoints/all.json": gated(AUDITORS, READ_OK),
    f"/audit/checkpoints/{SAMPLE_ID}.json": gated(AUDITORS, MISSING),
    "/audit/public-key.pem": gated(AUDITORS, READ_OK),
}
