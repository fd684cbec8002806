"""Every list in the URL conf, and every filter each one offers, sent what a careless or a
hostile client sends: nothing is silently ignored, and nothing is a 500.

The lists and their filters are read from the URL conf and the views' FilterSets, so a list or
a filter added later is covered here without a line of its own; a filter of a kind this module
has no hostile values for fails `test_every_filter_is_of_a_kind_this_module_can_attack`.

The caller holds all four roles, so every list answers it (a role refused is a 403 before any
parameter is read, which says nothing about the parameters).
"""

from __future__ import annotations

import base64
import io
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django_filters.filterset import BaseFilterSet
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import token_issue
from accounts.services.changes import staff_roles_request
from cases.services import case_create, case_transition, need_create, note_create
from common import filters as strict
from common.filters import StrictFilterBackend, StrictFilterSet
from common.pagination import CursorPagination, PageNumberPagination
from funds.services.disbursements import disbursement_request
from people.services import person_create
from tests.funds.helpers import funded_case, record_rate, terms
from tests.matrix import new_staff
from tests.urlconf import SAMPLE_ID, list_endpoints

LISTS = sorted(list_endpoints(), key=lambda pair: pair[0])
# Present in every list's answer when it is asked for nothing.
NOT_FOUND_SHAPE = {"status": 404, "code": "not_found"}


def _ids(pairs: list[tuple[str, Any]]) -> list[str]:
    return [path.removeprefix("/api/v1/") for path, _ in pairs]


def _filterset(view: type) -> type[BaseFilterSet] | None:
    return getattr(view, "filterset_class", None)


def _filters() -> Iterator[tuple[str, type, str, Any]]:
    for path, view in LISTS:
        filterset = _filterset(view)
        for name, declared in (filterset.base_filters if filterset else {}).items():
            yield path, view, name, declared


FILTERS = list(_filters())
FILTER_IDS = [f"{path.removeprefix('/api/v1/')}?{name}" for path, _, name, _ in FILTERS]


# --- The world every list answers from -----------------------------------------------------------


@dataclass(frozen=True)
class World:
    token: str
    case_id: str

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return client

    def path(self, template: str) -> str:
        return template.replace(SAMPLE_ID, self.case_id)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One of everything, so each list holds at least one row; rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        everyone = new_staff(Role.CASEWORKER, Role.COORDINATOR, Role.AUDITOR, Role.ADMIN)
        case, allocation = funded_case(everyone, everyone, secrets.token_hex(4))
        other = person_create(created_by=everyone, full_name="Someone Else")
        case_create(created_by=everyone, primary_person=other, risk_level="low")
        for category in ("food", "travel"):  # two: the queue's second page
            need_create(case=case, created_by=everyone, category=category, description="x")
        note_create(case=case, author=everyone, body="called")
        case_transition(case=case, actor=everyone, to="verification", reason="seen")
        requester = new_staff(Role.CASEWORKER, Role.COORDINATOR)
        disbursement_request(allocation=allocation, requested_by=requester, terms=terms("Payee"))
        record_rate("EUR", "RUB", "90.5")
        other_admin = new_staff(Role.ADMIN)
        auditor = new_staff(Role.AUDITOR)  # a grant of coordinator waits for a second admin
        staff_roles_request(user=auditor, roles=[Role.AUDITOR, Role.COORDINATOR], actor=other_admin)
        call_command("audit_checkpoint", stdout=io.StringIO())
        yield World(token=token_issue(user=everyone).token, case_id=str(case.pk))
        transaction.set_rollback(True)


def get(world: World, path: str, params: dict | None = None, **headers: str):
    return world.client().get(world.path(path), params or {}, **headers)


