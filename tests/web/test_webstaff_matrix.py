"""The staff, account and enrolment pages' rows of the page matrix (merged into
tests/web/test_page_matrix.py's TABLE, whose coverage check then sees every address), and the
rows with real objects the sample-id rows cannot show: an admin reaches an existing staff
member, nobody else does anything to one, and nobody ends another person's token.

The gate's order (web/decorators.py): no session -> 302 to sign in; a role the page does not
name -> 403; a method the view lacks -> 405; then the record (404 when missing); then the form
(400 for an empty one).
"""

from __future__ import annotations

import pytest
from django.test import Client
from knox.models import AuthToken

from accounts.models import StaffChange, TokenRecord
from accounts.roles import Role
from accounts.services import staff_roles_request, token_issue
from tests.matrix import (
    ACTORS,
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
from tests.web.helpers import signed_in_client

SIGNED_IN = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR, AUDITOR, ADMIN)
SAFE = ("GET", "HEAD")
MEMBER_ACTIONS = ("deactivate", "revoke", "roles", "reset", "reactivate", "unlock")


def _by_actor(signed_in: dict[str, int], anonymous: int) -> Expect:
    return {**{actor: everywhere(code) for actor, code in signed_in.items()},
            ANONYMOUS: everywhere(anonymous)}  # fmt: skip


def gated(
    allowed: tuple[str, ...], answers: dict[str, int], *, anonymous: int = 302
) -> dict[str, Expect]:
    """A page behind the gate: `answers` (method -> status) for the allowed roles, 405 for the
    methods it lacks, 403 for other roles whatever the method, 302 without a session."""
    table = {}
    for method in METHODS:
        status = answers.get(method, 405)
        signed_in = {actor: status if actor in allowed else 403 for actor in SIGNED_IN}
        table[method] = _by_actor(signed_in, anonymous)
    return table


def public(answers: dict[str, tuple[int, int]]) -> dict[str, Expect]:
    """A page outside the gate: method -> (anonymous, signed in); other methods 405."""
    table = {}
    for method in METHODS:
        anonymous, signed = answers.get(method, (405, 405))
        table[method] = _by_actor(dict.fromkeys(SIGNED_IN, signed), anonymous)
    return table


ADMINS = (ADMIN,)
STAFF_ROWS: dict[str, dict[str, Expect]] = {
    "/staff/new/": gated(ADMINS, {"GET": 200, "HEAD": 200, "POST": 400}),
    "/staff/changes/": gated(ADMINS, {"GET": 200, "HEAD": 200}),
    f"/staff/{SAMPLE_ID}/": gated(ADMINS, {"GET": 404, "HEAD": 404}),
    **{f"/staff/{SAMPLE_ID}/{action}/": gated(ADMINS, {"POST": 404}) for action in MEMBER_ACTIONS},
    f"/staff/changes/{SAMPLE_ID}/approve/": gated(ADMINS, {"POST": 404}),
    f"/staff/changes/{SAMPLE_ID}/reject/": gated(ADMINS, {"POST": 404}),
    "/account/password/": gated(SIGNED_IN, {"GET": 200, "HEAD": 200, "POST": 400}),
    f"/account/tokens/{SAMPLE_ID}/end/": gated(SIGNED_IN, {"POST": 404}),
    "/account/tokens/end-others/": gated(SIGNED_IN, {"POST": 302}),
    # Enrolment is for someone with a code and no session; a signed-in visitor goes home.
    "/enrol/": public({"GET": (200, 302), "HEAD": (200, 302), "POST": (400, 302)}),
    "/enrol/confirm/": public({"POST": (400, 302)}),
}


# --- With real objects ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.COORDINATOR, Role.AUDITOR])
def test_nobody_but_an_admin_opens_or_acts_on_a_staff_member(make_staff, role):
    caller, target = make_staff(role), make_staff(Role.CASEWORKER)
    token = token_issue(user=target.user)
    client = signed_in_client(caller)
    body = {f"{action}-otp": caller.fresh_totp() for action in MEMBER_ACTIONS}
    body["roles-roles"] = [Role.ADMIN, Role.COORDINATOR]
    body["unlock-addresses"] = "on"

    opened = client.get(f"/staff/{target.user.pk}/")
    acted = [client.post(f"/staff/{target.user.pk}/{a}/", body) for a in MEMBER_ACTIONS]

    assert opened.status_code == 403
    assert [response.status_code for response in acted] == [403] * len(MEMBER_ACTIONS)
    target.user.refresh_from_db()
    target.user._roles = None
    assert target.user.is_active
    assert target.user.roles == {Role.CASEWORKER}
    assert AuthToken.objects.filter(token_key=token.token[:15]).exists()
    assert not StaffChange.objects.exists()


@pytest.mark.django_db
def test_an_admin_opens_an_existing_member_and_the_changes_of_one(make_staff):
    admin, other_admin, target = make_staff(Role.ADMIN), make_staff(Role.ADMIN), make_staff()
    staff_roles_request(
        user=target.user, roles=[Role.CASEWORKER, Role.COORDINATOR], actor=admin.user
    )
    change = StaffChange.objects.get()
    client = signed_in_client(other_admin)

    assert client.get(f"/staff/{target.user.pk}/").status_code == 200
    assert client.get("/staff/changes/").status_code == 200
    reject = client.post(f"/staff/changes/{change.pk}/reject/", {})
    assert reject.status_code == 400  # found; the form is empty


@pytest.mark.django_db
def test_nobody_ends_another_persons_session_or_token(make_staff):
    owner, intruder = make_staff(Role.CASEWORKER), make_staff(Role.ADMIN)
    owners_browser = signed_in_client(owner)
    owners_token = token_issue(user=owner.user)
    record = TokenRecord.objects.get(token__token_key=owners_token.token[:15])

    refused = signed_in_client(intruder).post(f"/account/tokens/{record.pk}/end/")

    assert refused.status_code == 404
    assert AuthToken.objects.filter(pk=record.token_id).exists()
    assert owners_browser.get("/account/").status_code == 200


def test_every_staff_row_names_every_actor():
    for path, methods in STAFF_ROWS.items():
        assert set(methods) == set(METHODS), path
        for expect in methods.values():
            assert set(expect) == set(ACTORS), path


def test_an_anonymous_visitor_is_sent_to_sign_in_from_the_staff_pages():
    response = Client().get("/staff/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
