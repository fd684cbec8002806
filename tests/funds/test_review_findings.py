"""Holes a review found in the funds app, each closed and kept closed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds.models import Disbursement
from tests.cases.helpers import open_case
from tests.funds.helpers import (
    DISBURSEMENTS_URL,
    SUMMARY_URL,
    a_request,
    allocate,
    create_source,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [{"to": "9999-12-31"}, {"from": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-01"}],
)
def test_the_report_takes_the_calendars_last_and_first_days(lead, query):
    response = lead.get(SUMMARY_URL, query)

    assert response.status_code == 200
    assert response.json()["rows"] == []


def test_a_case_that_ended_takes_no_new_request_on_an_allocation_it_already_had(lead):
    case = open_case(lead)
    allocation = allocate(lead, create_source(lead)["id"], case["id"])
    moved = lead.post(f"/api/v1/cases/{case['id']}/transition/", {"to": "rejected"})
    assert moved.status_code == 200, moved.json()

    response = lead.post(DISBURSEMENTS_URL, a_request(allocation["id"]))

    assert response.status_code == 409
    assert "rejected" in response.json()["message"]
    assert not Disbursement.objects.exists()


def test_the_disbursement_list_costs_the_same_queries_for_few_or_many(
    client, caseworker, lead, coordinator
):
    case = open_case(client)
    allocation = allocate(lead, create_source(lead)["id"], case["id"])

    def queries_for_listing(count: int) -> int:
        while Disbursement.objects.count() < count:
            item = client.post(DISBURSEMENTS_URL, a_request(allocation["id"], amount="10.00"))
            assert item.status_code == 201
        with CaptureQueriesContext(connection) as captured:
            listed = lead.get(DISBURSEMENTS_URL, {"page_size": 50})
        assert len(listed.json()["results"]) == count
        return len(captured.captured_queries)

    assert queries_for_listing(2) == queries_for_listing(8)
