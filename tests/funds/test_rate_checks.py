"""A request's exchange rate, checked against a reference the requester did not choose.

Sent as the insider would: a caseworker (or a coordinator asking for money) types the rate; the
reference is recorded by someone else. The tolerance's edges are exact (3% is ok, a factor of 2
is accepted, anything past either is not), and the larger conversion is what the allocation
reserves and the threshold sees.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.roles import Role
from funds.ecb import EcbFigure
from funds.models import Allocation, Disbursement, ReferenceRate
from funds.services.rates import ecb_rates_import
from tests.cases.helpers import error_fields, open_case
from tests.funds.helpers import (
    DISBURSEMENTS_URL,
    a_request,
    allocate,
    create_source,
    disbursement_url,
    record_rate,
)

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def allocation_id(client, lead) -> str:
    """10,000 EUR of a 10,000 EUR source, committed to the caseworker's case for travel."""
    case_id = open_case(client)["id"]
    source = create_source(lead, amount="10000.00")
    return allocate(lead, source["id"], case_id, amount="10000.00")["id"]


def in_dollars(allocation_id: str, rate: str, amount: str = "100.00", **extra: Any) -> dict:
    return a_request(
        allocation_id,
        amount=amount,
        currency="USD",
        exchange_rate=rate,
        rate_source="The exchange office round the corner",
        rate_date=today().isoformat(),
        **extra,
    )


def reserved(allocation_id: str) -> Decimal:
    return Allocation.objects.get(pk=allocation_id).reserved


@pytest.fixture
def reference(make_staff) -> ReferenceRate:
    """0.9 EUR per USD, recorded today by a coordinator who takes no other part."""
    return record_rate("USD", "EUR", "0.9000", by=make_staff(Role.COORDINATOR).user)


# --- The attack of the issue -----------------------------------------------------------------


def test_a_tiny_typed_rate_cannot_shrink_half_a_million_dollars_to_fifty_cents(
    client, allocation_id
):
    # Given the ECB's figure of today: 1.05 USD per EUR (0.952... EUR per USD)
    ecb_rates_import(figures=[EcbFigure(today(), "USD", Decimal("1.05"))])

    # When half a million dollars is asked for at a rate of 0.000001
    response = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.000001", "500000.00"))

    # Then it is refused on the rate, and nothing is reserved
    assert response.status_code == 400, response.json()
    assert "exchange_rate" in error_fields(response)
    assert not Disbursement.objects.exists()
    assert reserved(allocation_id) == 0


# --- The tolerance's edges -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "check"),
    [
        ("0.9000", "ok"),
        ("0.9270", "ok"),  # exactly 3% above
        ("0.8730", "ok"),  # exactly 3% below
        ("0.9271", "outside_tolerance"),  # just over
        ("0.8729", "outside_tolerance"),
        ("1.8000", "outside_tolerance"),  # twice the reference: the most that is accepted
        ("0.4500", "outside_tolerance"),  # half of it
    ],
)
def test_a_rate_is_ok_within_the_tolerance_and_needs_two_approvers_beyond_it(
    client, allocation_id, reference, rate, check
):
    response = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, rate))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rate_check"], body["reference_rate"]) == (check, "0.9")
    assert body["reference_rate_ids"] == [str(reference.pk)]
    assert body["reference_rate_date"] == today().isoformat()
    if check == "ok":
        assert (body["approval_reasons"], body["approvals_required"]) == ([], 1)
    else:
        assert body["approval_reasons"] == ["rate_outside_tolerance"]
        assert body["approvals_required"] == 2


@pytest.mark.parametrize(
    "rate",
    [
        "1.8001",  # just past twice the reference
        "0.4499",  # just past half of it
        "0.0000009",  # a million times off
        "900000",
    ],
)
def test_a_rate_more_than_twice_off_is_refused_naming_the_rate(
    client, allocation_id, reference, rate
):
    response = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, rate))

    assert response.status_code == 400, response.json()
    assert "exchange_rate" in error_fields(response)
    assert "times off the reference rate" in response.json()["fields"]["exchange_rate"][0]
    assert not Disbursement.objects.exists()


def test_the_outside_tolerance_request_is_held_for_a_second_approver(
    client, lead, coordinator, second_coordinator, client_for, allocation_id, reference
):
    item = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9500")).json()

    first = lead.post(disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp()})
    second = client_for(second_coordinator).post(
        disbursement_url(item["id"], "approve/"), {"otp": second_coordinator.totp()}
    )

    assert first.json()["status"] == "requested"
    assert second.json()["status"] == "approved"


# --- Which reference is usable ---------------------------------------------------------------


def test_without_a_reference_the_request_is_refused_until_one_is_recorded(client, allocation_id):
    response = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000"))

    assert response.status_code == 409
    assert "record a reference rate first" in response.json()["message"]
    assert not Disbursement.objects.exists()
    assert reserved(allocation_id) == 0


@pytest.mark.parametrize(("age", "status"), [(7, 201), (8, 409)])
def test_a_reference_older_than_the_maximum_age_is_not_used(
    client, allocation_id, make_staff, age, status
):
    keeper = make_staff(Role.COORDINATOR).user
    record_rate("USD", "EUR", "0.9000", on=today() - datetime.timedelta(days=age), by=keeper)

    response = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000"))

    assert response.status_code == status, response.json()


