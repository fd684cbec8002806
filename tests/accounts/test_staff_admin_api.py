"""The admins' staff endpoints, and nobody else's. Every admin write takes a fresh code."""

from __future__ import annotations

import pytest
from knox.models import AuthToken

from accounts.models import StaffChange, User
from accounts.services import staff_set_roles, token_issue
from common.exceptions import InvariantViolation
from tests.accounts.helpers import STAFF_URL, a_wrong_code, admin_post, staff_url
from tests.concurrency import run_at_once
from tests.conftest import LOGIN_URL

pytestmark = pytest.mark.django_db

ACTIONS = ["deactivate", "reactivate", "reset-second-factor", "revoke-tokens"]


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "auditor"])
@pytest.mark.parametrize("action", ACTIONS)
def test_only_admins_can_use_the_staff_actions(make_staff, client_for, role, action):
    caller, target = make_staff(role), make_staff()
    token = token_issue(user=target.user).token

    response = admin_post(client_for(caller), caller, staff_url(target.user.pk, f"{action}/"))

    assert response.status_code == 403
    target.user.refresh_from_db()
    assert target.user.is_active
    assert AuthToken.objects.filter(token_key=token[:15]).exists()


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "auditor"])
def test_only_admins_can_list_create_staff_or_change_roles(make_staff, client_for, role):
    caller, target = make_staff(role), make_staff("caseworker")
    client = client_for(caller)

    listing = client.get(STAFF_URL)
    created = admin_post(client, caller, STAFF_URL, {"username": "x-new", "roles": ["auditor"]})
    roles = admin_post(client, caller, staff_url(caller.user.pk, "roles/"), {"roles": ["admin"]})

    assert (listing.status_code, created.status_code, roles.status_code) == (403, 403, 403)
    assert target.user.roles == {"caseworker"}
    assert not User.objects.filter(username="x-new").exists()


@pytest.mark.parametrize("action", [*ACTIONS, "roles"])
@pytest.mark.parametrize("otp", ["missing", "wrong", "backup code"])
def test_an_admin_write_without_a_fresh_code_is_refused(make_staff, client_for, action, otp):
    admin, target = make_staff("admin"), make_staff("auditor")
    if action == "reactivate":
        target.user.is_active = False
        target.user.save(update_fields=["is_active"])
    token = token_issue(user=target.user).token
    body = {"roles": ["auditor", "caseworker"]} if action == "roles" else {}
    if otp != "missing":
        body["otp"] = a_wrong_code(admin) if otp == "wrong" else admin.backup_codes[0]

    response = client_for(admin).post(staff_url(target.user.pk, f"{action}/"), body, format="json")

    assert response.status_code == (400 if otp == "missing" else 403)
    target.user.refresh_from_db()
    target.user._roles = None
    assert target.user.is_active is (action != "reactivate")
    assert target.user.roles == {"auditor"}
    assert AuthToken.objects.filter(token_key=token[:15]).exists()
    assert target.has_backup_code(target.backup_codes[0])


def test_admin_deactivates_a_seized_account(make_staff, client_for, api_client):
    admin, target = make_staff("admin"), make_staff()
    token = token_issue(user=target.user).token

    response = admin_post(client_for(admin), admin, staff_url(target.user.pk, "deactivate/"))

    assert response.status_code == 200
    assert response.json()["staff"]["is_active"] is False
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/auth/me/").status_code == 401
    api_client.credentials()
    assert api_client.post(LOGIN_URL, target.login_body(), format="json").status_code == 401


