"""The money queues: what awaits this coordinator's decision (`?awaiting=me`), what awaits
payment (`?awaiting=payment`) and one's own requests (`?requested_by=me`)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from funds.models import Disbursement
from funds.services.disbursements import (
    Terms,
    disbursement_approve,
    disbursement_pay,
    disbursement_reject,
    disbursement_request,
    disbursement_update,
)
from tests.funds.helpers import DISBURSEMENTS_URL, funded_case, record_rate, terms

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_staff, client_for):
    caseworker = make_staff(Role.CASEWORKER)
    first, second = make_staff(Role.COORDINATOR), make_staff(Role.COORDINATOR)
    case, allocation = funded_case(caseworker.user, first.user, "queues")
    return {
        "caseworker": caseworker,
        "first": first,
        "second": second,
        "case": case,
        "allocation": allocation,
        "client": client_for,
    }


def ask(world, amount: str = "120.00", by=None) -> Disbursement:
    return disbursement_request(
        allocation=world["allocation"],
        requested_by=(by or world["caseworker"]).user,
        terms=terms("Payee of the test", amount=amount),
    )


def queue(world, who: str, **params: str) -> list[str]:
    response = world["client"](world[who]).get(DISBURSEMENTS_URL, params)
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_awaiting_me_lists_what_this_coordinator_may_still_decide_oldest_first(world):
    older, newer = ask(world), ask(world)
    own = ask(world, by=world["first"])

    listed = queue(world, "first", awaiting="me")

    assert listed == [str(older.pk), str(newer.pk)]
    assert str(own.pk) in queue(world, "second", awaiting="me")


def test_a_request_this_coordinator_decided_leaves_their_queue_but_not_the_others(world, settings):
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD = Decimal("500")
    large = ask(world, amount="400.00")
    two_approvers = ask(world, amount="200.00")  # with the one before, past the threshold
    disbursement_approve(disbursement=two_approvers, approver=world["first"].user)
    refused = ask(world)
    disbursement_reject(disbursement=refused, approver=world["second"].user, reason="Duplicate")

    assert Disbursement.objects.get(pk=two_approvers.pk).status == "requested"
    assert queue(world, "first", awaiting="me") == [str(large.pk)]
    assert queue(world, "second", awaiting="me") == [str(large.pk), str(two_approvers.pk)]


def test_a_voided_approval_puts_the_request_back_in_the_approvers_queue(world):
    item = ask(world, amount="200.00")
    disbursement_approve(disbursement=item, approver=world["first"].user)
    assert queue(world, "first", awaiting="me") == []

    disbursement_update(disbursement=item, actor=world["caseworker"].user, amount=Decimal("210.00"))

    assert queue(world, "first", awaiting="me") == [str(item.pk)]


def test_a_request_checked_against_a_rate_this_coordinator_recorded_is_not_in_their_queue(world):
    today = timezone.localdate()
    record_rate("RUB", "EUR", "0.0105", by=world["first"].user, on=today)
    rouble = disbursement_request(
        allocation=world["allocation"],
        requested_by=world["caseworker"].user,
        terms=Terms(
            amount=Decimal("5000.00"),
            currency="RUB",
            purpose="Rent for a week",
            method="cash",
            payee="Landlord",
            exchange_rate=Decimal("0.0105"),
            rate_source="Bank of the test",
            rate_date=today - datetime.timedelta(days=1),
        ),
    )

    assert queue(world, "first", awaiting="me") == []
    assert queue(world, "second", awaiting="me") == [str(rouble.pk)]


def test_awaiting_payment_lists_the_approved_and_unpaid_longest_approved_first(world):
    first_approved, second_approved, waiting = ask(world), ask(world), ask(world)
    disbursement_approve(disbursement=first_approved, approver=world["first"].user)
    disbursement_approve(disbursement=second_approved, approver=world["first"].user)
    paid = ask(world)
    disbursement_approve(disbursement=paid, approver=world["first"].user)
    disbursement_pay(disbursement=paid, actor=world["second"].user, receipt_reference="R-1")

    listed = queue(world, "second", awaiting="payment")

    assert listed == [str(first_approved.pk), str(second_approved.pk)]
    assert str(waiting.pk) not in listed


def test_requested_by_me_lists_only_the_callers_own_requests(world):
    mine = ask(world)
    ask(world, by=world["first"])

    assert queue(world, "caseworker", requested_by="me") == [str(mine.pk)]


@pytest.mark.parametrize("value", ["me", "payment"])
@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.AUDITOR])
def test_only_coordinators_have_decision_and_payment_queues(world, make_staff, role, value):
    ask(world)
    someone = make_staff(role)

    response = world["client"](someone).get(DISBURSEMENTS_URL, {"awaiting": value})

    assert response.status_code == 400
    assert "awaiting" in response.json()["fields"]


@pytest.mark.parametrize(("name", "value"), [("awaiting", "everyone"), ("requested_by", "you")])
def test_a_queue_value_it_does_not_offer_is_a_400(world, name, value):
    response = world["client"](world["first"]).get(DISBURSEMENTS_URL, {name: value})

    assert response.status_code == 400
    assert name in response.json()["fields"]
