"""An ended case (closed, rejected, withdrawn) moves no money.

Ending a case is refused while one of its requests is approved and unpaid (the cash may already
be in someone's hand); the requests still waiting for approval are cancelled with the move, their
reservations released, on the case's timeline and in the audit log. Approving or paying on an
ended case is refused whatever state the rows were left in. (Erasure, which cannot wait, is in
test_masking_and_access_log.py; the races are in test_money_controls_concurrency.py.)
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import Action, LogEntry
from cases.models import Case, TimelineEntry
from funds.models import Allocation, Disbursement
from tests.cases.helpers import case_url, open_case
from tests.funds.helpers import allocate, create_source, disbursement_url, request_money

pytestmark = pytest.mark.django_db

ENDINGS = [["withdrawn"], ["rejected"], ["lost_contact", "closed"]]


@pytest.fixture
def case_id(client) -> str:
    return open_case(client)["id"]


@pytest.fixture
def allocation_id(lead, case_id) -> str:
    return allocate(lead, create_source(lead)["id"], case_id, amount="1000.00")["id"]


def move(lead, case_id: str, path: list[str]):
    response = None
    for status in path:
        response = lead.post(case_url(case_id, "transition/"), {"to": status, "reason": "test"})
    return response


def approve(lead, coordinator, item_id: str, steps_ahead: int = 0):
    return lead.post(disbursement_url(item_id, "approve/"), {"otp": coordinator.totp(steps_ahead)})


def reserved(allocation_id: str) -> Decimal:
    return Allocation.objects.get(pk=allocation_id).reserved


@pytest.mark.parametrize("path", ENDINGS, ids=lambda path: path[-1])
def test_a_case_with_an_approved_unpaid_request_cannot_end(
    client, lead, coordinator, case_id, allocation_id, path
):
    item = request_money(client, allocation_id, amount="100.00")
    approve(lead, coordinator, item["id"])

    response = move(lead, case_id, path)

    assert response.status_code == 409
    assert response.json()["rule"] == "approved_requests_unpaid"
    assert "1 approved request not yet paid" in response.json()["message"]
    assert Case.objects.get(pk=case_id).status == (path[0] if len(path) > 1 else "intake")
    assert Disbursement.objects.get(pk=item["id"]).status == "approved"
    assert reserved(allocation_id) == Decimal("100.00")


@pytest.mark.parametrize("path", ENDINGS, ids=lambda path: path[-1])
def test_ending_a_case_cancels_its_waiting_requests_and_releases_them(
    client, lead, coordinator, case_id, allocation_id, path
):
    waiting = [request_money(client, allocation_id, amount=a) for a in ("100.00", "250.00")]

    response = move(lead, case_id, path)

    assert response.status_code == 200, response.json()
    assert reserved(allocation_id) == 0
    for item in waiting:
        stored = client.get(disbursement_url(item["id"])).json()
        assert (stored["status"], stored["closed_by"]) == ("cancelled", coordinator.user.username)
        assert path[-1] in stored["closing_reason"]
        changes = LogEntry.objects.filter(action=Action.UPDATE, object_pk=item["id"])
        assert any(
            (entry.changes or {}).get("status") == ["requested", "cancelled"] for entry in changes
        )
    timeline = client.get(case_url(case_id, "timeline/")).json()["results"]
    money = [entry for entry in timeline if entry["kind"] == TimelineEntry.Kind.MONEY]
    assert [(e["from_value"], e["to_value"]) for e in money] == [("requested", "cancelled")] * 2
    assert {e["reason"].split(" for ")[0] for e in money} == {"100.00 EUR", "250.00 EUR"}


def test_a_refused_end_cancels_nothing(client, lead, coordinator, case_id, allocation_id):
    approved = request_money(client, allocation_id, amount="100.00")
    approve(lead, coordinator, approved["id"])
    waiting = request_money(client, allocation_id, amount="50.00")

    assert move(lead, case_id, ["withdrawn"]).status_code == 409

    assert Disbursement.objects.get(pk=waiting["id"]).status == "requested"
    assert reserved(allocation_id) == Decimal("150.00")
    assert not TimelineEntry.objects.filter(case_id=case_id, kind="money").exists()


def test_a_request_cancelled_with_the_end_cannot_be_approved(
    client, lead, coordinator, case_id, allocation_id
):
    item = request_money(client, allocation_id, amount="100.00")
    move(lead, case_id, ["withdrawn"])

    response = approve(lead, coordinator, item["id"])

    assert response.status_code == 409
    assert Disbursement.objects.get(pk=item["id"]).status == "cancelled"


@pytest.mark.parametrize("ended", ["closed", "rejected", "withdrawn"])
def test_a_request_left_waiting_on_an_ended_case_cannot_be_approved(
    client, lead, coordinator, case_id, allocation_id, ended
):
    # A request left waiting on an ended case cannot come about through the API any more (the
    # end cancels it); rows written before this rule, or around it, are refused at approval.
    item = request_money(client, allocation_id, amount="100.00")
    Case.objects.filter(pk=case_id).update(status=ended)

    response = approve(lead, coordinator, item["id"])

    assert response.status_code == 409
    assert ended in response.json()["message"]
    assert Disbursement.objects.get(pk=item["id"]).status == "requested"
    assert not Disbursement.objects.get(pk=item["id"]).approvals.exists()


@pytest.mark.parametrize("ended", ["closed", "rejected", "withdrawn"])
def test_an_approved_request_on_an_ended_case_cannot_be_paid(
    client, lead, coordinator, second_coordinator, client_for, case_id, allocation_id, ended
):
    # An approved request on an ended case cannot come about through the API any more (the end
    # is refused); rows written before this rule, or around it, are refused at payment.
    item = request_money(client, allocation_id, amount="100.00")
    approve(lead, coordinator, item["id"])
    Case.objects.filter(pk=case_id).update(status=ended)

    response = client_for(second_coordinator).post(
        disbursement_url(item["id"], "pay/"),
        {"otp": second_coordinator.totp(), "receipt_reference": "WU-LATE"},
    )

    assert response.status_code == 409
    assert ended in response.json()["message"]
    assert Disbursement.objects.get(pk=item["id"]).status == "approved"
    assert Allocation.objects.get(pk=allocation_id).spent == 0


def test_once_paid_the_case_may_end(client, lead, coordinator, case_id, allocation_id):
    item = request_money(client, allocation_id, amount="100.00")
    approve(lead, coordinator, item["id"])
    lead.post(
        disbursement_url(item["id"], "pay/"),
        {"otp": coordinator.totp(steps_ahead=1), "receipt_reference": "WU-1"},
    )

    response = move(lead, case_id, ["withdrawn"])

    assert response.status_code == 200, response.json()
    assert Disbursement.objects.get(pk=item["id"]).status == "paid"
