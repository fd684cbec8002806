"""Four eyes on admin writes that open access: one admin alone cannot grant a guarded role,
reactivate an account, or reset a guarded account's second factor, and cannot get there by
deactivating the other admin first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import StaffChange, User
from accounts.services import token_issue
from tests.accounts.helpers import (
    CHANGES_URL,
    STAFF_URL,
    a_wrong_code,
    admin_post,
    change_url,
    staff_url,
)
from tests.conftest import LOGIN_URL

pytestmark = pytest.mark.django_db


def roles_of(user: User) -> set[str]:
    user = User.objects.get(pk=user.pk)
    return set(user.roles)


@pytest.fixture
def admins(make_staff, client_for):
    """Two admins, each with a client: four eyes are in force."""
    first, second = make_staff("admin"), make_staff("admin")
    return (first, client_for(first)), (second, client_for(second))


def test_a_role_grant_by_one_admin_waits_until_a_second_admin_approves(admins, make_staff):
    (first, first_client), (second, second_client) = admins
    target = make_staff("auditor")

    asked = admin_post(
        first_client,
        first,
        staff_url(target.user.pk, "roles/"),
        {"roles": ["auditor", "coordinator"]},
    )
    change_id = asked.json()["change"]["id"]

    assert asked.status_code == 202
    assert asked.json()["change"]["status"] == "pending"
    assert "waits for another admin" in asked.json()["change"]["note"]
    assert roles_of(target.user) == {"auditor"}

    approved = admin_post(second_client, second, change_url(change_id, "approve/"))

    assert approved.status_code == 200
    assert approved.json()["change"]["status"] == "applied"
    assert approved.json()["change"]["decided_by"] == second.user.username
    assert roles_of(target.user) == {"auditor", "coordinator"}


def test_deactivating_the_other_admin_does_not_let_one_admin_act_alone(admins, make_staff):
    (first, first_client), (second, _) = admins
    target = make_staff("auditor")

    deactivated = admin_post(first_client, first, staff_url(second.user.pk, "deactivate/"))
    asked = admin_post(
        first_client, first, staff_url(target.user.pk, "roles/"), {"roles": ["coordinator"]}
    )
    own_approval = admin_post(
        first_client, first, change_url(asked.json()["change"]["id"], "approve/")
    )

    assert deactivated.status_code == 200
    assert asked.status_code == 202
    assert asked.json()["change"]["four_eyes"] is True
    assert own_approval.status_code == 403
    assert roles_of(target.user) == set()  # the auditor role was removed, nothing granted


def test_an_admin_who_left_before_the_window_no_longer_counts(admins, make_staff):
    (first, first_client), (second, _) = admins
    target = make_staff("auditor")
    admin_post(first_client, first, staff_url(second.user.pk, "deactivate/"))
    User.objects.filter(pk=second.user.pk).update(
        admin_ended_at=timezone.now() - settings.STAFF_FOUR_EYES_WINDOW - timedelta(minutes=1)
    )

    response = admin_post(
        first_client,
        first,
        staff_url(target.user.pk, "roles/"),
        {"roles": ["auditor", "coordinator"]},
    )

    assert response.status_code == 200
    assert response.json()["change"]["four_eyes"] is False
    assert roles_of(target.user) == {"auditor", "coordinator"}


def test_neither_the_requester_the_creator_nor_the_holder_approves(admins, make_staff, client_for):
    (first, first_client), (second, second_client) = admins
    third = make_staff("admin")
    third_client = client_for(third)
    created = admin_post(
        first_client, first, STAFF_URL, {"username": "new-one", "roles": ["admin"]}
    )
    new_one = User.objects.get(username="new-one")
    grant = created.json()["change"]["id"]

    by_creator = admin_post(first_client, first, change_url(grant, "approve/"))
    reset = admin_post(second_client, second, staff_url(third.user.pk, "reset-second-factor/"))
    by_holder = admin_post(
        third_client, third, change_url(reset.json()["change"]["id"], "approve/")
    )
    by_another = admin_post(third_client, third, change_url(grant, "approve/"))

    assert created.status_code == 201
    assert (by_creator.status_code, by_holder.status_code) == (403, 403)
    assert by_another.status_code == 200
    assert roles_of(new_one) == {"admin"}


def test_a_reset_of_a_guarded_account_waits_and_the_approver_gets_the_code(admins, make_staff):
    (first, first_client), (second, second_client) = admins
    target = make_staff("coordinator")
    token = token_issue(user=target.user).token

    asked = admin_post(first_client, first, staff_url(target.user.pk, "reset-second-factor/"))

    assert asked.status_code == 202
    assert asked.json()["enrolment"] is None
    assert AuthToken.objects.filter(token_key=token[:15]).exists()  # nothing happened yet
    assert first_client.post(LOGIN_URL, target.login_body(), format="json").status_code == 200

    approved = admin_post(
        second_client, second, change_url(asked.json()["change"]["id"], "approve/")
    )

    assert approved.status_code == 200
    assert set(approved.json()["enrolment"]) == {"code", "expires_at"}
    assert not AuthToken.objects.filter(token_key=token[:15]).exists()
    assert approved.json()["staff"]["has_second_factor"] is False


def test_a_reset_of_an_account_with_no_guarded_role_applies_at_once(admins, make_staff):
    (first, first_client), _ = admins
    target = make_staff("auditor")

    response = admin_post(first_client, first, staff_url(target.user.pk, "reset-second-factor/"))

    assert response.status_code == 200
    assert response.json()["change"] is None
    assert response.json()["enrolment"]["code"]


def test_reactivation_waits_for_a_second_admin(admins, make_staff):
    (first, first_client), (second, second_client) = admins
    target = make_staff("caseworker")
    admin_post(first_client, first, staff_url(target.user.pk, "deactivate/"))

    asked = admin_post(first_client, first, staff_url(target.user.pk, "reactivate/"))
    before = User.objects.get(pk=target.user.pk).is_active
    approved = admin_post(
        second_client, second, change_url(asked.json()["change"]["id"], "approve/")
    )

    assert asked.status_code == 202
    assert before is False
    assert approved.status_code == 200
    assert User.objects.get(pk=target.user.pk).is_active


def test_taking_access_away_applies_at_once_under_four_eyes(admins, make_staff):
    (first, first_client), _ = admins
    target = make_staff("caseworker", "coordinator")

    removed = admin_post(
        first_client, first, staff_url(target.user.pk, "roles/"), {"roles": ["caseworker"]}
    )
    deactivated = admin_post(first_client, first, staff_url(target.user.pk, "deactivate/"))

    assert removed.status_code == 200
    assert removed.json()["change"] is None
    assert roles_of(target.user) == {"caseworker"}
    assert deactivated.status_code == 200
    assert not User.objects.get(pk=target.user.pk).is_active


def test_an_unguarded_role_applies_at_once_beside_a_pending_grant(admins, make_staff):
    (first, first_client), _ = admins
    target = make_staff("caseworker")

    response = admin_post(
        first_client,
        first,
        staff_url(target.user.pk, "roles/"),
        {"roles": ["auditor", "coordinator"]},
    )

    assert response.status_code == 202
    assert response.json()["change"]["roles"] == ["coordinator"]
    assert roles_of(target.user) == {"auditor"}  # caseworker removed now, auditor added now


def test_a_rejected_change_does_nothing_and_the_requester_may_withdraw(admins, make_staff):
    (first, first_client), (second, second_client) = admins
    target = make_staff("auditor")
    url = staff_url(target.user.pk, "roles/")
    asked = admin_post(first_client, first, url, {"roles": ["auditor", "admin"]})
    change_id = asked.json()["change"]["id"]

    withdrawn = admin_post(
        first_client, first, change_url(change_id, "reject/"), {"reason": "typo"}
    )
    approved_late = admin_post(second_client, second, change_url(change_id, "approve/"))

    assert withdrawn.status_code == 200
    assert withdrawn.json()["change"]["status"] == "rejected"
    assert withdrawn.json()["change"]["reason"] == "typo"
    assert approved_late.status_code == 409
    assert roles_of(target.user) == {"auditor"}


def test_one_pending_change_of_a_kind_per_account(admins, make_staff):
    (first, first_client), (second, second_client) = admins
    target = make_staff("auditor")
    url = staff_url(target.user.pk, "roles/")

    first_ask = admin_post(first_client, first, url, {"roles": ["auditor", "caseworker"]})
    second_ask = admin_post(second_client, second, url, {"roles": ["auditor", "coordinator"]})

    assert first_ask.status_code == 202
    assert second_ask.status_code == 409
    assert StaffChange.objects.filter(status="pending").count() == 1


def test_approving_needs_a_fresh_code(admins, make_staff):
    (first, first_client), (second, second_client) = admins
    target = make_staff("auditor")
    asked = admin_post(
        first_client, first, staff_url(target.user.pk, "roles/"), {"roles": ["admin"]}
    )

    response = second_client.post(
        change_url(asked.json()["change"]["id"], "approve/"),
        {"otp": a_wrong_code(second)},
        format="json",
    )

    assert response.status_code == 403
    assert StaffChange.objects.get().status == "pending"
    assert roles_of(target.user) == set()


def test_changes_are_listed_pending_first_and_filtered_strictly(admins, make_staff):
    (first, first_client), (second, second_client) = admins
    done, waiting = make_staff("auditor"), make_staff("auditor")
    asked = admin_post(
        first_client, first, staff_url(done.user.pk, "roles/"), {"roles": ["caseworker"]}
    )
    admin_post(second_client, second, change_url(asked.json()["change"]["id"], "approve/"))
    admin_post(first_client, first, staff_url(waiting.user.pk, "roles/"), {"roles": ["caseworker"]})

    listed = first_client.get(CHANGES_URL).json()["results"]
    pending = first_client.get(CHANGES_URL, {"status": "pending"}).json()["results"]
    nonsense = first_client.get(CHANGES_URL, {"status": "maybe"})

    assert [row["status"] for row in listed] == ["pending", "applied"]
    assert [row["target"] for row in pending] == [waiting.user.username]
    assert nonsense.status_code == 400


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "auditor"])
def test_only_admins_see_or_decide_changes(admins, make_staff, client_for, role):
    (first, first_client), _ = admins
    target = make_staff("auditor")
    asked = admin_post(
        first_client, first, staff_url(target.user.pk, "roles/"), {"roles": ["coordinator"]}
    )
    outsider = make_staff(role)
    client = client_for(outsider)

    listing = client.get(CHANGES_URL)
    approve = admin_post(client, outsider, change_url(asked.json()["change"]["id"], "approve/"))

    assert (listing.status_code, approve.status_code) == (403, 403)
    assert StaffChange.objects.get().status == "pending"
