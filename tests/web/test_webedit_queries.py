"""The open needs and the edit pages cost the same number of queries whatever they show: more
needs on more cases, more people on a household."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from cases.services import case_member_record, need_create
from tests.web.helpers import signed_in_client
from tests.web.test_webcases_queries import queries_for
from tests.web.webcases_examples import example_case

pytestmark = pytest.mark.django_db


def test_the_open_needs_cost_the_same_queries_with_more_needs(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    client = signed_in_client(caseworker)
    example_case(caseworker.user)
    client.get("/needs/")
    few = queries_for(client, "/needs/")
    for _ in range(4):
        case = example_case(caseworker.user)
        for index in range(3):
            need_create(case=case, created_by=caseworker.user, category="food",
                        description=f"need {index}")  # fmt: skip

    assert queries_for(client, "/needs/") == few


def test_the_case_edit_page_costs_the_same_queries_with_a_larger_household(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    small, large = example_case(caseworker.user), example_case(caseworker.user)
    for index in range(6):
        case_member_record(
            case=large, actor=caseworker.user, relationship="child",
            person_fields={"full_name": f"Child {index}"},
        )  # fmt: skip
    client = signed_in_client(caseworker)
    client.get(f"/cases/{small.pk}/edit/")

    small_cost = queries_for(client, f"/cases/{small.pk}/edit/")
    assert queries_for(client, f"/cases/{large.pk}/edit/") == small_cost