def assert_refused(response, *names: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    assert set(body["fields"]) >= set(names), body


# --- What the URL conf holds ---------------------------------------------------------------


def test_the_enumeration_finds_the_lists_of_every_app():
    paths = {path for path, _ in LISTS}

    for expected in ("cases/", "people/", "needs/", "audit/entries/", "funds/disbursements/"):
        assert f"/api/v1/{expected}" in paths
    assert any("/needs/" in path and "/cases/" in path for path in paths)
    assert FILTERS, "no filter found: the enumeration is broken"


@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
def test_every_list_is_strict_and_pages_with_the_projects_paginators(path, view):
    assert list(view.filter_backends) == [StrictFilterBackend]
    assert issubclass(view.pagination_class, PageNumberPagination | CursorPagination)
    filterset = _filterset(view)
    assert filterset is None or issubclass(filterset, StrictFilterSet)


@pytest.mark.parametrize(("path", "view", "name", "declared"), FILTERS, ids=FILTER_IDS)
def test_every_filter_is_of_a_kind_this_module_can_attack(path, view, name, declared):
    assert type(declared).__module__.split(".")[0] in {"common", "accounts", "cases"}
    assert isinstance(declared, KINDS), f"{name}: add hostile values for {type(declared)}"


# --- The plain request, unknown and repeated parameters ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
def test_every_list_answers_a_plain_request_with_rows(world, path, view):
    response = get(world, path)

    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"], "the world must give every list a row"


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
@pytest.mark.parametrize("unknown", ["statu", "sort", "ordering", "search", "limit"])
def test_an_unknown_parameter_is_a_400_that_names_it(world, path, view, unknown):
    assert_refused(get(world, path, {unknown: "x"}), unknown)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
def test_a_parameter_name_that_is_not_a_name_is_refused_without_being_repeated(world, path, view):
    name = "<script>phone +7 928 000-00-00"

    response = get(world, path, {name: "1"})

    assert_refused(response, "non_field_errors")
    assert b"928" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view", "name", "declared"), FILTERS, ids=FILTER_IDS)
def test_a_filter_given_twice_is_a_400(world, path, view, name, declared):
    value = well_formed(declared)

    response = world.client().get(f"{world.path(path)}?{name}={value}&{name}={value}")

    assert_refused(response, name)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view", "name", "declared"), FILTERS, ids=FILTER_IDS)
def test_a_filter_given_with_no_value_is_a_400(world, path, view, name, declared):
    """`?case=` used to be read as "no filter": the client's mistake answered with everything."""
    response = world.client().get(f"{world.path(path)}?{name}=")

    assert_refused(response, name)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
def test_an_empty_page_size_or_position_is_a_400(world, path, view):
    for name in ("page_size", "cursor" if "cursor" in _offered(view) else "page"):
        assert_refused(world.client().get(f"{world.path(path)}?{name}="), name)


def _offered(view: type) -> set[str]:
    paginator = view.pagination_class() if view.pagination_class else None
    return {getattr(paginator, "cursor_query_param", None), "page_size"} - {None}


# --- Filter values ------------------------------------------------------------------------------

# Sent to every filter: none is the enum value, id, username, time or shape any filter takes.
HOSTILE = [
    "\x00",
    "x" * 5000,
    "' OR 1=1 --",
    "{}",
    "[]",
    "NULL",
    "-1",
    "1E309",
    "NaN",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "Иван Ёлкин",
    "+7 928 000-00-00",
]
RAW_HOSTILE = ["%ED%A0%80", "%FF%FE", "%C0%AE"]  # a lone surrogate and invalid UTF-8


def well_formed(declared: Any) -> str:
    """A value the filter accepts."""
    if isinstance(declared, strict.ChoiceFilter):
        return str(
            next(
                iter(
                    declared.extra["choices"]()
                    if callable(declared.extra["choices"])
                    else declared.extra["choices"]
                )
            )[0]
        )
    if isinstance(declared, strict.UUIDFilter):
        return str(uuid.uuid4())
    if isinstance(declared, strict.DateTimeFilter):
        return "2026-11-24T09:00:00Z"
    if isinstance(declared, strict.DateFilter):
        return "2026-11-24"
    if isinstance(declared, strict.PatternFilter):
        return declared.example
    raise AssertionError(f"no well-formed value for {type(declared)}")


def matching_nothing(declared: Any) -> str | None:
    """A well-formed value that names nothing in the world (None: the kind has no such value,
    an enum's every value being meaningful)."""
    if isinstance(declared, strict.UUIDFilter):
        return str(uuid.uuid4())
    if isinstance(declared, strict.PatternFilter):
        return declared.example
    return None


KINDS = (
    strict.ChoiceFilter,
    strict.UUIDFilter,
    strict.DateTimeFilter,
    strict.DateFilter,
    strict.PatternFilter,
)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view", "name", "declared"), FILTERS, ids=FILTER_IDS)
def test_a_value_that_breaks_a_filters_enum_or_format_is_a_400(world, path, view, name, declared):
    failures = []
    for value in HOSTILE:
        response = get(world, path, {name: value})
        if isinstance(declared, strict.PatternFilter) and re.fullmatch(declared.pattern, value):
            # Well formed for a free shape (`NaN` may be a client's request id): it names
            # nothing here, so nothing is listed.
            if response.status_code != 200 or response.json()["results"]:
                failures.append((value[:40], response.status_code))
        elif response.status_code != 400:
            failures.append((value[:40], response.status_code))
    for raw in RAW_HOSTILE:
        response = world.client().get(f"{world.path(path)}?{name}={raw}")
        if response.status_code != 400:
            failures.append((raw, response.status_code))
    assert not failures, failures


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view", "name", "declared"), FILTERS, ids=FILTER_IDS)
def test_a_well_formed_value_is_answered_and_one_naming_nothing_lists_nothing(
    world, path, view, name, declared
):
    accepted = get(world, path, {name: well_formed(declared)})
    assert accepted.status_code == 200, accepted.content[:300]

    nothing = matching_nothing(declared)
    if nothing is not None and name != "erased":
        response = get(world, path, {name: nothing})
        assert response.status_code == 200, response.content[:300]
        assert response.json()["results"] == []


# --- Pages ---------------------------------------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORGED_CURSORS = [
    "cD14",  # p=x: a position that is not a number (it was a 500 on the audit log)
    "!!!",
    "%%%",
    _cursor("p=0001-01-01T00:00:00+23:59"),
    _cursor("p=9999-12-31T23:59:59-23:59"),
    _cursor("p=99999999999999999999999999"),
    _cursor("p=2026-11-24T09:00:00"),
    _cursor("p=\x00"),
    _cursor("o=-1"),
    _cursor("o=abc"),
    _cursor("r=2"),
    _cursor("x=1"),
    _cursor("p=1&p=2"),
    base64.b64encode(b"p=\xff\xfe").decode(),
]
CURSOR_LISTS = [(p, v) for p, v in LISTS if issubclass(v.pagination_class, CursorPagination)]
PAGE_LISTS = [(p, v) for p, v in LISTS if issubclass(v.pagination_class, PageNumberPagination)]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), CURSOR_LISTS, ids=_ids(CURSOR_LISTS))
def test_a_forged_cursor_is_a_404_in_the_error_shape(world, path, view):
    failures = []
    for cursor in FORGED_CURSORS:
        response = get(world, path, {"cursor": cursor})
        body = response.json()
        if response.status_code != 404 or {**body, **NOT_FOUND_SHAPE} != body:
            failures.append((cursor, response.status_code))
    assert not failures, failures


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), CURSOR_LISTS, ids=_ids(CURSOR_LISTS))
def test_a_cursor_the_list_wrote_leads_on(world, path, view):
    first = get(world, path, {"page_size": 1}).json()
    assert first["next"], "the world gives every cursor list two rows"

    second = world.client().get(first["next"])

    assert second.status_code == 200
    assert second.json()["results"] != first["results"]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), PAGE_LISTS, ids=_ids(PAGE_LISTS))
