"""The case list's cursor pages: `{"next", "previous", "results"}` and no count, every visible
case exactly once along the `next` links (ties in `updated_at` included), nothing outside the
caller's scope, an index-backed order, a forged cursor refused as 404, and a page costing the
same number of queries at any size."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from cases.api import CaseListPagination
from cases.models import Case
from tests.cases.helpers import (
    CASES_URL,
    access_entries_since,
    last_sequence,
    listed_cases,
    open_case,
)

pytestmark = pytest.mark.django_db


def walk(client, page_size: int) -> list[list[str]]:
    """The ids of each page, from the first along the `next` links."""
    pages, url, params = [], CASES_URL, {"page_size": page_size}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert "count" not in body
        pages.append([row["id"] for row in body["results"]])
        url, params = body["next"], {}
        assert len(pages) <= 10, "the next links go round in a circle"
    return pages


def in_list_order(ids: list[str]) -> list[str]:
    order = Case.objects.filter(pk__in=ids).order_by("-updated_at", "id")
    return [str(pk) for pk in order.values_list("pk", flat=True)]


def tie(ids: list[str]) -> None:
    # One updated_at for several cases, as a bulk correction would leave it: the cursor's
    # position is that time, so the pages must step over the ties by their offset. Setup
    # only (queryset.update writes no audit entry, which no test here reads).
    Case.objects.filter(pk__in=ids).update(updated_at=timezone.now())


@pytest.fixture
def caseloads(client, make_staff, client_for) -> dict[str, list[str]]:
    """Five cases of the caseworker's and two of another's, four of them (three of the
    caseworker's) last changed at the very same moment."""
    mine = [open_case(client)["id"] for _ in range(5)]
    other = client_for(make_staff(Role.CASEWORKER))
    theirs = [open_case(other)["id"] for _ in range(2)]
    tie([*mine[1:4], theirs[0]])
    return {"mine": mine, "theirs": theirs}


def test_following_next_links_lists_each_visible_case_once_and_nothing_else(caseloads, client):
    pages = walk(client, page_size=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    shown = [case_id for page in pages for case_id in page]
    assert shown == in_list_order(caseloads["mine"])
    assert not set(shown) & set(caseloads["theirs"])


def test_a_coordinator_walks_every_case_once_across_ties(caseloads, lead):
    everyone = caseloads["mine"] + caseloads["theirs"]

    pages = walk(lead, page_size=2)

    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [case_id for page in pages for case_id in page] == in_list_order(everyone)


def test_a_page_made_only_of_ties_still_leads_to_the_rest(client):
    ids = [open_case(client)["id"] for _ in range(7)]
    tie(ids[:6])  # three whole pages of one time, then one case more

    pages = walk(client, page_size=2)

    assert [case_id for page in pages for case_id in page] == in_list_order(ids)


def test_the_next_link_keeps_the_filters_and_the_page_size(client):
    high = [open_case(client, risk_level="high")["id"] for _ in range(3)]
    open_case(client, risk_level="low")

    first = client.get(CASES_URL, {"risk_level": "high", "page_size": 2}).json()
    query = parse_qs(urlsplit(first["next"]).query)

    assert query["risk_level"] == ["high"]
    assert query["page_size"] == ["2"]
    assert [row["id"] for row in listed_cases(client, risk_level="high", page_size=2)] == (
        in_list_order(high)
    )


def test_the_previous_link_leads_back_to_the_first_page(client):
    for _ in range(5):
        open_case(client)
    first = client.get(CASES_URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    back = client.get(second["previous"]).json()

    assert first["previous"] is None
    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]


def test_the_list_answers_no_count(client):
    open_case(client)

    body = client.get(CASES_URL).json()

    assert set(body) == {"next", "previous", "results"}
    assert body["next"] is None
    assert body["previous"] is None
    assert len(body["results"]) == 1


def test_the_list_pages_in_the_order_of_its_index():
    index = next(index for index in Case._meta.indexes if index.name == "case_list_order")

    assert CaseListPagination.ordering == tuple(index.fields)
    assert tuple(Case._meta.ordering) == tuple(index.fields)


def encoded(cursor: str) -> str:
    return base64.b64encode(cursor.encode("ascii")).decode("ascii")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "Zm9vYmF",  # not base64: padding missing
        base64.b64encode("p=é".encode()).decode("ascii"),  # not ASCII inside
        encoded("o=-1"),
        encoded("o=many"),
        encoded("r=yes"),
        encoded("p=not a time"),
        encoded("p="),
        encoded("p=2026-02-30 10:00:00+00:00"),  # well formed, not a date
        encoded("p=2026-01-01 10:00:00"),  # no time zone
        encoded("p=2026-01-01"),
        encoded("p=9999-12-31 23:59:59-23:59"),  # leaves the calendar in UTC
        encoded("p=2026-01-01 10:00:00+00:00\x00"),
    ],
)
def test_a_forged_cursor_is_an_invalid_cursor_not_a_server_error(cursor, caseloads, client):
    mark = last_sequence()

    response = client.get(CASES_URL, {"cursor": cursor})

    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "not_found", "message": "Invalid cursor"}
    assert access_entries_since(mark) == []


def test_a_cursor_from_another_time_zone_reads_as_the_same_moment(client):
    cases = in_list_order([open_case(client)["id"] for _ in range(3)])
    last_shown = Case.objects.get(pk=cases[0]).updated_at.astimezone(
        timezone.get_fixed_timezone(-330)
    )

    response = client.get(CASES_URL, {"cursor": encoded(f"p={last_shown.isoformat()}")})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == cases[1:]


def queries_for(client, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CASES_URL, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_a_page_costs_the_same_queries_at_any_size_and_depth(client):
    for _ in range(6):
        open_case(client)
    second = client.get(CASES_URL, {"page_size": 2}).json()["next"]
    cursor = parse_qs(urlsplit(second).query)["cursor"][0]

    # At least two cases a page: the audit log writes a lone entry in one statement and a
    # batch of them in three, whatever the batch's size.
    counts = {
        "2 cases": queries_for(client, page_size=2),
        "5 cases": queries_for(client, page_size=5),
        "page 2": queries_for(client, page_size=2, cursor=cursor),
    }

    assert len(set(counts.values())) == 1, counts
