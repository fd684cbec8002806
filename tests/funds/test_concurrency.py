"""Money under concurrent requests, on PostgreSQL with real threads.

Every test sends the racing requests through the API, each thread with its own client and
database connection, then adds up what the database holds: no interleaving may reserve, allocate
or pay more than there is, lose an approval or surface a deadlock as a 500.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import token_issue
from funds.models import Allocation, Approval, Disbursement, FundingSource, IdempotencyRecord
from tests.cases.helpers import open_case
from tests.concurrency import run_at_once
from tests.conftest import Staff
from tests.funds.helpers import (
    ALLOCATIONS_URL,
    DISBURSEMENTS_URL,
    a_request,
    allocate,
    create_source,
    disbursement_url,
    request_money,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
RESERVING = ("requested", "approved", "paid")


def clients_of(staff: Staff, count: int) -> list[APIClient]:
    """`count` API clients holding one token of `staff`: one client per thread."""
    token = token_issue(user=staff.user).token
    clients = [APIClient() for _ in range(count)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return clients


def post(client: APIClient, url: str, body: dict[str, Any], **headers: str) -> Callable[[], Any]:
    return lambda: client.post(url, body, **headers)


def assert_one_answer_and_retryable_conflicts(responses: list[Response], *, created: int) -> None:
    """At least one copy carried the request out; every other copy either replays it or was
    told at once to retry (409 `idempotency_key_in_progress` with Retry-After)."""
    assert set(statuses(responses)) <= {created, 409}
    assert statuses(responses)[created] >= 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_progress"
            assert int(response["Retry-After"]) >= 1


def statuses(responses: list[Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


@pytest.fixture
def case_id(client) -> str:
    return open_case(client)["id"]


def an_allocation(lead: APIClient, case_id: str, amount: str) -> str:
    source = create_source(lead, amount="10000.00")
    return allocate(lead, source["id"], case_id, amount=amount)["id"]


def test_twenty_concurrent_requests_never_reserve_more_than_the_allocation(
    caseworker, lead, case_id
):
    # Given an allocation of 1000.00 and twenty requests of 70.00: fourteen fit.
    allocation_id = an_allocation(lead, case_id, "1000.00")
    body = a_request(allocation_id, amount="70.00")

    # When they all arrive at once
    responses = run_at_once(
        *(post(client, DISBURSEMENTS_URL, body) for client in clients_of(caseworker, 20))
    )

    # Then fourteen are granted, six refused with a 409, and the sums agree.
    assert statuses(responses) == {201: 14, 409: 6}
    allocation = Allocation.objects.get(pk=allocation_id)
    held = Disbursement.objects.filter(allocation=allocation, status__in=RESERVING)
    total = held.aggregate(total=Sum("amount_in_source_currency"))["total"]
    assert held.count() == 14
    assert total == allocation.reserved == Decimal("980.00")
    assert total <= allocation.amount


def test_ten_concurrent_payments_of_one_disbursement_pay_it_once(
    make_staff, client, coordinator, lead, case_id, client_for
):
    # Given an approved request of 70.00 and ten coordinators, each with a fresh code
    allocation_id = an_allocation(lead, case_id, "1000.00")
    item = request_money(client, allocation_id, amount="70.00")
    approved = lead.post(disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp()})
    assert approved.json()["status"] == "approved"
    payers = [make_staff(Role.COORDINATOR) for _ in range(10)]
    calls = [
        post(
            client_for(payer),
            disbursement_url(item["id"], "pay/"),
            {"otp": payer.totp(), "receipt_reference": f"WU-{n}"},
        )
        for n, payer in enumerate(payers)
    ]

    # When they all pay at once
    responses = run_at_once(*calls)

    # Then one payment is recorded; the others are refused and moved nothing.
    assert statuses(responses) == {200: 1, 409: 9}
    allocation = Allocation.objects.get(pk=allocation_id)
    assert (allocation.spent, allocation.reserved) == (Decimal("70.00"), Decimal(0))
    paid = Disbursement.objects.get(pk=item["id"])
    winner = next(r for r in responses if r.status_code == 200).json()
    assert paid.status == "paid"
    assert paid.receipt_reference == winner["receipt_reference"]


def test_concurrent_allocations_never_exceed_the_source(coordinator, lead, case_id):
    # Given a source of 2000.00 and ten allocations of 300.00: six fit.
    source = create_source(lead, amount="2000.00")
    body = {"source": source["id"], "case": case_id, "category": "travel", "amount": "300.00"}

    # When they are all made at once
    responses = run_at_once(
        *(post(client, ALLOCATIONS_URL, body) for client in clients_of(coordinator, 10))
    )

    # Then six are made, four refused, and the source's balance is their sum.
    assert statuses(responses) == {201: 6, 409: 4}
    stored = FundingSource.objects.get(pk=source["id"])
    total = Allocation.objects.filter(source=stored).aggregate(total=Sum("amount"))["total"]
    assert total == stored.allocated == Decimal("1800.00")
    assert stored.allocated <= stored.amount_received


def test_two_concurrent_approvals_both_count(
    make_staff, client, coordinator, lead, case_id, client_for
):
    # Given a request of 1500.00, above the threshold: two approvers are needed.
    allocation_id = an_allocation(lead, case_id, "2000.00")
    item = request_money(client, allocation_id, amount="1500.00")
    other = make_staff(Role.COORDINATOR)
    url = disbursement_url(item["id"], "approve/")

    # When both approve at once
    responses = run_at_once(
        post(lead, url, {"otp": coordinator.totp()}),
        post(client_for(other), url, {"otp": other.totp()}),
    )

    # Then neither approval is lost and the request is approved.
    assert statuses(responses) == {200: 2}
    stored = Disbursement.objects.get(pk=item["id"])
    assert stored.status == "approved"
    approvals = Approval.objects.filter(disbursement=stored, voided_at__isnull=True)
    approvers = sorted(approvals.values_list("approver", flat=True))
    assert approvers == sorted([coordinator.user.pk, other.user.pk])


def test_concurrent_approval_and_cancellation_end_consistent(client, coordinator, lead, case_id):
    # Given a request of 70.00 that one approval suffices for
    allocation_id = an_allocation(lead, case_id, "1000.00")
    item = request_money(client, allocation_id, amount="70.00")

    # When a coordinator approves it while its requester cancels it
    approve, cancel = run_at_once(
        post(lead, disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp()}),
        post(client, disbursement_url(item["id"], "cancel/"), {"reason": "found a lift"}),
    )

    # Then it is cancelled either way: approved first and then cancelled, or cancelled and the
    # approval refused; the reservation is released and an approval exists only if it won.
    assert cancel.status_code == 200
    assert approve.status_code in (200, 409)
    stored = Disbursement.objects.get(pk=item["id"])
    assert stored.status == "cancelled"
    assert Allocation.objects.get(pk=allocation_id).reserved == 0
    approvals = Approval.objects.filter(disbursement=stored).count()
    assert approvals == (1 if approve.status_code == 200 else 0)


@pytest.mark.parametrize("allocated", ["1000.00", "100.00"], ids=["room-for-many", "room-for-one"])
def test_concurrent_retries_with_one_key_create_one_request(allocated, caseworker, lead, case_id):
    # Given an allocation, and one request of 70.00 sent five times at once with one key (a
    # client retrying over a bad connection), whether or not the allocation could hold more
    allocation_id = an_allocation(lead, case_id, allocated)
    body = a_request(allocation_id, amount="70.00")
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-7f3a"}

    # When the copies race
    copies = clients_of(caseworker, 5)
    caseworker_client = copies[0]
    responses = run_at_once(
        *(post(client, DISBURSEMENTS_URL, body, **headers) for client in copies)
    )

    # Then one request is made; each copy answers with it, or at once with 409 "in progress"
    # (no worker waits on another's claim), and retried after that answers with it too.
    assert_one_answer_and_retryable_conflicts(responses, created=201)
    retried = [post(caseworker_client, DISBURSEMENTS_URL, body, **headers)() for _ in range(2)]
    assert {response.status_code for response in retried} == {201}
    assert {response.json()["id"] for response in retried} == {
        response.json()["id"] for response in responses if response.status_code == 201
    }
    assert Disbursement.objects.filter(allocation_id=allocation_id).count() == 1
    assert Allocation.objects.get(pk=allocation_id).reserved == Decimal("70.00")
    assert IdempotencyRecord.objects.count() == 1


def test_concurrent_retries_of_one_payment_with_one_key_all_answer_with_it(
    client, coordinator, lead, case_id
):
    # Given an approved request, and its payment sent five times at once with one key and one
    # body (the same code: one person's client retrying)
    allocation_id = an_allocation(lead, case_id, "1000.00")
    item = request_money(client, allocation_id, amount="70.00")
    lead.post(disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp()})
    body = {"otp": coordinator.totp(steps_ahead=1), "receipt_reference": "WU-1"}
    url = disbursement_url(item["id"], "pay/")

    # When the copies race
    copies = clients_of(coordinator, 5)
    responses = run_at_once(
        *(post(retry, url, body, HTTP_IDEMPOTENCY_KEY="pay-7f3a") for retry in copies)
    )

    # Then it is paid once; each copy answers with that payment or with 409 "in progress", and
    # a retry after that answers with the payment.
    assert_one_answer_and_retryable_conflicts(responses, created=200)
    assert {r.json()["status"] for r in responses if r.status_code == 200} == {"paid"}
    retried = post(copies[0], url, body, HTTP_IDEMPOTENCY_KEY="pay-7f3a")()
    assert (retried.status_code, retried.json()["status"]) == (200, "paid")
    allocation = Allocation.objects.get(pk=allocation_id)
    assert (allocation.spent, allocation.reserved) == (Decimal("70.00"), Decimal(0))