@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999999", "1.5", "\x00"])
def test_a_page_that_does_not_exist_is_a_404(world, path, view, page):
    response = get(world, path, {"page": page})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
@pytest.mark.parametrize("size", ["0", "-1", "201", "abc", "1e3", "2.0", "\x00", "9" * 30])
def test_a_page_size_that_is_not_1_to_200_is_a_400(world, path, view, size):
    assert_refused(get(world, path, {"page_size": size}), "page_size")


# --- Formats ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
def test_a_format_a_list_does_not_offer_is_a_404_and_json_is_offered(world, path, view):
    for unoffered in ("csv", "xml", "api", "html"):
        response = get(world, path, {"format": unoffered})
        assert response.status_code == 404, unoffered
        assert response.json()["code"] == "not_found"
    assert get(world, path, {"format": "json"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "view"), LISTS, ids=_ids(LISTS))
def test_an_accept_header_a_list_cannot_meet_is_a_406_in_the_error_shape(world, path, view):
    response = get(world, path, HTTP_ACCEPT="text/csv")

    assert response.status_code == 406
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["status"] == 406


# --- The summary report is not a list, and no less strict ---------------------------------------

SUMMARY = "/api/v1/funds/reports/summary/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"grup_by": "case"},
        {"group_by": "case", "awaiting": "me"},
        {"from": "2026-02-30"},
        {"to": "2026-11-24T00:00:00Z"},
        {"from": "0000-01-01"},
    ],
)
def test_the_summary_report_refuses_what_it_does_not_offer(world, query):
    response = get(world, SUMMARY, query)

    assert_refused(response, *(name for name in query if name not in ("group_by",)))


@pytest.mark.django_db
def test_the_summary_report_answers_csv_and_refuses_other_formats(world):
    assert get(world, SUMMARY, {"format": "csv"}).status_code == 200
    assert get(world, SUMMARY, {"format": "xml"}).status_code == 404
    assert get(world, SUMMARY, HTTP_ACCEPT="application/xml").status_code == 406


# --- Dates and times in bodies ------------------------------------------------------------------


def _input_serializers() -> list[type]:
    """The project's body serializers: every one refuses fields it does not offer
    (`StrictInputMixin`), which is how an input serializer is told from an output one."""
    from rest_framework import serializers

    from common.serializers import StrictInputMixin

    found, pending = [], list(serializers.Serializer.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if issubclass(cls, StrictInputMixin):
            found.append(cls)
    return found


def test_every_date_or_time_a_body_may_carry_goes_through_the_shared_parser():
    from rest_framework import serializers

    from common.serializers import DateField, DateTimeField

    assert _input_serializers(), "no serializer found: the enumeration is broken"
    offenders = []
    for cls in _input_serializers():
        for name, field in cls._declared_fields.items():
            fields = [field, getattr(field, "child", None)]
            for candidate in filter(None, fields):
                if candidate.read_only:
                    continue
                if isinstance(candidate, serializers.DateTimeField) and not isinstance(
                    candidate, DateTimeField
                ):
                    offenders.append(f"{cls.__name__}.{name}")
                if isinstance(candidate, serializers.DateField) and not isinstance(
                    candidate, DateField
                ):
                    offenders.append(f"{cls.__name__}.{name}")
    assert not offenders


def test_every_pattern_filters_example_fits_its_pattern():
    for _, _, name, declared in FILTERS:
        if isinstance(declared, strict.PatternFilter):
            assert re.fullmatch(declared.pattern, declared.example), name
