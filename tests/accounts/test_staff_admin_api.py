"""The admins' panic buttons, and nobody else's."""

from __future__ import annotations

import pytest
from knox.models import AuthToken

from accounts.services import token_issue
from tests.conftest import LOGIN_URL

pytestmark = pytest.mark.django_db

ACTIONS = ["deactivate", "reactivate", "reset-second-factor", "revoke-tokens"]


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "auditor"])
@pytest.mark.parametrize("action", ACTIONS)
def test_only_admins_can_use_the_staff_actions(make_staff, client_for, role, action):
    caller, target = make_staff(role), make_staff()
    token = token_issue(user=target.user).token

    response = client_for(caller).post(f"/api/v1/staff/{target.user.pk}/{action}/")

    assert response.status_code == 403
    target.user.refresh_from_db()
    assert target.user.is_active
    assert AuthToken.objects.filter(token_key=token[:15]).exists()


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "auditor"])
def test_only_admins_can_list_staff_or_change_roles(make_staff, client_for, role):
    caller, target = make_staff(role), make_staff("caseworker")
    client = client_for(caller)

    listing = client.get("/api/v1/staff/")
    roles = client.post(f"/api/v1/staff/{caller.user.pk}/roles/", {"roles": ["admin"]})

    assert (listing.status_code, roles.status_code) == (403, 403)
    assert target.user.roles == {"caseworker"}


def test_admin_deactivates_a_seized_account(make_staff, client_for, api_client):
    admin, target = make_staff("admin"), make_staff()
    token = token_issue(user=target.user).token

    response = client_for(admin).post(f"/api/v1/staff/{target.user.pk}/deactivate/")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/auth/me/").status_code == 401
    api_client.credentials()
    assert api_client.post(LOGIN_URL, target.login_body(), format="json").status_code == 401


def test_admin_revokes_every_token(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff()
    for _ in range(2):
        token_issue(user=target.user)

    response = client_for(admin).post(f"/api/v1/staff/{target.user.pk}/revoke-tokens/")

    assert response.json() == {"revoked": 2}
    assert not AuthToken.objects.filter(user=target.user).exists()


def test_admin_resets_a_second_factor_and_the_old_one_stops_working(
    make_staff, client_for, api_client
):
    admin, target = make_staff("admin"), make_staff()
    old_code, old_backup = target.totp(), target.backup_codes[0]
    token = token_issue(user=target.user).token

    response = client_for(admin).post(f"/api/v1/staff/{target.user.pk}/reset-second-factor/")

    body = response.json()
    assert response.status_code == 200
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert len(body["backup_codes"]) == 10
    assert not AuthToken.objects.filter(token_key=token[:15]).exists()
    new = api_client.post(LOGIN_URL, target.login_body(otp=body["backup_codes"][0]), format="json")
    assert new.status_code == 200
    old = api_client.post(LOGIN_URL, target.login_body(otp=old_code), format="json")
    assert old.status_code == 401
    old_backup_login = api_client.post(LOGIN_URL, target.login_body(otp=old_backup), format="json")
    assert old_backup_login.status_code == 401


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(make_staff, client_for):
    admin = make_staff("admin")
    client = client_for(admin)

    deactivate = client.post(f"/api/v1/staff/{admin.user.pk}/deactivate/")
    demote = client.post(f"/api/v1/staff/{admin.user.pk}/roles/", {"roles": ["auditor"]})

    assert deactivate.status_code == 409
    assert deactivate.json()["code"] == "conflict"
    assert demote.status_code == 409
    admin.user.refresh_from_db()
    assert admin.user.is_active
    assert admin.user.roles == {"admin"}


def test_admin_changes_roles(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("caseworker")

    response = client_for(admin).post(
        f"/api/v1/staff/{target.user.pk}/roles/", {"roles": ["coordinator", "auditor"]}
    )

    assert response.status_code == 200
    assert response.json()["roles"] == ["auditor", "coordinator"]


def test_unknown_roles_are_refused_with_field_errors(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff()

    response = client_for(admin).post(
        f"/api/v1/staff/{target.user.pk}/roles/", {"roles": ["superuser"]}
    )

    assert response.status_code == 400
    assert "roles" in response.json()["fields"]


@pytest.mark.parametrize("staff_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_staff_ids_answer_404(make_staff, client_for, staff_id):
    admin = make_staff("admin")

    response = client_for(admin).post(f"/api/v1/staff/{staff_id}/deactivate/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_list_shows_no_secrets(make_staff, client_for):
    admin = make_staff("admin")

    response = client_for(admin).get("/api/v1/staff/")

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
