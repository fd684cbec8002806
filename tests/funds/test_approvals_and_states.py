"""Four eyes, step-up, the disbursement status machine and the allocation rules.

Every forbidden move is sent through the API as the staff member who would try it, with a real
token and (for approve/ and pay/) a real code from their authenticator; each refusal is checked
in the database too: nothing changed, nothing reserved or spent that should not be. States a
test starts from are set up through the services, which is where the API's writes go anyway.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from accounts.services import staff_create, token_issue
from cases.models import Case
from cases.services import case_transition
from funds.models import Allocation, Approval, Disbursement, FundingSource
from funds.services import disbursements as services
from tests.cases.helpers import case_url, error_fields, open_case
from tests.conftest import Staff
from tests.erasure import erase_body
from tests.funds.helpers import (
    ALLOCATIONS_URL,
    DISBURSEMENTS_URL,
    SOURCES_URL,
    a_request,
    allocate,
    create_source,
    disbursement_url,
    record_rate,
    request_money,
)

pytestmark = pytest.mark.django_db

STATUSES = ("requested", "approved", "paid", "rejected", "cancelled")
ACTIONS = ("approve", "reject", "cancel", "pay", "patch")
ALLOWED = {
    ("requested", "approve"): "approved",
    ("requested", "reject"): "rejected",
    ("requested", "cancel"): "cancelled",
    ("requested", "patch"): "requested",
    ("approved", "reject"): "rejected",
    ("approved", "cancel"): "cancelled",
    ("approved", "pay"): "paid",
    ("approved", "patch"): "requested",
}


@dataclass
class World:
    caseworker: Staff
    coordinator: Staff
    second_coordinator: Staff
    clients: dict[str, APIClient]
    case_id: str
    source: dict[str, Any]
    allocation: dict[str, Any]


def new_staff(role: str) -> Staff:
    password = secrets.token_urlsafe(18)
    user, enrolment = staff_create(
        username=f"{role}-{secrets.token_hex(4)}", roles=[role], password=password
    )
    return Staff(user=user, password=password, backup_codes=enrolment.backup_codes)


def client_of(staff: Staff) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user).token}")
    return api


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Staff, a case, a source of 10,000 EUR and an allocation of 2,000 EUR to the case, built
    once and rolled back at the end of the module; each test's savepoint undoes its own writes
    (second factors' last used step included, so every test meets unused codes)."""
    with django_db_blocker.unblock(), transaction.atomic():
        caseworker = new_staff(Role.CASEWORKER)
        coordinator = new_staff(Role.COORDINATOR)
        second = new_staff(Role.COORDINATOR)
        clients = {"client": client_of(caseworker), "lead": client_of(coordinator),
                   "other": client_of(second)}  # fmt: skip
        case_id = open_case(clients["client"])["id"]
        source = create_source(clients["lead"], amount="10000.00")
        allocation = allocate(clients["lead"], source["id"], case_id, amount="2000.00")
        yield World(caseworker, coordinator, second, clients, case_id, source, allocation)
        transaction.set_rollback(True)


@pytest.fixture
def caseworker(world: World) -> Staff:
    return world.caseworker


@pytest.fixture
def coordinator(world: World) -> Staff:
    return world.coordinator


@pytest.fixture
def second_coordinator(world: World) -> Staff:
    return world.second_coordinator


@pytest.fixture
def client(world: World) -> APIClient:
    return world.clients["client"]


@pytest.fixture
def lead(world: World) -> APIClient:
    return world.clients["lead"]


@pytest.fixture
def other(world: World) -> APIClient:
    return world.clients["other"]


@pytest.fixture
def case_id(world: World) -> str:
    return world.case_id


@pytest.fixture
def source(world: World) -> dict[str, Any]:
    return world.source


@pytest.fixture
def allocation(world: World) -> dict[str, Any]:
    return world.allocation


@pytest.fixture(autouse=True)
def _two_approvers_above_1000_eur(settings) -> None:
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD = Decimal("1000")
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY = {}