def test_admin_revokes_every_token(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff()
    for _ in range(2):
        token_issue(user=target.user)

    response = admin_post(client_for(admin), admin, staff_url(target.user.pk, "revoke-tokens/"))

    assert response.json() == {"revoked": 2}
    assert not AuthToken.objects.filter(user=target.user).exists()


def test_an_admins_reset_returns_an_enrolment_code_never_a_secret(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("auditor")
    old_code, old_backup = target.totp(), target.backup_codes[0]
    token = token_issue(user=target.user).token

    response = admin_post(
        client_for(admin), admin, staff_url(target.user.pk, "reset-second-factor/")
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"staff", "change", "enrolment"}
    assert set(body["enrolment"]) == {"code", "expires_at"}
    assert "otpauth" not in response.content.decode()
    assert "secret" not in response.content.decode()
    assert not AuthToken.objects.filter(token_key=token[:15]).exists()
    for code in (old_code, old_backup):
        old = client_for(target).post(LOGIN_URL, target.login_body(otp=code), format="json")
        assert old.status_code == 401
    assert body["staff"]["has_second_factor"] is False


def test_an_admin_creates_staff_with_an_enrolment_code_and_no_password(make_staff, client_for):
    admin = make_staff("admin")

    response = admin_post(
        client_for(admin), admin, STAFF_URL, {"username": "Madina", "roles": ["auditor"]}
    )

    body = response.json()
    created = User.objects.get(username="madina")
    assert response.status_code == 201
    assert body["staff"]["roles"] == ["auditor"]
    assert body["staff"]["has_second_factor"] is False
    assert set(body["enrolment"]) == {"code", "expires_at"}
    assert "password" not in response.content.decode()
    assert "otpauth" not in response.content.decode()
    assert not created.has_usable_password()
    assert created.created_by == admin.user


def test_creating_staff_refuses_a_taken_or_invalid_name(make_staff, client_for):
    admin = make_staff("admin", username="existing-admin")
    client = client_for(admin)

    taken = admin_post(
        client, admin, STAFF_URL, {"username": "EXISTING-admin", "roles": ["auditor"]}
    )
    invalid = admin_post(client, admin, STAFF_URL, {"username": "no spaces", "roles": ["auditor"]})

    assert (taken.status_code, invalid.status_code) == (400, 400)
    assert "username" in taken.json()["fields"]


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(make_staff, client_for):
    admin = make_staff("admin")

    deactivate = admin_post(client_for(admin), admin, staff_url(admin.user.pk, "deactivate/"))
    with pytest.raises(InvariantViolation, match="last active admin"):
        staff_set_roles(user=admin.user, roles=["auditor"])  # as a command would

    assert deactivate.status_code == 409
    assert deactivate.json()["code"] == "conflict"
    admin.user.refresh_from_db()
    admin.user._roles = None
    assert admin.user.is_active
    assert admin.user.roles == {"admin"}


def test_with_one_admin_a_grant_applies_at_once_and_says_why(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker")

    response = admin_post(
        client_for(admin),
        admin,
        staff_url(target.user.pk, "roles/"),
        {"roles": ["coordinator", "auditor"]},
    )

    body = response.json()
    assert response.status_code == 200
    assert body["staff"]["roles"] == ["auditor", "coordinator"]
    assert body["change"]["status"] == "applied"
    assert body["change"]["four_eyes"] is False
    assert "Only one admin has been active in the last 30 days" in body["change"]["note"]


def test_unknown_roles_are_refused_with_field_errors(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff()

    response = admin_post(
        client_for(admin), admin, staff_url(target.user.pk, "roles/"), {"roles": ["superuser"]}
    )

    assert response.status_code == 400
    assert "roles" in response.json()["fields"]


@pytest.mark.parametrize("staff_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_staff_ids_answer_404(make_staff, client_for, staff_id):
    admin = make_staff("admin")

    response = admin_post(client_for(admin), admin, f"{STAFF_URL}{staff_id}/deactivate/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_list_shows_no_secrets(make_staff, client_for):
    admin = make_staff("admin")

    response = client_for(admin).get(STAFF_URL)

    row = response.json()["results"][0]
    assert set(row) == {
        "id",
        "username",
        "roles",
        "is_active",
        "has_second_factor",
        "date_joined",
        "last_login",
    }


def test_an_admin_cannot_change_their_own_roles(make_staff, client_for):
    admin = make_staff("admin")
    make_staff("admin")  # another admin exists, so this is not about the last admin

    response = admin_post(
        client_for(admin),
        admin,
        staff_url(admin.user.pk, "roles/"),
        {"roles": ["admin", "caseworker", "coordinator"]},
    )

    assert response.status_code == 403
    admin.user.refresh_from_db()
    admin.user._roles = None
    assert admin.user.roles == {"admin"}
    assert not StaffChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(make_staff, client_for):
    first, second = make_staff("admin"), make_staff("admin")
    clients = {first.user.pk: client_for(first), second.user.pk: client_for(second)}
    codes = {first.user.pk: first.fresh_totp(), second.user.pk: second.fresh_totp()}

    def demote(actor, target):
        url = staff_url(target.user.pk, "roles/")
        body = {"roles": ["auditor"], "otp": codes[actor.user.pk]}
        return lambda: clients[actor.user.pk].post(url, body, format="json")

    statuses = [r.status_code for r in run_at_once(demote(first, second), demote(second, first))]

    admins = User.objects.filter(is_active=True, groups__name="admin").count()
    assert admins == 1
    # The loser is refused (409), or was demoted before its own request was let in (403).
    assert sorted(statuses) in ([200, 403], [200, 409])


@pytest.mark.django_db(transaction=True)
def test_a_ring_of_concurrent_demotions_neither_deadlocks_nor_removes_every_admin(
    make_staff, client_for
):
    admins = [make_staff("admin") for _ in range(4)]
    clients = [client_for(admin) for admin in admins]
    codes = [admin.fresh_totp() for admin in admins]

    def demote(n: int):
        target = admins[(n + 1) % len(admins)]
        body = {"roles": ["auditor"], "otp": codes[n]}
        return lambda: clients[n].post(staff_url(target.user.pk, "roles/"), body, format="json")

    responses = run_at_once(*(demote(n) for n in range(len(admins))))

    assert {r.status_code for r in responses} <= {200, 403, 409}  # never a 500: no deadlock
    assert User.objects.filter(is_active=True, groups__name="admin").exists()
