"""A rejection needs a reason, and the requester reads it (`closing_reason`); auditors read it
masked, like every free text sealed under the case's key."""

from __future__ import annotations

import pytest

from funds.models import Disbursement
from tests.cases.helpers import error_fields, open_case
from tests.funds.helpers import allocate, create_source, disbursement_url, request_money

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(client, lead) -> dict:
    case_id = open_case(client)["id"]
    allocation_id = allocate(lead, create_source(lead)["id"], case_id)["id"]
    return request_money(client, allocation_id, amount="100.00")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}])
def test_a_rejection_without_a_reason_is_refused(lead, item, body):
    response = lead.post(disbursement_url(item["id"], "reject/"), body)

    assert response.status_code == 400
    assert "reason" in error_fields(response)
    assert Disbursement.objects.get(pk=item["id"]).status == "requested"


def test_the_requester_reads_why_and_an_auditor_reads_it_masked(
    client, lead, auditor, client_for, item
):
    why = "The receipt for the last tickets is still missing."

    rejected = lead.post(disbursement_url(item["id"], "reject/"), {"reason": why})

    assert rejected.status_code == 200, rejected.json()
    assert client.get(disbursement_url(item["id"])).json()["closing_reason"] == why
    shown = client_for(auditor).get(disbursement_url(item["id"])).json()
    assert shown["closing_reason"] == "[masked]"
    assert shown["status"] == "rejected"