def approve(api: APIClient, staff: Staff, item_id: object, steps_ahead: int = 0) -> Any:
    return api.post(disbursement_url(item_id, "approve/"), {"otp": staff.totp(steps_ahead)})


def pay(api: APIClient, staff: Staff, item_id: object, steps_ahead: int = 0) -> Any:
    body = {"otp": staff.totp(steps_ahead), "receipt_reference": "WU-0000-1111"}
    return api.post(disbursement_url(item_id, "pay/"), body)


def stored(item_id: object) -> Disbursement:
    return Disbursement.objects.select_related("allocation").get(pk=item_id)


def live_approvals(item_id: object) -> int:
    return Approval.objects.filter(disbursement_id=item_id, voided_at__isnull=True).count()


def balances(allocation_id: object) -> tuple[Decimal, Decimal]:
    row = Allocation.objects.get(pk=allocation_id)
    return row.reserved, row.spent


def terms(amount: str) -> services.Terms:
    return services.Terms(
        amount=Decimal(amount),
        currency="EUR",
        purpose="Train tickets",
        method="cash",
        payee="A. Testov",
    )


def disbursement_in(
    status: str, allocation_id: object, requester: User, approver: User, amount: str = "100.00"
) -> Disbursement:
    """A request by `requester` brought to `status` through the services."""
    item = services.disbursement_request(
        allocation=Allocation.objects.get(pk=allocation_id),
        requested_by=requester,
        terms=terms(amount),
    )
    if status in ("approved", "paid"):
        services.disbursement_approve(disbursement=item, approver=approver)
    if status == "paid":
        services.disbursement_pay(disbursement=item, actor=approver, receipt_reference="R-1")
    if status == "rejected":
        services.disbursement_reject(disbursement=item, approver=approver, reason="no")
    if status == "cancelled":
        services.disbursement_cancel(disbursement=item, actor=requester, reason="not needed")
    return Disbursement.objects.get(pk=item.pk)


# --- four eyes -------------------------------------------------------------------------------


def test_a_coordinator_cannot_approve_their_own_request(lead, coordinator, allocation):
    item = request_money(lead, allocation["id"], amount="100.00")

    response = approve(lead, coordinator, item["id"])

    assert response.status_code == 409
    assert stored(item["id"]).status == "requested"
    assert not Approval.objects.filter(disbursement_id=item["id"]).exists()


def test_a_coordinator_cannot_reject_their_own_request_but_can_cancel_it(lead, allocation):
    item = request_money(lead, allocation["id"], amount="100.00")

    rejected = lead.post(disbursement_url(item["id"], "reject/"), {"reason": "changed my mind"})
    assert rejected.status_code == 409
    assert stored(item["id"]).status == "requested"

    cancelled = lead.post(disbursement_url(item["id"], "cancel/"), {"reason": "changed my mind"})
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
    assert balances(allocation["id"]) == (0, 0)


@pytest.mark.parametrize(("amount", "status"), [("100.00", "approved"), ("1500.00", "requested")])
def test_a_coordinator_who_approved_can_still_reject(
    client, lead, coordinator, allocation, amount, status
):
    # Given a request the coordinator approved (fully below the threshold, half above it)
    item = request_money(client, allocation["id"], amount=amount)
    assert approve(lead, coordinator, item["id"]).json()["status"] == status

    # When they reject it after all
    response = lead.post(disbursement_url(item["id"], "reject/"), {"reason": "fraud suspected"})

    # Then it is rejected and its reservation released
    assert response.status_code == 200, response.json()
    assert stored(item["id"]).status == "rejected"
    assert balances(allocation["id"]) == (0, 0)


@pytest.mark.parametrize("amount", ["999.99", "1000.00"])
def test_one_approval_at_or_below_the_threshold_suffices(
    client, lead, coordinator, allocation, amount
):
    item = request_money(client, allocation["id"], amount=amount)
    assert item["approvals_required"] == 1

    response = approve(lead, coordinator, item["id"])

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert stored(item["id"]).approved_at is not None


