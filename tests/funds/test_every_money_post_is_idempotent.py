"""Every POST under `/api/v1/funds/` takes an `Idempotency-Key`: walked from the URL conf, so a
route added later without one fails here until it has a row below that proves it.

For each route: the first request with a key does its work; the same request again with the
same key answers the same (status and body) and changes nothing; the same key on a different
request (another body, or another record's path) is a 422 and changes nothing either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import resolve
from rest_framework.test import APIClient

from funds.models import Allocation, Approval, Disbursement, FundingSource, ReferenceRate
from tests.cases.helpers import open_case
from tests.conftest import Staff
from tests.funds.helpers import (
    ALLOCATIONS_URL,
    DISBURSEMENTS_URL,
    RATES_URL,
    SOURCES_URL,
    a_request,
    a_source,
    allocate,
    create_source,
    disbursement_url,
    request_money,
)
from tests.urlconf import SAMPLE_ID, url_paths

pytestmark = pytest.mark.django_db
FUNDS = "/api/v1/funds/"
KEY = {"HTTP_IDEMPOTENCY_KEY": "retry-over-a-bad-line-1"}


def post_routes() -> set[str]:
    """Every funds path that answers POST, its ids written `{id}`."""
    routes = set()
    for _route, path in url_paths():
        if not path.startswith(FUNDS):
            continue
        view = resolve(path).func
        actions = getattr(view, "actions", None)  # a viewset's method -> action
        view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
        if (actions is not None and "post" in actions) or (
            actions is None and hasattr(view_class, "post")
        ):
            routes.add(path.replace(SAMPLE_ID, "{id}"))
    return routes


@dataclass
class Kit:
    caseworker: Staff
    coordinator: Staff
    client: APIClient  # the caseworker's
    lead: APIClient  # the coordinator's
    other: APIClient  # a second coordinator's
    other_staff: Staff
    case_id: str
    source_id: str
    allocation_id: str


@dataclass
class Post:
    client: APIClient
    path: str
    body: dict[str, Any]
    changed_path: str  # the same key sent to another request: this path ...
    changed_body: dict[str, Any]  # ... with this body


def _approved(kit: Kit) -> str:
    item = request_money(kit.client, kit.allocation_id, amount="50.00")
    kit.other.post(disbursement_url(item["id"], "approve/"), {"otp": kit.other_staff.totp()})
    return item["id"]


def _spare(kit: Kit) -> str:
    return allocate(kit.lead, kit.source_id, kit.case_id, category="food", amount="10.00")["id"]


def sources(kit: Kit) -> Post:
    body = a_source(name="Spring appeal")
    return Post(kit.lead, SOURCES_URL, body, SOURCES_URL, {**body, "amount": "20000.00"})


def allocations(kit: Kit) -> Post:
    body = {"source": kit.source_id, "case": kit.case_id, "category": "food", "amount": "30.00"}
    return Post(kit.lead, ALLOCATIONS_URL, body, ALLOCATIONS_URL, {**body, "amount": "31.00"})


def close(kit: Kit) -> Post:
    first, second = _spare(kit), _spare(kit)
    return Post(
        kit.lead,
        f"{ALLOCATIONS_URL}{first}/close/",
        {},
        f"{ALLOCATIONS_URL}{second}/close/",
        {},
    )


def rates(kit: Kit) -> Post:
    body = {
        "from_currency": "RUB",
        "to_currency": "EUR",
        "rate": "0.0105",
        "rate_date": "2026-11-01",
        "rate_source": "Central Bank of Russia",
    }
    return Post(kit.lead, RATES_URL, body, RATES_URL, {**body, "rate": "0.0106"})


def disbursements(kit: Kit) -> Post:
    body = a_request(kit.allocation_id, amount="40.00")
    return Post(kit.client, DISBURSEMENTS_URL, body, DISBURSEMENTS_URL, {**body, "amount": "41.00"})


def approve(kit: Kit) -> Post:
    item = request_money(kit.client, kit.allocation_id, amount="60.00")["id"]
    path = disbursement_url(item, "approve/")
    body = {"otp": kit.coordinator.totp(), "comment": "quote checked"}
    return Post(kit.lead, path, body, path, {**body, "comment": "another comment"})


def reject(kit: Kit) -> Post:
    item = request_money(kit.client, kit.allocation_id, amount="60.00")["id"]
    path = disbursement_url(item, "reject/")
    return Post(kit.lead, path, {"reason": "no quote"}, path, {"reason": "another reason"})


def cancel(kit: Kit) -> Post:
    item = request_money(kit.client, kit.allocation_id, amount="60.00")["id"]
    path = disbursement_url(item, "cancel/")
    return Post(kit.client, path, {"reason": "not needed"}, path, {"reason": "another"})


def pay(kit: Kit) -> Post:
    path = disbursement_url(_approved(kit), "pay/")
    body = {"otp": kit.coordinator.totp(), "receipt_reference": "WU-1"}
    return Post(kit.lead, path, body, path, {**body, "receipt_reference": "WU-2"})


ROUTES: dict[str, Callable[[Kit], Post]] = {
    f"{FUNDS}sources/": sources,
    f"{FUNDS}allocations/": allocations,
    f"{FUNDS}allocations/{{id}}/close/": close,
    f"{FUNDS}rates/": rates,
    f"{FUNDS}disbursements/": disbursements,
    f"{FUNDS}disbursements/{{id}}/approve/": approve,
    f"{FUNDS}disbursements/{{id}}/reject/": reject,
    f"{FUNDS}disbursements/{{id}}/cancel/": cancel,
    f"{FUNDS}disbursements/{{id}}/pay/": pay,
}


@pytest.fixture
def kit(caseworker, coordinator, client, lead, second_coordinator, client_for) -> Kit:
    case_id = open_case(client)["id"]
    source_id = create_source(lead, amount="10000.00")["id"]
    allocation_id = allocate(lead, source_id, case_id, amount="1000.00")["id"]
    return Kit(
        caseworker=caseworker,
        coordinator=coordinator,
        client=client,
        lead=lead,
        other=client_for(second_coordinator),
        other_staff=second_coordinator,
        case_id=case_id,
        source_id=source_id,
        allocation_id=allocation_id,
    )


def money_state() -> list[tuple]:
    return [
        *FundingSource.objects.order_by("pk").values_list("pk", "amount_received", "allocated"),
        *Allocation.objects.order_by("pk").values_list("pk", "status", "reserved", "spent"),
        *Disbursement.objects.order_by("pk").values_list("pk", "status", "amount", "paid_by"),
        *Approval.objects.order_by("pk").values_list("pk", "decision", "voided_at"),
        *ReferenceRate.objects.order_by("pk").values_list("pk", "rate"),
    ]


def test_every_post_route_under_funds_has_an_idempotency_row():
    routes = post_routes()

    assert routes, "the URL enumeration found no POST route under funds/"
    assert routes == set(ROUTES), f"POST routes without a row: {routes - set(ROUTES)}"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_retry_with_the_same_key_changes_nothing_and_a_reused_key_is_refused(kit, route):
    post = ROUTES[route](kit)
    first = post.client.post(post.path, post.body, **KEY)
    assert first.status_code in (200, 201), first.json()
    after_first = money_state()

    again = post.client.post(post.path, post.body, **KEY)
    reused = post.client.post(post.changed_path, post.changed_body, **KEY)

    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert reused.status_code == 422, reused.json()
    assert reused.json()["code"] == "idempotency_key_reused"
    assert money_state() == after_first
