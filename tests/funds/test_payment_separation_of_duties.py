"""Whoever asked for the money does not record that it was handed over: the API refuses it
(409), and so does the database, as it refuses a self-approval."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from funds.models import Allocation, Disbursement
from tests.cases.helpers import open_case
from tests.funds.helpers import allocate, create_source, disbursement_url, request_money

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved_own_request(client, lead, second_coordinator, client_for) -> dict:
    """A coordinator's own request, approved by a colleague."""
    case_id = open_case(client)["id"]
    allocation_id = allocate(lead, create_source(lead)["id"], case_id)["id"]
    item = request_money(lead, allocation_id, amount="100.00")
    approved = client_for(second_coordinator).post(
        disbursement_url(item["id"], "approve/"), {"otp": second_coordinator.totp()}
    )
    assert approved.json()["status"] == "approved", approved.json()
    return item


def test_the_requester_cannot_record_the_payment_of_their_own_request(
    lead, coordinator, approved_own_request
):
    item = approved_own_request

    response = lead.post(
        disbursement_url(item["id"], "pay/"),
        {"otp": coordinator.totp(), "receipt_reference": "WU-SELF"},
    )

    assert response.status_code == 409
    assert "your own request" in response.json()["message"]
    stored = Disbursement.objects.get(pk=item["id"])
    assert (stored.status, stored.paid_by_id) == ("approved", None)
    assert Allocation.objects.get(pk=item["allocation"]).spent == 0


def test_another_coordinator_records_it(lead, second_coordinator, client_for, approved_own_request):
    item = approved_own_request

    response = client_for(second_coordinator).post(
        disbursement_url(item["id"], "pay/"),
        {"otp": second_coordinator.totp(steps_ahead=1), "receipt_reference": "WU-OTHER"},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["paid_by"] == second_coordinator.user.username


def test_the_database_refuses_a_payment_recorded_by_the_requester(
    coordinator, approved_own_request
):
    # Past the service, as a bug or a hand-written UPDATE would be.
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=approved_own_request["id"]).update(
            status="paid", paid_by=coordinator.user, paid_at=timezone.now()
        )

    assert Disbursement.objects.get(pk=approved_own_request["id"]).status == "approved"
