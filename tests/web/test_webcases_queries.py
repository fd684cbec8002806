"""A case page and the case list cost the same number of queries whatever they show: more
cases on the list, more needs, notes, people and timeline entries on a case."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from cases.services import case_member_record, case_transition, need_create, note_create
from tests.web.helpers import signed_in_client
from tests.web.webcases_examples import example_case

pytestmark = pytest.mark.django_db


def queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def grow(case, user, times: int) -> None:
    for index in range(times):
        need_create(case=case, created_by=user, category="food", description=f"need {index}")
        note_create(case=case, author=user, body=f"note {index}")
        case_member_record(
            case=case, actor=user, relationship="child",
            person_fields={"full_name": f"Child {index}"},
        )  # fmt: skip
    case_transition(case=case, actor=user, to="verification", reason="grown")


def test_the_case_page_costs_the_same_queries_with_more_on_it(make_staff):
    coordinator = make_staff(Role.COORDINATOR)
    small, large = example_case(coordinator.user), example_case(coordinator.user)
    grow(small, coordinator.user, 1)
    grow(large, coordinator.user, 8)
    client = signed_in_client(coordinator)
    client.get(f"/cases/{small.pk}/")  # warm the session's first-request work

    assert queries_for(client, f"/cases/{small.pk}/") == queries_for(client, f"/cases/{large.pk}/")


def test_the_list_costs_the_same_queries_with_more_cases(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    client = signed_in_client(caseworker)
    for _ in range(3):
        example_case(caseworker.user)
    client.get("/cases/")
    few = queries_for(client, "/cases/")
    for _ in range(12):
        example_case(caseworker.user)

    assert queries_for(client, "/cases/") == few