def test_above_the_threshold_two_distinct_approvers_are_needed(
    client, lead, other, coordinator, second_coordinator, allocation
):
    item = request_money(client, allocation["id"], amount="1000.01")
    assert item["approvals_required"] == 2

    first = approve(lead, coordinator, item["id"])
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "requested"

    again = approve(lead, coordinator, item["id"], steps_ahead=1)
    assert again.status_code == 409
    assert live_approvals(item["id"]) == 1
    assert stored(item["id"]).status == "requested"

    second = approve(other, second_coordinator, item["id"])
    assert second.status_code == 200, second.json()
    assert second.json()["status"] == "approved"
    assert {a["approver"] for a in second.json()["approvals"]} == {
        coordinator.user.username,
        second_coordinator.user.username,
    }


def test_a_threshold_per_currency_applies_to_sources_in_that_currency(
    settings, client, lead, coordinator, case_id
):
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY = {"RUB": Decimal("50000")}
    roubles = create_source(lead, currency="RUB", amount="1000000.00")
    allocation = allocate(lead, roubles["id"], case_id, amount="200000.00")
    at = request_money(client, allocation["id"], currency="RUB", amount="50000.00")
    above = request_money(client, allocation["id"], currency="RUB", amount="50000.01")

    response = approve(lead, coordinator, at["id"])
    half = approve(lead, coordinator, above["id"], steps_ahead=1)

    assert (at["approvals_required"], above["approvals_required"]) == (1, 2)
    assert response.json()["status"] == "approved"
    assert half.json()["status"] == "requested"


def test_the_threshold_is_taken_in_the_source_currency(settings, client, allocation):
    # RUB's own threshold is high, but the source is in EUR: what counts is the EUR amount
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY = {"RUB": Decimal("500000")}
    rate = {"exchange_rate": "0.0105", "rate_source": "ECB", "rate_date": "2026-11-20"}
    record_rate("RUB", "EUR", "0.0105")

    below = request_money(client, allocation["id"], currency="RUB", amount="90000.00", **rate)
    above = request_money(client, allocation["id"], currency="RUB", amount="100000.00", **rate)

    assert (above["amount_in_source_currency"], above["approvals_required"]) == ("1050.00", 2)
    assert "amount_over_threshold" in above["approval_reasons"]
    assert (below["amount_in_source_currency"], below["approvals_required"]) == ("945.00", 1)
    assert below["approval_reasons"] == []


# --- a changed request loses its approvals ---------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "150.00"},
        {"payee": "Someone Else, Bank Transfer"},
        {"purpose": "Housing deposit instead"},
        {"method": "bank_transfer"},
        {
            "currency": "RUB",
            "exchange_rate": "0.0105",
            "rate_source": "ECB",
            "rate_date": "2026-11-20",
        },
    ],
    ids=["amount", "payee", "purpose", "method", "currency"],
)
def test_an_edited_request_loses_its_approvals_and_needs_fresh_ones(
    client, lead, coordinator, allocation, change
):
    record_rate("RUB", "EUR", "0.0105")
    item = request_money(client, allocation["id"], amount="100.00")
    assert approve(lead, coordinator, item["id"]).json()["status"] == "approved"

    edited = client.patch(disbursement_url(item["id"]), change)

    assert edited.status_code == 200, edited.json()
    body = edited.json()
    assert body["status"] == "requested"
    assert body["approved_at"] is None
    assert [a["voided"] for a in body["approvals"]] == [True]
    assert live_approvals(item["id"]) == 0
    reserved, _spent = balances(allocation["id"])
    assert reserved == stored(item["id"]).amount_in_source_currency

    again = approve(lead, coordinator, item["id"], steps_ahead=1)
    assert again.status_code == 200, again.json()
    assert again.json()["status"] == "approved"
    assert [a["voided"] for a in again.json()["approvals"]] == [True, False]


