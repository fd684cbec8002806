"""The OpenAPI document lists each operation's error statuses in the one error shape, closes
request bodies, and states patterns and enums; the server refuses what the document refuses.
(schemathesis checks the same against real answers: tests/test_api_matches_its_schema.py.)"""

from __future__ import annotations

import pytest

from accounts.roles import Role

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def document(django_db_setup, django_db_blocker) -> dict:
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_error_status_is_in_the_error_shape(document):
    for label, operation in _operations(document):
        errors = {code: body for code, body in operation["responses"].items() if code >= "400"}
        assert {"404", "406"} <= set(errors), label
        for code, body in errors.items():
            schema = body["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (label, code)
    shape = document["components"]["schemas"]["Error"]
    assert shape["required"] == ["status", "code", "message"]


def test_operations_behind_a_token_document_401_and_429(document):
    public = {"POST /api/v1/auth/enrol/", "POST /api/v1/auth/enrol/confirm/"}
    for label, operation in _operations(document):
        if operation.get("security") and label not in public:
            assert {"401", "429"} <= set(operation["responses"]), label


def test_lists_and_writes_document_400_and_writes_409_413_415(document):
    for label, operation in _operations(document):
        method = label.split()[0]
        queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        if method != "GET" or queries:
            assert "400" in operation["responses"], label
        if method != "GET":
            assert {"409", "413", "415"} <= set(operation["responses"]), label


def test_every_request_body_is_closed(document):
    components = document["components"]["schemas"]
    for label, operation in _operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        name = body["schema"]["$ref"].rsplit("/", 1)[-1]
        assert components[name].get("additionalProperties") is False, label


def test_idempotency_key_is_documented_on_the_money_posts_that_honour_it(document):
    documented = {
        label
        for label, operation in _operations(document)
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert documented == {
        "POST /api/v1/funds/sources/",
        "POST /api/v1/funds/allocations/",
        "POST /api/v1/funds/allocations/{id}/close/",
        "POST /api/v1/funds/disbursements/",
        "POST /api/v1/funds/disbursements/{id}/approve/",
        "POST /api/v1/funds/disbursements/{id}/pay/",
        "POST /api/v1/funds/disbursements/{id}/reject/",
        "POST /api/v1/funds/disbursements/{id}/cancel/",
        "POST /api/v1/funds/rates/",
    }
    for label in documented:
        path, method = label.split()[1], label.split()[0].lower()
        assert "422" in document["paths"][path][method]["responses"], label


def test_a_malformed_idempotency_key_is_refused(make_staff, client_for):
    lead = client_for(make_staff(Role.COORDINATOR))

    response = lead.post("/api/v1/funds/rates/", {}, HTTP_IDEMPOTENCY_KEY="has spaces")

    assert response.status_code == 400


def test_filters_state_their_enums_patterns_and_bounds(document):
    entries = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/audit/entries/"]["get"]["parameters"]
    }
    assert "cases.case" in entries["object_type"]["enum"]
    assert entries["request_id"]["pattern"] == "^(?:[0-9a-f]{32})$"
    assert entries["since"]["format"] == "date-time"
    assert entries["page_size"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert entries["cursor"]["minLength"] == 1


def test_amounts_and_currencies_state_their_shape(document):
    source = document["components"]["schemas"]["SourceRequest"]["properties"]
    assert source["amount"]["pattern"] == r"^[0-9]{1,13}(\.[0-9]{1,20})?$"
    reference = source["currency"]["allOf"][0]["$ref"]
    currency = document["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert {"EUR", "RUB", "USD"} <= set(currency["enum"])
    assert "XXX" not in currency["enum"]


def test_a_number_where_a_body_takes_text_is_a_400(make_staff, client_for):
    auditor = client_for(make_staff(Role.AUDITOR))
    checkpoint = {
        "format": "safe-passage-audit-checkpoint/1",
        "sequence": 0,
        "entry_hash": "0" * 64,
        "signed_at": "2026-01-01T00:00:00.000000Z",
        "key_id": "0",
        "signature": 0,
    }

    response = auditor.post("/api/v1/audit/verify/", {"checkpoints": [checkpoint]})

    assert response.status_code == 400, response.content[:300]
    assert "checkpoints" in response.json()["fields"]