def test_a_reference_dated_after_the_request_is_not_used(client, allocation_id, make_staff):
    # Not through the API, which refuses it: as a clock put forward, or a row slipped in, would.
    ReferenceRate.objects.create(
        from_currency="USD",
        to_currency="EUR",
        rate=Decimal("0.9000"),
        rate_date=today() + datetime.timedelta(days=1),
        rate_source="Tomorrow's paper",
        origin=ReferenceRate.Origin.MANUAL,
        recorded_by=make_staff(Role.COORDINATOR).user,
    )

    response = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000"))

    assert response.status_code == 409
    assert "record a reference rate first" in response.json()["message"]


def test_a_reference_recorded_by_the_requester_does_not_count(
    lead, coordinator, allocation_id, make_staff
):
    # Given a coordinator who records the rate their own request will be checked against
    record_rate("USD", "EUR", "0.0001", by=coordinator.user)

    mine = lead.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.0001"))
    record_rate("USD", "EUR", "0.9000", by=make_staff(Role.COORDINATOR).user)
    checked = lead.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.0001"))

    assert mine.status_code == 409
    assert "record a reference rate first" in mine.json()["message"]
    assert checked.status_code == 400  # checked against someone else's: 9000 times off
    assert not Disbursement.objects.exists()


def test_whoever_recorded_the_reference_cannot_approve_the_request(
    client, lead, coordinator, second_coordinator, client_for, allocation_id
):
    record_rate("USD", "EUR", "0.9000", by=coordinator.user)
    item = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000")).json()

    refused = lead.post(disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp()})
    allowed = client_for(second_coordinator).post(
        disbursement_url(item["id"], "approve/"), {"otp": second_coordinator.totp()}
    )

    assert refused.status_code == 409
    assert "recorded the reference rate" in refused.json()["message"]
    assert allowed.json()["status"] == "approved", allowed.json()


def test_the_recorder_of_a_rate_an_inverse_came_from_cannot_approve_either(
    client, lead, coordinator, allocation_id
):
    record_rate("EUR", "USD", "1.1111", by=coordinator.user)  # its inverse: 0.9000...
    item = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000")).json()

    refused = lead.post(disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp()})

    assert item["reference_rate"] == "0.9000090001"  # 1 / 1.1111, to the 10 places kept
    assert refused.status_code == 409


# --- The larger conversion counts --------------------------------------------------------------


def test_the_allocation_reserves_the_larger_conversion_and_shows_both(
    client, allocation_id, reference
):
    body = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.8800", "1000.00")).json()

    assert body["rate_check"] == "ok"  # 2.2% under the reference
    assert body["amount_at_exchange_rate"] == "880.00"
    assert body["amount_at_reference_rate"] == "900.00"
    assert body["amount_in_source_currency"] == "900.00"
    assert reserved(allocation_id) == Decimal("900.00")


def test_the_threshold_sees_the_larger_conversion(client, allocation_id, reference, settings):
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY = {"USD": Decimal("100000")}

    # 985.60 EUR at the typed rate, under the 1,000 EUR threshold; 1,008.00 at the reference
    body = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.8800", "1120.00")).json()

    assert body["amount_at_exchange_rate"] == "985.60"
    assert body["approval_reasons"] == ["amount_over_threshold"]
    assert body["approvals_required"] == 2


@pytest.mark.parametrize(("thresholds", "reasons"), [({"USD": "500"}, 1), ({}, 0)])
def test_the_paid_currency_has_its_threshold_where_one_is_set_for_it(
    client, allocation_id, reference, settings, thresholds, reasons
):
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD = Decimal("500")  # meant in the source's currency
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY = {
        "EUR": Decimal("1000"),
        **{code: Decimal(value) for code, value in thresholds.items()},
    }

    body = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000", "600.00")).json()

    assert body["approval_reasons"] == ["paid_amount_over_threshold"] * reasons


# --- Checked again whenever the terms change ---------------------------------------------------


def test_a_changed_rate_is_checked_again_and_a_wild_one_changes_nothing(
    client, allocation_id, reference
):
    item = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000")).json()

    wild = client.patch(disbursement_url(item["id"]), {"exchange_rate": "0.000001"})
    off = client.patch(disbursement_url(item["id"]), {"exchange_rate": "0.9500"})

    assert wild.status_code == 400
    assert "exchange_rate" in error_fields(wild)
    assert (off.json()["rate_check"], off.json()["approval_reasons"]) == (
        "outside_tolerance",
        ["rate_outside_tolerance"],
    )
    assert reserved(allocation_id) == Decimal("95.00")


def test_any_change_of_terms_needs_a_reference_still_usable_that_day(
    client, allocation_id, make_staff, monkeypatch
):
    keeper = make_staff(Role.COORDINATOR).user
    record_rate("USD", "EUR", "0.9000", on=today() - datetime.timedelta(days=7), by=keeper)
    item = client.post(DISBURSEMENTS_URL, in_dollars(allocation_id, "0.9000")).json()
    tomorrow = today() + datetime.timedelta(days=1)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: tomorrow)

    response = client.patch(disbursement_url(item["id"]), {"purpose": "Train tickets instead"})

    assert response.status_code == 409
    assert "record a reference rate first" in response.json()["message"]
    assert Disbursement.objects.get(pk=item["id"]).purpose == "Bus tickets to the border"
