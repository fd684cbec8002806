"""The edit pages: change a case's details, change a person's record, and my open needs.

Thin, like the API's views they mirror (PATCH cases/{id}/, PATCH people/{id}/, GET
needs/?status=open&assigned_to=me): a selector finds what the caller may see (anything else
is a 404, exactly like a record that does not exist), a form runs the API's input serializer,
a service writes (and audits), the disclosure layer (`cases.disclosure`, `people.disclosure`
through `audit.disclosure.disclosure_for`) gives the current values and logs what was shown,
a template lays it out. A saved change answers with a redirect to the record's page; a
refused one shows the form again with the reason, and the status the API would give.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.roles import Role
from audit.disclosure import disclosure_for
from cases import services as case_services
from cases.disclosure import case_disclosed, need_disclosed
from cases.filters import NeedQueueFilter
from cases.models import Case
from cases.selectors import cases_visible_to, needs_visible_to
from common.exceptions import DomainError, InvariantViolation
from common.money import money_text
from people import services as people_services
from people.disclosure import person_disclosed
from people.models import Person
from people.selectors import people_visible_to
from web import webcases_labels as labels
from web.decorators import page_view
from web.pages import Page
from web.webedit_forms import CASE_EDIT_FIELDS, PERSON_EDIT_FIELDS, CaseEditForm, PersonEditForm

NEEDS_PER_PAGE = 50
EDIT = ("GET", "HEAD", "POST")


# --- Change a case --------------------------------------------------------------------------


def _case_for(request: HttpRequest, case_id: UUID) -> Case:
    case = cases_visible_to(request.user).for_display().filter(pk=case_id).first()
    if case is None:  # out of scope reads exactly like missing
        raise Http404
    return case


def _case_initial(shown: dict[str, Any]) -> dict[str, Any]:
    initial = {name: shown[name] for name in CASE_EDIT_FIELDS}
    initial["protection_concerns"] = initial["protection_concerns"] or []
    return initial


@page_view("case-edit", methods=EDIT)
def case_edit(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    """GET: the case's details in a form, from `cases.disclosure.case_disclosed` (which logs
    what it shows). POST: `cases.services.case_update` with what the form's API serializer
    accepted (400 if it did not; 409 for an erased case, as PATCH cases/{id}/ answers)."""
    case = _case_for(request, case_id)
    status, problem = 200, None
    if request.method == "POST":
        form = CaseEditForm(request.POST, prefix="case", case=case)
        try:
            if case.erased:  # as the API: before validation, nothing is left to check against
                raise InvariantViolation(case_services.ERASED_MESSAGE)
            if form.is_valid():
                case_services.case_update(case=case, actor=request.user, **form.update_fields)
                return redirect("web:case", case_id=case.pk)
            status = 400
        except DomainError as refusal:
            problem, status = refusal.message, refusal.status_code
    else:
        # Disclosed (and logged) only when shown: a write answered by a redirect shows nothing.
        shown = case_disclosed(case, disclosure=disclosure_for(request))
        form = CaseEditForm(prefix="case", case=case, initial=_case_initial(shown))
    context = {"page": page, "case": case, "form": form, "problem": problem}
    return render(request, "web/webedit/case_edit.html", context, status=status)


# --- Change a person ------------------------------------------------------------------------


def _person_initial(shown: dict[str, Any]) -> dict[str, Any]:
    initial = {name: shown.get(name) for name in PERSON_EDIT_FIELDS}
    initial["languages"] = ", ".join(initial["languages"] or [])
    return initial


@page_view("person-edit", methods=EDIT)
def person_edit(request: HttpRequest, page: Page, person_id: UUID) -> HttpResponse:
    """GET: the person's record in a form, from `people.disclosure.person_disclosed` (which
    logs what it shows). POST: `people.services.person_update` with what the form's API
    serializer accepted (400 if it did not; 409 for an erased person or one left without a
    name, as PATCH people/{id}/ answers)."""
    person: Person | None = people_visible_to(request.user).filter(pk=person_id).first()
    if person is None:  # out of scope reads exactly like missing
        raise Http404
    status, problem = 200, None
    if request.method == "POST":
        form = PersonEditForm(request.POST, prefix="person", person=person)
        try:
            if person.erased:  # as the API: before validation
                raise InvariantViolation(people_services.ERASED_MESSAGE)
            if form.is_valid():
                people_services.person_update(person=person, **form.update_fields)
                return redirect("web:person", person_id=person.pk)
            status = 400
        except DomainError as refusal:
            problem, status = refusal.message, refusal.status_code
    else:
        shown = person_disclosed(person, disclosure=disclosure_for(request))
        form = PersonEditForm(prefix="person", person=person, initial=_person_initial(shown))
    context = {"page": page, "person": person, "form": form, "problem": problem}
    return render(request, "web/webedit/person_edit.html", context, status=status)


# --- My open needs --------------------------------------------------------------------------


def needs_selection(request: HttpRequest) -> dict[str, str]:
    """The API's needs/ query this page asks: a caseworker's `?status=open&assigned_to=me`,
    a coordinator's `?status=open` (every case's)."""
    if request.user.has_role(Role.COORDINATOR):
        return {"status": "open"}
    return {"status": "open", "assigned_to": "me"}


@page_view("needs")
def needs(request: HttpRequest, page: Page) -> HttpResponse:
    """The open needs of my cases (a coordinator: of every case), oldest first as the API's
    queue (NeedQueueFilter over `needs_visible_to`), 50 a page, each shown through
    `cases.disclosure.need_disclosed` and linking to its case."""
    selection = needs_selection(request)
    scoped = needs_visible_to(request.user).select_related("case__data_key")
    filtered = NeedQueueFilter(
        data=selection, queryset=scoped.order_by("created_at", "id"), request=request
    )
    status, rows, paginated = 200, [], None
    if filtered.is_valid():
        paginated = Paginator(filtered.qs, NEEDS_PER_PAGE).get_page(request.GET.get("page"))
        disclosure = disclosure_for(request)
        rows = [
            _need_row(need_disclosed(need, disclosure=disclosure)) for need in paginated.object_list
        ]
    else:
        status = 400
    context = {
        "page": page,
        "mine": "assigned_to" in selection,
        "rows": rows,
        "paginated": paginated,
    }
    return render(request, "web/webedit/needs.html", context, status=status)


def _need_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "category_label": labels.label_of(row["category"], labels.NEED_CATEGORY),
        "status_label": labels.label_of(row["status"], labels.NEED_STATUS),
        "urgency_label": labels.label_of(row["urgency"], labels.RISK),
        "cost": money_text(row["estimated_cost"], row["currency"])
        if row["estimated_cost"] is not None
        else "",
    }
