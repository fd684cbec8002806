"""Shared bits of the funds tests: URLs, bodies, and money set up through the API."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from cases.models import Case
from cases.services import case_create
from funds.models import Allocation, ReferenceRate
from funds.services.disbursements import Terms
from funds.services.rates import reference_rate_record
from funds.services.sources import allocation_create, source_create
from people.services import person_create
from tests.matrix import new_staff

SOURCES_URL = "/api/v1/funds/sources/"
ALLOCATIONS_URL = "/api/v1/funds/allocations/"
DISBURSEMENTS_URL = "/api/v1/funds/disbursements/"
SUMMARY_URL = "/api/v1/funds/reports/summary/"
RATES_URL = "/api/v1/funds/rates/"


def record_rate(
    from_currency: str,
    to_currency: str,
    rate: str,
    *,
    on: datetime.date | None = None,
    by: User | None = None,
) -> ReferenceRate:
    """A reference rate (`rate` units of `to_currency` per unit of `from_currency`) dated `on`
    (today), recorded by `by`: by default a coordinator who takes no other part, so the rate
    counts for every requester and binds no approver."""
    return reference_rate_record(
        recorded_by=by or new_staff(Role.COORDINATOR),
        from_currency=from_currency,
        to_currency=to_currency,
        rate=Decimal(rate),
        rate_date=on or timezone.localdate(),
        rate_source="Central bank of the test",
    )


def disbursement_url(item_id: object, suffix: str = "") -> str:
    return f"{DISBURSEMENTS_URL}{item_id}/{suffix}"


def a_source(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Winter travel appeal",
        "kind": "donation_campaign",
        "currency": "EUR",
        "amount": "10000.00",
        "received_on": "2026-11-01",
    }
    body.update(overrides)
    return body


def a_request(allocation: object, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "allocation": str(allocation),
        "amount": "120.00",
        "currency": "EUR",
        "purpose": "Bus tickets to the border",
        "method": "money_transfer_service",
        "payee": "Aslan Dudayev, Western Union",
    }
    body.update(overrides)
    return body


def create_source(lead: APIClient, **overrides: Any) -> dict[str, Any]:
    response = lead.post(SOURCES_URL, a_source(**overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def allocate(lead: APIClient, source: object, case: object, **overrides: Any) -> dict[str, Any]:
    body = {"source": str(source), "case": str(case), "category": "travel", "amount": "1000.00"}
    body.update(overrides)
    response = lead.post(ALLOCATIONS_URL, body)
    assert response.status_code == 201, response.json()
    return response.json()


def request_money(client: APIClient, allocation: object, **overrides: Any) -> dict[str, Any]:
    response = client.post(DISBURSEMENTS_URL, a_request(allocation, **overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def terms(payee: str, amount: str = "120.00", method: str = "cash") -> Terms:
    """A request's terms in EUR, for tests that build money through the services."""
    return Terms(
        amount=Decimal(amount),
        currency="EUR",
        purpose="Bus tickets to the border",
        method=method,
        payee=payee,
    )


def funded_case(caseworker: User, coordinator: User, tag: str) -> tuple[Case, Allocation]:
    """Through the services (no HTTP, for module-scoped worlds): a case of `caseworker`'s, a
    10,000 EUR source, and 1,000 EUR of it allocated to the case for travel."""
    person = person_create(created_by=caseworker, full_name=f"Person {tag}")
    case = case_create(created_by=caseworker, primary_person=person, risk_level="high")
    source = source_create(
        created_by=coordinator,
        name=f"Appeal {tag}",
        kind="donation_campaign",
        currency="EUR",
        amount_received=Decimal("10000.00"),
        received_on=datetime.date(2026, 11, 1),
    )
    allocation = allocation_create(
        source=source,
        case=case,
        category="travel",
        amount=Decimal("1000.00"),
        created_by=coordinator,
    )
    return case, allocation