def test_a_patch_that_changes_nothing_keeps_the_approvals(client, lead, coordinator, allocation):
    item = request_money(client, allocation["id"], amount="100.00")
    approve(lead, coordinator, item["id"])

    response = client.patch(disbursement_url(item["id"]), {"amount": "100.00"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert live_approvals(item["id"]) == 1


def test_only_the_requester_may_edit_a_request(client, lead, allocation):
    item = request_money(client, allocation["id"], amount="100.00")

    response = lead.patch(disbursement_url(item["id"]), {"payee": "The coordinator's cousin"})

    assert response.status_code == 409
    assert stored(item["id"]).payee == a_request(allocation["id"])["payee"]


def test_raising_a_request_beyond_its_allocation_is_refused_and_changes_nothing(
    client, lead, coordinator, allocation
):
    # Given an approved request of 600 on an allocation of 2,000 that also holds 900 elsewhere
    item = request_money(client, allocation["id"], amount="600.00")
    request_money(client, allocation["id"], amount="900.00")
    approve(lead, coordinator, item["id"])

    # When its requester raises it past what the allocation still holds (500 + its own 600)
    response = client.patch(disbursement_url(item["id"]), {"amount": "1100.01"})

    # Then it is refused with what is left, and the request keeps its amount and approval
    assert response.status_code == 409
    assert "1100.00 EUR" in response.json()["message"]
    row = stored(item["id"])
    assert (row.amount, row.status) == (Decimal("600.00"), "approved")
    assert live_approvals(item["id"]) == 1
    assert balances(allocation["id"]) == (Decimal("1500.00"), 0)


# --- step-up ---------------------------------------------------------------------------------


@pytest.fixture
def step_up_target(client, caseworker, coordinator, allocation) -> dict[str, Disbursement]:
    """A request waiting for approval and an approved one waiting for payment."""
    return {
        "approve/": disbursement_in(
            "requested", allocation["id"], caseworker.user, coordinator.user
        ),
        "pay/": disbursement_in("approved", allocation["id"], caseworker.user, coordinator.user),
    }


def step_up_body(action: str, otp: str | None) -> dict[str, str]:
    body = {} if otp is None else {"otp": otp}
    if action == "pay/":
        body["receipt_reference"] = "WU-0000-1111"
    return body


def a_wrong_code(staff: Staff) -> str:
    taken = {staff.totp(steps) for steps in (-1, 0, 1)}
    return next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in taken)


@pytest.mark.parametrize("action", ["approve/", "pay/"])
def test_a_valid_token_without_a_code_moves_no_money(other, step_up_target, action):
    item = step_up_target[action]
    before = live_approvals(item.pk)

    response = other.post(disbursement_url(item.pk, action), step_up_body(action, None))

    assert response.status_code == 400
    assert "otp" in error_fields(response)
    assert stored(item.pk).status == item.status
    assert live_approvals(item.pk) == before
    assert balances(item.allocation_id)[1] == 0


@pytest.mark.parametrize("action", ["approve/", "pay/"])
@pytest.mark.parametrize("code", ["wrong", "backup", "someone_else", "empty"])
def test_a_step_up_code_that_is_not_a_fresh_totp_of_the_caller_is_refused(
    other, second_coordinator, coordinator, step_up_target, action, code
):
    item = step_up_target[action]
    before = live_approvals(item.pk)
    backup = second_coordinator.backup_codes[0]
    otp = {
        "wrong": a_wrong_code(second_coordinator),
        "backup": backup,
        "someone_else": coordinator.totp(),
        "empty": "",
    }[code]

    response = other.post(disbursement_url(item.pk, action), step_up_body(action, otp))

    assert response.status_code in ((400,) if code == "empty" else (403,))
    row = stored(item.pk)
    assert (row.status, row.paid_at) == (item.status, None)
    assert live_approvals(item.pk) == before
    assert balances(item.allocation_id)[1] == 0
    assert second_coordinator.has_backup_code(backup)


@pytest.mark.parametrize("action", ["approve/", "pay/"])
def test_a_code_used_once_is_refused_the_second_time(
    client, other, caseworker, coordinator, second_coordinator, allocation, step_up_target, action
):
    # Given the second coordinator just used their current code on another request
    first = disbursement_in("requested", allocation["id"], caseworker.user, coordinator.user)
    code = second_coordinator.totp()
    assert other.post(disbursement_url(first.pk, "approve/"), {"otp": code}).status_code == 200
    item = step_up_target[action]

    # When they send the same code again
    response = other.post(disbursement_url(item.pk, action), step_up_body(action, code))

    # Then it is refused and nothing moves
    assert response.status_code == 403
    row = stored(item.pk)
    assert (row.status, row.paid_at) == (item.status, None)
    assert balances(item.allocation_id)[1] == 0


# --- restricted sources ----------------------------------------------------------------------


def test_a_restricted_source_funds_only_its_categories(lead, case_id):
    source = create_source(lead, restricted_to=["travel", "housing"])
    body = {"source": source["id"], "case": case_id, "amount": "100.00"}

    refused = lead.post(ALLOCATIONS_URL, {**body, "category": "medical"})
    accepted = lead.post(ALLOCATIONS_URL, {**body, "category": "housing"})

    assert refused.status_code == 409
    assert "medical" in refused.json()["message"]
    assert accepted.status_code == 201, accepted.json()
    allocated = Allocation.objects.filter(source_id=source["id"])
    assert list(allocated.values_list("category", flat=True)) == ["housing"]
    assert FundingSource.objects.get(pk=source["id"]).allocated == Decimal("100.00")


def test_restricting_a_source_that_already_funds_another_category_is_refused(lead, source, case_id):
    allocate(lead, source["id"], case_id, category="medical", amount="100.00")

    response = lead.patch(f"{SOURCES_URL}{source['id']}/", {"restricted_to": ["travel"]})

    assert response.status_code == 409
    assert "medical" in response.json()["message"]
    assert FundingSource.objects.get(pk=source["id"]).restricted_to == []


# --- the status machine ----------------------------------------------------------------------


def act(
    action: str,
    item_id: object,
    *,
    client: APIClient,
    other: APIClient,
    approver: Staff,
    steps_ahead: int = 0,
) -> Any:
    """`action` by whoever may try it: the requester cancels and edits, another coordinator
    approves, rejects and pays (with their code `steps_ahead` steps on)."""
    if action == "approve":
        return approve(other, approver, item_id, steps_ahead)
    if action == "pay":
        return pay(other, approver, item_id, steps_ahead)
    if action == "reject":
        return other.post(disbursement_url(item_id, "reject/"), {"reason": "no"})
    if action == "cancel":
        return client.post(disbursement_url(item_id, "cancel/"), {"reason": "not needed"})
    return client.patch(disbursement_url(item_id), {"amount": "110.00"})


def snapshot(item_id: object) -> tuple:
    row = stored(item_id)
    approvals = Approval.objects.filter(disbursement_id=item_id)
    return (
        row.status,
        row.amount,
        row.approved_at,
        row.paid_at,
        row.closed_at,
        row.receipt_reference,
        approvals.count(),
        approvals.filter(voided_at__isnull=False).count(),
    )


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_every_action_on_every_status(
    client,
    lead,
    other,
    caseworker,
    coordinator,
    second_coordinator,
    allocation,
    status,
    action,
):
    # Given a request in `status` next to a paid one and an open one on the same allocation
    disbursement_in("paid", allocation["id"], caseworker.user, coordinator.user, "50.00")
    disbursement_in("requested", allocation["id"], caseworker.user, coordinator.user, "30.00")
    item = disbursement_in(status, allocation["id"], caseworker.user, coordinator.user)
    before = snapshot(item.pk)

    response = act(action, item.pk, client=client, other=other, approver=second_coordinator)

    expected = ALLOWED.get((status, action))
    if expected is None:
        assert response.status_code == 409, response.json()
        assert snapshot(item.pk) == before
    else:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == expected
        assert stored(item.pk).status == expected
    assert_reservations_match_disbursements(lead, allocation["id"])


def assert_reservations_match_disbursements(lead: APIClient, allocation_id: object) -> None:
    rows = Disbursement.objects.filter(allocation_id=allocation_id)
    open_sum = sum(
        (r.amount_in_source_currency for r in rows if r.status in ("requested", "approved")),
        Decimal(0),
    )
    paid_sum = sum((r.amount_in_source_currency for r in rows if r.status == "paid"), Decimal(0))
    shown = lead.get(f"{ALLOCATIONS_URL}{allocation_id}/").json()
    amount = Decimal(shown["amount"])
    assert (Decimal(shown["reserved"]), Decimal(shown["spent"])) == (open_sum, paid_sum)
    assert Decimal(shown["remaining"]) == amount - open_sum - paid_sum


def test_a_paid_disbursement_is_final(
    client, lead, other, caseworker, coordinator, second_coordinator, allocation
):
    item = disbursement_in("paid", allocation["id"], caseworker.user, coordinator.user)
    before = snapshot(item.pk)

    codes = [
        act(
            action,
            item.pk,
            client=client,
            other=other,
            approver=second_coordinator,
            steps_ahead=int(action == "pay"),  # approve/ used the current code
        ).status_code
        for action in ACTIONS
    ]

    assert codes == [409] * len(ACTIONS)
    assert snapshot(item.pk) == before
    assert balances(allocation["id"]) == (0, Decimal("100.00"))


# --- allocations -----------------------------------------------------------------------------


def test_over_allocating_a_source_is_refused_naming_what_is_left(lead, source, case_id):
    allocate(lead, source["id"], case_id, amount="6000.00")  # 2,000 went to `allocation`

    response = lead.post(
        ALLOCATIONS_URL,
        {"source": source["id"], "case": case_id, "category": "travel", "amount": "2000.01"},
    )

    assert response.status_code == 409
    assert "2000.00 EUR" in response.json()["message"]
    assert FundingSource.objects.get(pk=source["id"]).allocated == Decimal("8000.00")
    assert Allocation.objects.filter(source_id=source["id"]).count() == 2


def test_a_refusal_is_in_the_language_the_client_reads(lead, source, case_id):
    """Services' refusals are translated like every other string (the money pages show them)."""
    allocate(lead, source["id"], case_id, amount="6000.00")
    body = {"source": source["id"], "case": case_id, "category": "travel", "amount": "2000.01"}

    response = lead.post(ALLOCATIONS_URL, body, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 409
    message = response.json()["message"]
    assert "осталось для выделения" in message
    assert "2000.00 EUR" in message
    assert "left to allocate" not in message


def test_no_allocation_for_an_erased_case(lead, source, case_id):
    assert lead.post(case_url(case_id, "erase/"), erase_body(lead)).status_code == 200

    response = lead.post(
        ALLOCATIONS_URL,
        {"source": source["id"], "case": case_id, "category": "travel", "amount": "100.00"},
    )

    assert response.status_code == 409
    assert FundingSource.objects.get(pk=source["id"]).allocated == Decimal("2000.00")
    assert Allocation.objects.filter(case_id=case_id).count() == 1


@pytest.mark.parametrize(
    "path", [["rejected"], ["withdrawn"], ["rejected", "closed"]], ids=lambda p: p[-1]
)
def test_no_allocation_for_a_case_that_ended(lead, coordinator, source, case_id, path):
    case = Case.objects.get(pk=case_id)
    for status in path:
        case = case_transition(case=case, actor=coordinator.user, to=status, reason="test")

    response = lead.post(
        ALLOCATIONS_URL,
        {"source": source["id"], "case": case_id, "category": "travel", "amount": "100.00"},
    )

    assert response.status_code == 409
    assert path[-1] in response.json()["message"]
    assert FundingSource.objects.get(pk=source["id"]).allocated == Decimal("2000.00")


def test_closing_an_allocation_gives_the_unspent_part_back(
    client, lead, caseworker, coordinator, source, allocation
):
    disbursement_in("paid", allocation["id"], caseworker.user, coordinator.user, "300.00")
    disbursement_in("rejected", allocation["id"], caseworker.user, coordinator.user, "200.00")
    assert lead.get(f"{SOURCES_URL}{source['id']}/").json()["remaining"] == "8000.00"

    closed = lead.post(f"{ALLOCATIONS_URL}{allocation['id']}/close/")

    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert (body["status"], body["spent"], body["released"], body["remaining"]) == (
        "closed",
        "300.00",
        "1700.00",
        "0.00",
    )
    assert lead.get(f"{SOURCES_URL}{source['id']}/").json()["remaining"] == "9700.00"
    late = client.post(DISBURSEMENTS_URL, a_request(allocation["id"], amount="1.00"))
    assert late.status_code == 409
    assert Disbursement.objects.count() == 2
    assert lead.post(f"{ALLOCATIONS_URL}{allocation['id']}/close/").status_code == 409


@pytest.mark.parametrize("status", ["requested", "approved"])
def test_an_allocation_with_open_requests_cannot_be_closed(
    lead, caseworker, coordinator, source, allocation, status
):
    disbursement_in(status, allocation["id"], caseworker.user, coordinator.user)

    response = lead.post(f"{ALLOCATIONS_URL}{allocation['id']}/close/")

    assert response.status_code == 409
    row = Allocation.objects.get(pk=allocation["id"])
    assert (row.status, row.released, row.reserved) == ("active", 0, Decimal("100.00"))
    assert FundingSource.objects.get(pk=source["id"]).allocated == Decimal("2000.00")


def test_a_source_cannot_receive_less_than_it_allocated(lead, source, allocation):
    below = lead.patch(f"{SOURCES_URL}{source['id']}/", {"amount": "1999.99"})
    exact = lead.patch(f"{SOURCES_URL}{source['id']}/", {"amount": "2000.00"})

    assert below.status_code == 409
    assert "2000.00 EUR" in below.json()["message"]
    assert exact.status_code == 200, exact.json()
    assert exact.json()["remaining"] == "0.00"


@pytest.mark.parametrize(
    "window",
    [{"valid_until": -1}, {"valid_from": 1}, {"valid_from": 3, "valid_until": 10}],
    ids=["expired", "not_yet", "later"],
)
def test_no_allocation_outside_the_source_validity_window(lead, case_id, window):
    today = timezone.localdate()
    dates = {name: str(today + datetime.timedelta(days=n)) for name, n in window.items()}
    source = create_source(lead, received_on=str(today - datetime.timedelta(days=30)), **dates)

    response = lead.post(
        ALLOCATIONS_URL,
        {"source": source["id"], "case": case_id, "category": "travel", "amount": "100.00"},
    )

    assert response.status_code == 409
    assert not Allocation.objects.filter(source_id=source["id"]).exists()


def test_an_allocation_inside_the_validity_window_is_accepted(lead, case_id):
    today = timezone.localdate()
    source = create_source(lead, valid_from=str(today), valid_until=str(today))

    assert allocate(lead, source["id"], case_id, amount="100.00")["status"] == "active"


def test_no_request_once_the_source_validity_window_has_passed(client, lead, source, allocation):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ended = lead.patch(f"{SOURCES_URL}{source['id']}/", {"valid_until": str(yesterday)})
    assert ended.status_code == 200, ended.json()

    response = client.post(DISBURSEMENTS_URL, a_request(allocation["id"]))

    assert response.status_code == 409
    assert not Disbursement.objects.exists()
    assert balances(allocation["id"]) == (0, 0)


def test_an_approval_names_the_terms_it_read_and_a_changed_request_refuses_it(
    client, lead, coordinator, allocation
):
    # Given the coordinator read the request, then the requester swapped amount and payee
    item = request_money(client, allocation["id"], amount="100.00")
    as_read = item["updated_at"]
    edited = client.patch(
        disbursement_url(item["id"]), {"amount": "900.00", "payee": "Someone else entirely"}
    )
    assert edited.status_code == 200, edited.json()

    # When the approval names the terms it read, it is refused; with the current ones it holds
    stale = lead.post(
        disbursement_url(item["id"], "approve/"),
        {"otp": coordinator.totp(), "terms_as_of": as_read},
    )
    current = lead.post(
        disbursement_url(item["id"], "approve/"),
        {"otp": coordinator.totp(1), "terms_as_of": edited.json()["updated_at"]},
    )

    assert stale.status_code == 409
    assert "changed after you opened it" in stale.json()["message"]
    assert current.status_code == 200, current.json()
    assert [a["voided"] for a in current.json()["approvals"]] == [False]
