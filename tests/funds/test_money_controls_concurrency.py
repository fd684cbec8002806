"""The money controls under concurrent requests, on PostgreSQL with real threads.

- An approval and the loss of the approver's right (deactivation) queue on the approver's own
  staff row: the approval holds it shared, the deactivation exclusively. Either the approval
  lands first and is voided by the deactivation, or it waits and is refused; never does an
  approval land after the right was lost.
- Ending or erasing a case locks the case's money rows before the case, in the order approvals
  and payments take them: they queue instead of deadlocking, and no money moves on an ended case.
- Requests that add up to a split are counted under the case's lock: two at once cannot both
  slip under the threshold.

Some tests pause one side inside its transaction (an event, a short sleep) to force the order
that matters and prove the other side waited; the others race from a barrier, several times.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.response import Response

from accounts.models import User
from accounts.roles import Role
from accounts.services import staff_deactivate
from accounts.signals import staff_rights_reduced
from cases.models import Case
from common.exceptions import Forbidden
from funds.locks import lock_actor
from funds.models import Allocation, Approval, Disbursement
from funds.services.disbursements import disbursement_approve, disbursement_request
from tests.cases.helpers import case_url, open_case
from tests.concurrency import run_at_once
from tests.conftest import Staff
from tests.erasure import erase_body
from tests.funds.helpers import (
    DISBURSEMENTS_URL,
    a_request,
    allocate,
    create_source,
    disbursement_url,
    funded_case,
    request_money,
    terms,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
ROUNDS = 5
HOLD = 0.5  # seconds one side holds its lock: long enough for the other to queue behind it


def codes(responses: list[Response]) -> Counter:
    return Counter(response.status_code for response in responses)


def assert_no_deadlock_and_no_500(*responses: Response) -> None:
    for response in responses:
        assert response.status_code < 500, response.content[:300]
        if response.status_code == 409:
            # A deadlock or serialization failure would be answered as concurrent_change.
            assert response.json()["code"] != "concurrent_change", response.json()


def a_waiting_request(make_staff, amount: str = "100.00") -> tuple[Staff, Disbursement]:
    """A caseworker's request of `amount` EUR, one approval enough, and a coordinator to
    approve it."""
    caseworker, approver = make_staff(Role.CASEWORKER), make_staff(Role.COORDINATOR)
    keeper = make_staff(Role.COORDINATOR)
    with transaction.atomic():
        _case, allocation = funded_case(caseworker.user, keeper.user, "race")
        item = disbursement_request(
            allocation=allocation, requested_by=caseworker.user, terms=terms("Race payee", amount)
        )
    return approver, item


def standing_approvals_of(user: User) -> int:
    return Approval.objects.filter(approver=user, voided_at__isnull=True).count()


# --- Deactivation and approval ---------------------------------------------------------------


def test_a_deactivation_waits_for_an_approval_under_way_and_then_voids_it(make_staff):
    approver, item = a_waiting_request(make_staff)
    approver_locked, deactivated = threading.Event(), threading.Event()

    def approve() -> None:
        with transaction.atomic():
            lock_actor(approver.user)  # the approval's first lock, held to its commit
            approver_locked.set()
            time.sleep(HOLD)
            assert not deactivated.is_set(), "the deactivation did not wait for the approval"
            disbursement_approve(disbursement=item, approver=approver.user)

    def deactivate() -> None:
        approver_locked.wait()
        staff_deactivate(user=approver.user)
        deactivated.set()

    run_at_once(approve, deactivate)

    stored = Disbursement.objects.get(pk=item.pk)
    assert (stored.status, stored.approved_at) == ("requested", None)
    approval = Approval.objects.get(disbursement=stored)
    assert (approval.voided_at is not None, approval.voided_reason) == (
        True,
        "approver_deactivated",
    )


def test_an_approval_waits_for_a_deactivation_under_way_and_is_refused(make_staff):
    approver, item = a_waiting_request(make_staff)
    voided, approval_finished = threading.Event(), threading.Event()

    def hold_after_voiding(**kwargs: Any) -> None:
        # Runs after funds voided the standing approvals, inside the deactivation's transaction:
        # an approval slipping in now would land after the right is gone.
        voided.set()
        time.sleep(HOLD)
        assert not approval_finished.is_set(), "the approval did not wait for the deactivation"

    def deactivate() -> None:
        staff_deactivate(user=approver.user)

    def approve() -> str:
        voided.wait()
        try:
            disbursement_approve(disbursement=item, approver=approver.user)
            return "approved"
        except Forbidden:
            return "refused"
        finally:
            approval_finished.set()

    staff_rights_reduced.connect(hold_after_voiding, dispatch_uid="test-hold-after-voiding")
    try:
        _, outcome = run_at_once(deactivate, approve)
    finally:
        staff_rights_reduced.disconnect(dispatch_uid="test-hold-after-voiding")

    assert outcome == "refused"
    assert not Approval.objects.filter(disbursement=item).exists()
    assert Disbursement.objects.get(pk=item.pk).status == "requested"


def test_a_deactivation_racing_an_approval_never_leaves_a_standing_approval(make_staff, client_for):
    for _ in range(ROUNDS):
        approver, item = a_waiting_request(make_staff)
        api = client_for(approver)

        response, _ = run_at_once(
            lambda api=api, item=item, approver=approver: api.post(
                disbursement_url(item.pk, "approve/"), {"otp": approver.totp()}
            ),
            lambda approver=approver: staff_deactivate(user=approver.user),
        )

        assert response.status_code in (200, 401, 403), response.content[:300]
        assert standing_approvals_of(approver.user) == 0
        assert Disbursement.objects.get(pk=item.pk).status == "requested"


# --- Ending a case and moving its money --------------------------------------------------------


def an_approved_request(client, lead, coordinator, steps_ahead: int = 0) -> tuple[str, str, str]:
    case_id = open_case(client)["id"]
    allocation_id = allocate(lead, create_source(lead)["id"], case_id)["id"]
    item = request_money(client, allocation_id, amount="100.00")
    approved = lead.post(
        disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp(steps_ahead)}
    )
    assert approved.json()["status"] == "approved", approved.json()
    return case_id, allocation_id, item["id"]


def send(api, url: str, body: dict | None = None) -> Callable[[], Response]:
    return lambda: api.post(url, body or {})


def test_an_end_move_racing_an_approval_neither_deadlocks_nor_approves_on_an_ended_case(
    make_staff, client, lead, client_for
):
    for _ in range(ROUNDS):
        approver = make_staff(Role.COORDINATOR)
        case_id = open_case(client)["id"]
        allocation_id = allocate(lead, create_source(lead)["id"], case_id)["id"]
        item = request_money(client, allocation_id, amount="100.00")

        approval, end = run_at_once(
            send(client_for(approver), disbursement_url(item["id"], "approve/"), {
                "otp": approver.totp()
            }),
            send(client, case_url(case_id, "transition/"), {"to": "withdrawn", "reason": "safe"}),
        )  # fmt: skip

        assert_no_deadlock_and_no_500(approval, end)
        assert sorted([approval.status_code, end.status_code]) == [200, 409]
        stored = Disbursement.objects.get(pk=item["id"])
        if end.status_code == 200:  # ended first: the waiting request went with it
            assert stored.status == "cancelled"
            assert Allocation.objects.get(pk=allocation_id).reserved == 0
        else:  # approved first: the end waits until it is paid or cancelled
            assert (stored.status, Case.objects.get(pk=case_id).status) == ("approved", "intake")


def test_an_end_move_racing_a_payment_neither_deadlocks_nor_leaves_approved_money_behind(
    make_staff, client, client_for
):
    for _ in range(ROUNDS):
        coordinator = make_staff(Role.COORDINATOR)
        lead = client_for(coordinator)
        case_id, allocation_id, item_id = an_approved_request(client, lead, coordinator)

        payment, end = run_at_once(
            send(lead, disbursement_url(item_id, "pay/"), {
                "otp": coordinator.totp(1), "receipt_reference": "WU-RACE"
            }),
            send(client, case_url(case_id, "transition/"), {"to": "withdrawn", "reason": "safe"}),
        )  # fmt: skip

        assert_no_deadlock_and_no_500(payment, end)
        assert payment.status_code == 200  # the end never overtakes an approved payment
        assert end.status_code in (200, 409)
        assert Disbursement.objects.get(pk=item_id).status == "paid"
        allocation = Allocation.objects.get(pk=allocation_id)
        assert (allocation.reserved, allocation.spent) == (0, Decimal("100.00"))


def test_an_erasure_racing_a_payment_neither_deadlocks_nor_keeps_a_receipt_in_clear(
    make_staff, client, client_for
):
    for _ in range(ROUNDS):
        coordinator = make_staff(Role.COORDINATOR)
        lead = client_for(coordinator)
        case_id, allocation_id, item_id = an_approved_request(client, lead, coordinator)
        # Another coordinator erases: each step-up spends a code of its own authenticator, so
        # the race is between the payment and the erasure, not between two uses of one code.
        eraser = make_staff(Role.COORDINATOR)

        payment, erasure = run_at_once(
            send(lead, disbursement_url(item_id, "pay/"), {
                "otp": coordinator.totp(1), "receipt_reference": "WU-RACE"
            }),
            send(client_for(eraser), case_url(case_id, "erase/"), erase_body(eraser)),
        )  # fmt: skip

        assert_no_deadlock_and_no_500(payment, erasure)
        assert erasure.status_code == 200
        stored = Disbursement.objects.get(pk=item_id)
        if payment.status_code == 200:  # paid first; the erasure then shredded the receipt
            assert stored.status == "paid"
        else:  # erased first: paying with a receipt the dead key cannot seal is refused
            assert payment.status_code == 409
            assert stored.status == "approved"  # still open, to be paid or cancelled
        allocation = Allocation.objects.get(pk=allocation_id)
        assert allocation.reserved + allocation.spent == Decimal("100.00")


# --- Split requests --------------------------------------------------------------------------


def test_two_requests_that_add_up_at_once_cannot_both_dodge_the_second_approver(
    caseworker, client, lead, client_for
):
    # Two allocations of one case and category: the requests lock different allocations, and
    # meet on the case.
    case_id = open_case(client)["id"]
    source = create_source(lead, amount="10000.00")
    first = allocate(lead, source["id"], case_id, amount="1000.00")["id"]
    second = allocate(lead, source["id"], case_id, amount="1000.00")["id"]

    one, two = run_at_once(
        send(client, DISBURSEMENTS_URL, a_request(first, amount="600.00")),
        send(client_for(caseworker), DISBURSEMENTS_URL, a_request(second, amount="600.00")),
    )

    assert codes([one, two]) == {201: 2}
    reasons = sorted(response.json()["approval_reasons"] for response in (one, two))
    assert reasons == [[], ["split_requests"]]
