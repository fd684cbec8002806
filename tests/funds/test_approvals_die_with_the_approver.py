"""An approval counts only while its approver may approve.

Deactivation (the panic button for a seized phone), a second-factor reset (the old device may be
in other hands) and losing the coordinator role void the person's standing approvals on requests
not yet paid, in the same transaction, audited. A request left short of approvals goes back to
`requested`; a voided approval stays void if the person comes back. The rights are taken away
through the accounts services (what the admin endpoints call); the approvals and payments are
sent through the API, as the insider would.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from accounts.roles import Role
from accounts.services import (
    second_factor_reset,
    staff_deactivate,
    staff_reactivate,
    staff_set_roles,
)
from audit.models import Action, LogEntry
from funds.models import Approval, Disbursement
from tests.cases.helpers import open_case
from tests.funds.helpers import allocate, create_source, disbursement_url, request_money

pytestmark = pytest.mark.django_db

RIGHT_TAKEN: dict[str, tuple[Callable[[User], object], str]] = {
    "deactivated": (lambda user: staff_deactivate(user=user), "approver_deactivated"),
    "second factor reset": (
        lambda user: second_factor_reset(user=user),
        "approver_second_factor_reset",
    ),
    "coordinator role removed": (
        lambda user: staff_set_roles(user=user, roles=[Role.CASEWORKER]),
        "approver_role_removed",
    ),
}


@pytest.fixture
def allocation_id(client, lead) -> str:
    case_id = open_case(client)["id"]
    return allocate(lead, create_source(lead)["id"], case_id, amount="5000.00")["id"]


def approve(api, item_id: str, staff, steps_ahead: int = 0):
    return api.post(disbursement_url(item_id, "approve/"), {"otp": staff.totp(steps_ahead)})


def approvals_of(item_id: str) -> list[tuple[str, bool, str]]:
    return [
        (a.approver.username, a.voided_at is not None, a.voided_reason)
        for a in Approval.objects.filter(disbursement_id=item_id).order_by("at")
    ]


@pytest.mark.parametrize("taken", list(RIGHT_TAKEN))
def test_an_approval_does_not_outlive_its_approvers_right(
    client, make_staff, client_for, allocation_id, taken
):
    # Given a request above the threshold, approved by one coordinator
    first, second = make_staff(Role.COORDINATOR), make_staff(Role.COORDINATOR)
    item = request_money(client, allocation_id, amount="1500.00")
    assert approve(client_for(first), item["id"], first).json()["status"] == "requested"

    # When that coordinator loses the right, and a second one approves
    take_away, reason = RIGHT_TAKEN[taken]
    take_away(first.user)
    response = approve(client_for(second), item["id"], second)

    # Then the request still waits for a second standing approval
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "requested"
    assert approvals_of(item["id"]) == [
        (first.user.username, True, reason),
        (second.user.username, False, ""),
    ]
    shown = response.json()["approvals"]
    assert [(a["voided"], a["voided_reason"]) for a in shown] == [(True, reason), (False, None)]


@pytest.mark.parametrize("taken", list(RIGHT_TAKEN))
def test_an_approved_request_goes_back_to_requested_and_cannot_be_paid(
    client, lead, coordinator, make_staff, client_for, allocation_id, taken
):
    approver = make_staff(Role.COORDINATOR)
    item = request_money(client, allocation_id, amount="100.00")
    assert approve(client_for(approver), item["id"], approver).json()["status"] == "approved"

    RIGHT_TAKEN[taken][0](approver.user)
    paid = lead.post(
        disbursement_url(item["id"], "pay/"),
        {"otp": coordinator.totp(), "receipt_reference": "WU-1"},
    )

    stored = Disbursement.objects.get(pk=item["id"])
    assert (stored.status, stored.approved_at) == ("requested", None)
    assert paid.status_code == 409
    approval = Approval.objects.get(disbursement_id=item["id"])
    changes = LogEntry.objects.filter(action=Action.UPDATE, object_pk=str(approval.pk))
    assert any("voided_at" in (entry.changes or {}) for entry in changes)
    status_changes = LogEntry.objects.filter(action=Action.UPDATE, object_pk=item["id"])
    assert any(
        (entry.changes or {}).get("status") == ["approved", "requested"] for entry in status_changes
    )


def test_a_voided_approval_stays_void_when_the_approver_comes_back(
    client, make_staff, client_for, allocation_id
):
    approver = make_staff(Role.COORDINATOR)
    item = request_money(client, allocation_id, amount="100.00")
    approve(client_for(approver), item["id"], approver)

    staff_deactivate(user=approver.user)
    staff_reactivate(user=approver.user)

    assert Disbursement.objects.get(pk=item["id"]).status == "requested"
    assert approvals_of(item["id"]) == [(approver.user.username, True, "approver_deactivated")]
    # Back at work, they decide afresh: a new approval, not the old one revived.
    again = approve(client_for(approver), item["id"], approver, steps_ahead=1)
    assert again.json()["status"] == "approved", again.json()
    assert len(approvals_of(item["id"])) == 2


def test_losing_another_role_leaves_the_approvals_standing(
    client, make_staff, client_for, allocation_id
):
    approver = make_staff(Role.COORDINATOR, Role.AUDITOR)
    item = request_money(client, allocation_id, amount="100.00")
    approve(client_for(approver), item["id"], approver)

    staff_set_roles(user=approver.user, roles=[Role.COORDINATOR])

    assert Disbursement.objects.get(pk=item["id"]).status == "approved"
    assert approvals_of(item["id"]) == [(approver.user.username, False, "")]


def test_the_approvals_of_a_paid_request_stay_as_they_were(
    client, lead, coordinator, make_staff, client_for, allocation_id
):
    approver = make_staff(Role.COORDINATOR)
    item = request_money(client, allocation_id, amount="100.00")
    approve(client_for(approver), item["id"], approver)
    lead.post(
        disbursement_url(item["id"], "pay/"),
        {"otp": coordinator.totp(), "receipt_reference": "WU-1"},
    )

    staff_deactivate(user=approver.user)

    assert Disbursement.objects.get(pk=item["id"]).status == "paid"
    assert approvals_of(item["id"]) == [(approver.user.username, False, "")]


def test_an_approver_who_lost_the_role_by_any_path_stops_counting(
    client, lead, coordinator, make_staff, client_for, allocation_id
):
    # Given an approval, and the approver's coordinator role then removed behind the services'
    # back (no voiding ran): the approval is still on file, not voided
    first, second = make_staff(Role.COORDINATOR), make_staff(Role.COORDINATOR)
    item = request_money(client, allocation_id, amount="1500.00")
    approve(client_for(first), item["id"], first)
    first.user.groups.clear()

    # When a second coordinator approves
    second_approval = approve(client_for(second), item["id"], second)

    # Then only one approval counts: the request is not approved
    assert second_approval.json()["status"] == "requested"
    assert approvals_of(item["id"])[0] == (first.user.username, False, "")
