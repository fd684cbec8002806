"""Splitting a sum into requests under the dual-approval threshold does not dodge the second
approver: a request that, with the case's other requests in the same category within
`FUNDS_DUAL_APPROVAL_WINDOW_DAYS` (requested, approved or paid), passes its source currency's
threshold needs two, and says why (`split_requests`)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from funds.models import Disbursement
from tests.cases.helpers import open_case
from tests.funds.helpers import (
    allocate,
    create_source,
    disbursement_url,
    request_money,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_id(client) -> str:
    return open_case(client)["id"]


@pytest.fixture
def travel(lead, case_id) -> str:
    """5,000 EUR for the case's travel (the threshold is 1,000 EUR)."""
    source = create_source(lead, amount="10000.00")
    return allocate(lead, source["id"], case_id, amount="5000.00")["id"]


def asked_days_ago(item: dict[str, Any], days: float) -> None:
    moment = timezone.now() - datetime.timedelta(days=days)
    Disbursement.objects.filter(pk=item["id"]).update(requested_at=moment)


def test_requests_just_under_the_threshold_need_a_second_approver_once_they_add_up(client, travel):
    # Given three requests of 999.00 EUR on one case and category
    first, second, third = (request_money(client, travel, amount="999.00") for _ in range(3))

    # Then the first needs one approver, and each one after it two, saying why
    assert (first["approvals_required"], first["approval_reasons"]) == (1, [])
    assert (second["approvals_required"], second["approval_reasons"]) == (2, ["split_requests"])
    assert (third["approvals_required"], third["approval_reasons"]) == (2, ["split_requests"])


@pytest.mark.parametrize(("days", "required"), [(7 + 1 / 24, 1), (7 - 1 / 24, 2)])
def test_only_requests_within_the_window_add_up(client, travel, days, required):
    earlier = request_money(client, travel, amount="600.00")
    asked_days_ago(earlier, days)

    later = request_money(client, travel, amount="600.00")

    assert later["approvals_required"] == required


def test_requests_from_sources_in_two_currencies_add_up_per_currency(client, lead, case_id):
    euros = create_source(lead, amount="10000.00")
    dollars = create_source(lead, currency="USD", amount="10000.00")
    in_euros = allocate(lead, euros["id"], case_id, amount="5000.00")["id"]
    in_dollars = allocate(lead, dollars["id"], case_id, amount="5000.00")["id"]

    first = request_money(client, in_euros, amount="600.00")
    other_currency = request_money(client, in_dollars, currency="USD", amount="600.00")
    second_in_euros = request_money(client, in_euros, amount="500.00")

    assert (first["approvals_required"], other_currency["approvals_required"]) == (1, 1)
    assert second_in_euros["approval_reasons"] == ["split_requests"]


def test_paid_requests_count_and_closed_ones_and_other_categories_do_not(
    client, lead, coordinator, case_id, travel
):
    source = create_source(lead, amount="10000.00")
    housing = allocate(lead, source["id"], case_id, category="housing", amount="5000.00")["id"]
    request_money(client, housing, amount="900.00")  # another category
    cancelled = request_money(client, travel, amount="900.00")
    client.post(disbursement_url(cancelled["id"], "cancel/"), {"reason": "not needed"})
    paid = request_money(client, travel, amount="400.00")
    lead.post(disbursement_url(paid["id"], "approve/"), {"otp": coordinator.totp()})
    lead.post(
        disbursement_url(paid["id"], "pay/"),
        {"otp": coordinator.totp(steps_ahead=1), "receipt_reference": "R-1"},
    )

    under = request_money(client, travel, amount="600.00")  # 400 + 600: not over 1,000
    over = request_money(client, travel, amount="0.01")

    assert Disbursement.objects.get(pk=paid["id"]).status == "paid"
    assert under["approval_reasons"] == []
    assert over["approval_reasons"] == ["split_requests"]


def test_the_reasons_do_not_shift_under_an_approver_when_another_request_is_cancelled(
    client, lead, coordinator, travel
):
    first = request_money(client, travel, amount="600.00")
    second = request_money(client, travel, amount="600.00")
    client.post(disbursement_url(first["id"], "cancel/"), {"reason": "merged"})

    approved_once = lead.post(
        disbursement_url(second["id"], "approve/"), {"otp": coordinator.totp()}
    )

    assert approved_once.json()["approval_reasons"] == ["split_requests"]
    assert approved_once.json()["status"] == "requested"


def test_a_change_of_terms_decides_the_reasons_anew(client, travel):
    request_money(client, travel, amount="600.00")
    second = request_money(client, travel, amount="600.00")

    smaller = client.patch(disbursement_url(second["id"]), {"amount": "300.00"})

    assert second["approval_reasons"] == ["split_requests"]
    assert (smaller.json()["approval_reasons"], smaller.json()["approvals_required"]) == ([], 1)
