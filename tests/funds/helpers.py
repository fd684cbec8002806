"""Shared bits of the funds tests: URLs, bodies, and money set up through the API."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

SOURCES_URL = "/api/v1/funds/sources/"
ALLOCATIONS_URL = "/api/v1/funds/allocations/"
DISBURSEMENTS_URL = "/api/v1/funds/disbursements/"
SUMMARY_URL = "/api/v1/funds/reports/summary/"


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
