"""The case pages: my cases / all cases, intake, a case, a person.

Thin, like the API's views: a selector finds what the caller may see (anything else is a 404,
exactly like a record that does not exist), a form checks the shape of what was typed, a
service writes (and audits), `web.webcases_disclosure` decides what is shown and logs it, a
template lays it out. Every write answers with a redirect (so a reload repeats nothing); a
refused one shows the same page again with the reason, and the status the API would give.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.request import Request

from accounts.roles import Role
from accounts.services import StepUpTokenRevoked
from cases import services as case_services
from cases.filters import CaseFilter
from cases.models import Case, TimelineEntry
from cases.selectors import (
    cases_of_person,
    cases_visible_to,
    cases_worklist,
    caseworkers_with_open_cases,
)
from cases.workflow import transitions_open_to
from common.exceptions import DomainError
from common.money import money_text
from people import services as people_services
from people.selectors import people_visible_to
from people.throttles import DuplicateCheckThrottle
from web import webcases_disclosure as disclosure
from web import webcases_labels as labels
from web.decorators import page_view
from web.pages import Page
from web.sessions import ENDED_REVOKED
from web.webcases_forms import (
    AssignForm,
    CaseForm,
    EraseForm,
    MemberForm,
    NeedForm,
    NeedUpdateForm,
    NoteForm,
    PersonForm,
    RemoveMemberForm,
    TransitionForm,
)

CASES_PER_PAGE = 50
FILTERS = ("status", "risk_level", "assigned_to")
POST = ("POST",)


def _is_coordinator(request: HttpRequest) -> bool:
    return request.user.has_role(Role.COORDINATOR)


# --- My cases / all cases ------------------------------------------------------------------


@page_view("cases")
def case_list(request: HttpRequest, page: Page) -> HttpResponse:
    """A caseworker's cases, or (coordinators) every case, most urgent first, with the open
    needs counted; filtered by status, risk and (coordinators) caseworker or `none`."""
    chosen = {name: request.GET[name] for name in FILTERS if request.GET.get(name)}
    scoped = cases_worklist(cases_visible_to(request.user))
    filtered = CaseFilter(data=chosen, queryset=scoped, request=request)
    status, rows, paginated = 200, [], None
    if filtered.is_valid():
        paginated = Paginator(filtered.qs, CASES_PER_PAGE).get_page(request.GET.get("page"))
        rows = disclosure.case_rows(request=request, cases=list(paginated.object_list))
    else:
        status = 400
    context = {
        "page": page,
        "coordinator": _is_coordinator(request),
        "rows": [_labelled_row(row) for row in rows],
        "paginated": paginated,
        "chosen": chosen,
        "filter_errors": filtered.errors if status == 400 else {},
        "statuses": labels.choices(labels.STATUS),
        "risks": labels.choices(labels.RISK),
        "directory": caseworkers_with_open_cases() if _is_coordinator(request) else [],
        "query_without_page": urlencode(chosen),
    }
    return render(request, "web/webcases/case_list.html", context, status=status)


def _labelled_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "status_label": labels.label_of(row["status"], labels.STATUS),
        "risk_label": labels.label_of(row["risk_level"], labels.RISK),
    }


# --- Intake ----------------------------------------------------------------------------------


@page_view("intake", methods=("GET", "HEAD", "POST"))
def intake(request: HttpRequest, page: Page) -> HttpResponse:
    """One guided flow: record the caller, see what the duplicate check found, open the case.

    Step `check` runs the audited duplicate check (people.services.person_duplicate_check,
    under the API's own throttle for it) on what was typed; step `open` records the person and
    opens the case in one transaction (cases.services.case_open_for_new_person)."""
    step = request.POST.get("step") if request.method == "POST" else None
    person_form = PersonForm(request.POST if step else None, prefix="person")
    case_form = CaseForm(request.POST if step == "open" else None, prefix="case")
    context: dict[str, Any] = {"page": page, "person_form": person_form, "case_form": case_form}
    status = 200
    if step == "check":
        valid = person_form.is_valid()
        status = _duplicate_check(request, person_form, context) if valid else 400
    elif step == "open":
        context["checked"] = True
        if person_form.is_valid() and case_form.is_valid():
            try:
                case = case_services.case_open_for_new_person(
                    created_by=request.user,
                    person_fields=person_form.person_fields,
                    case_fields=case_form.case_fields(),
                )
            except DomainError as refusal:
                context["problem"], status = refusal.message, refusal.status_code
            else:
                return redirect("web:case", case_id=case.pk)
        else:
            status = 400
    elif request.method == "POST":  # a step this flow does not have
        status = 400
    return render(request, "web/webcases/intake.html", context, status=status)


def _duplicate_check(request: HttpRequest, form: PersonForm, context: dict[str, Any]) -> int:
    criteria = form.duplicate_criteria()
    context["checked"] = True
    if not criteria:
        context["outcome"] = _(
            "Nothing to compare: give a phone, a full name or a document number to check for "
            "an existing record."
        )
        return 200
    throttle = DuplicateCheckThrottle()
    api_request = Request(request)
    api_request.user = request.user
    if not throttle.allow_request(api_request, None):
        context["checked"] = False
        context["problem"] = _(
            "You have run many duplicate checks in a short time. Wait a few minutes, then try "
            "again."
        )
        return 429
    found = people_services.person_duplicate_check(user=request.user, criteria=criteria)
    matches = disclosure.match_names(request=request, people=found.matches)
    context["matches"] = matches
    outcome = []
    if matches:
        outcome.append(
            ngettext(
                "%(count)s possible match you can open.",
                "%(count)s possible matches you can open.",
                len(matches),
            )
            % {"count": len(matches)}
        )
    if found.outside_scope:
        outcome.append(
            ngettext(
                "A record outside your cases matches: ask a coordinator before you open a case.",
                "%(count)s records outside your cases match: ask a coordinator before you open "
                "a case.",
                found.outside_scope,
            )
            % {"count": found.outside_scope}
        )
    if not outcome:
        outcome.append(_("No existing record matches. You can open the case."))
    context["outcome"] = " ".join(outcome)
    return 200


# --- A case --------------------------------------------------------------------------------


def _case_for(request: HttpRequest, case_id: UUID) -> Case:
    case = cases_visible_to(request.user).for_display().filter(pk=case_id).first()
    if case is None:  # out of scope reads exactly like missing
        raise Http404
    return case


def _case_url(case: Case, anchor: str = "") -> str:
    return reverse("web:case", kwargs={"case_id": case.pk}) + (f"#{anchor}" if anchor else "")


def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    status: int = 200,
    problem: str | None = None,
    **forms: Any,
) -> HttpResponse:
    user = request.user
    shown = disclosure.case_shown(request=request, case=case)
    needs = list(case.needs.select_related("case__data_key"))
    notes = list(case.notes.select_related("case__data_key", "author"))
    entries = list(case.timeline.select_related("case__data_key", "actor", "caseworker"))
    coordinator = _is_coordinator(request)
    directory = list(caseworkers_with_open_cases()) if coordinator else []
    assigned = set(shown["assigned_to"])
    moves = [] if case.erased else transitions_open_to(user, case.status)
    context = {
        "page": request.page,
        "case": case,
        "shown": shown,
        "status_label": labels.label_of(case.status, labels.STATUS),
        "risk_label": labels.label_of(case.risk_level, labels.RISK),
        "concerns": [
            labels.label_of(code, labels.CONCERN) for code in shown["protection_concerns"] or []
        ],
        "household": [
            {**row, "relationship_label": labels.label_of(row["relationship"], labels.RELATIONSHIP)}
            for row in disclosure.household_shown(request=request, case=case)
        ],
        "needs": [
            {
                **row,
                "category_label": labels.label_of(row["category"], labels.NEED_CATEGORY),
                "status_label": labels.label_of(row["status"], labels.NEED_STATUS),
                "urgency_label": labels.label_of(row["urgency"], labels.RISK),
                "cost": money_text(row["estimated_cost"], row["currency"])
                if row["estimated_cost"] is not None
                else "",
                "form": forms.get("need_update", {}).get(str(row["id"]))
                or NeedUpdateForm(
                    initial={"status": row["status"], "urgency": row["urgency"]},
                    prefix=f"need-{row['id']}",
                ),
            }
            for row in disclosure.needs_shown(request=request, needs=needs)
        ],
        "notes": disclosure.notes_shown(request=request, notes=notes),
        "timeline": [
            _timeline_row(row)
            for row in disclosure.timeline_shown(request=request, entries=entries)
        ],
        "moves": [{"to": to, "label": labels.label_of(to, labels.MOVE_TO)} for to in moves],
        "transition_form": forms.get("transition") or TransitionForm(prefix="move"),
        "member_form": forms.get("member") or MemberForm(prefix="member"),
        "remove_form": forms.get("remove") or RemoveMemberForm(prefix="remove"),
        "need_form": forms.get("need") or NeedForm(prefix="need"),
        "note_form": forms.get("note") or NoteForm(prefix="note"),
        "coordinator": coordinator,
        "directory": [
            {"username": e.username, "open_cases": e.open_cases, "assigned": e.username in assigned}
            for e in directory
        ],
        "assign_form": forms.get("assign")
        or AssignForm(prefix="assign", directory=directory, initial={"caseworkers": assigned}),
        "erase_form": forms.get("erase")
        or EraseForm(prefix="erase", expected_reference=case.reference),
        "problem": problem,
        "problem_at": forms.get("problem_at", ""),
    }
    return render(request, "web/webcases/case.html", context, status=status)


def _timeline_row(row: dict[str, Any]) -> dict[str, Any]:
    kind = row["kind"]
    if kind == TimelineEntry.Kind.STATUS:
        tables: tuple = (labels.STATUS,)
    elif kind == TimelineEntry.Kind.RISK:
        tables = (labels.RISK,)
    else:
        tables = (labels.RELATIONSHIP, labels.STATUS)
    return {
        **row,
        "kind_label": labels.label_of(kind, labels.TIMELINE_KIND),
        "from_label": labels.label_of(row["from_value"], *tables),
        "to_label": labels.label_of(row["to_value"], *tables),
    }


def _refused(request: HttpRequest, case: Case, refusal: DomainError, **forms: Any) -> HttpResponse:
    if isinstance(refusal, StepUpTokenRevoked):  # the session's own token: it has ended
        return HttpResponseRedirect(f"{reverse('web:login')}?ended={ENDED_REVOKED}")
    fresh = _case_for(request, case.pk)
    return _case_page(request, fresh, status=refusal.status_code, problem=refusal.message, **forms)


@page_view("case")
def case_detail(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    return _case_page(request, _case_for(request, case_id))


@page_view("case", methods=POST)
def case_transition(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    form = TransitionForm(request.POST, prefix="move")
    if not form.is_valid():
        return _case_page(request, case, status=400, transition=form, problem_at="moves")
    try:
        case_services.case_transition(
            case=case,
            actor=request.user,
            to=form.cleaned_data["to"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as refusal:
        return _refused(request, case, refusal, transition=form, problem_at="moves")
    return redirect(_case_url(case, "moves"))


@page_view("case", methods=POST)
def member_add(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    form = MemberForm(request.POST, prefix="member")
    if not form.is_valid():
        return _case_page(request, case, status=400, member=form, problem_at="household")
    try:
        case_services.case_member_record(
            case=case,
            actor=request.user,
            relationship=form.cleaned_data["relationship"],
            reason=form.cleaned_data["reason"] or None,
            person_fields=form.person_fields,
        )
    except DomainError as refusal:
        return _refused(request, case, refusal, member=form, problem_at="household")
    return redirect(_case_url(case, "household"))


@page_view("case", methods=POST)
def member_remove(request: HttpRequest, page: Page, case_id: UUID, person_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    form = RemoveMemberForm(request.POST, prefix="remove")
    if not form.is_valid():
        return _case_page(request, case, status=400, remove=form, problem_at="household")
    try:
        case_services.case_member_remove(
            case=case, actor=request.user, person_id=person_id, reason=form.cleaned_data["reason"]
        )
    except DomainError as refusal:
        if refusal.status_code == 404:
            raise Http404 from None
        return _refused(request, case, refusal, remove=form, problem_at="household")
    return redirect(_case_url(case, "household"))


@page_view("case", methods=POST)
def need_add(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    form = NeedForm(request.POST, prefix="need")
    if not form.is_valid():
        return _case_page(request, case, status=400, need=form, problem_at="needs")
    try:
        case_services.need_create(case=case, created_by=request.user, **form.need_fields)
    except DomainError as refusal:
        return _refused(request, case, refusal, need=form, problem_at="needs")
    return redirect(_case_url(case, "needs"))


@page_view("case", methods=POST)
def need_update(request: HttpRequest, page: Page, case_id: UUID, need_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    need = case.needs.select_related("case__data_key").filter(pk=need_id).first()
    if need is None:
        raise Http404
    form = NeedUpdateForm(request.POST, prefix=f"need-{need.pk}")
    if not form.is_valid():
        forms = {"need_update": {str(need.pk): form}, "problem_at": "needs"}
        return _case_page(request, case, status=400, **forms)
    try:
        case_services.need_update(need=need, **form.need_fields)
    except DomainError as refusal:
        return _refused(request, case, refusal, problem_at="needs")
    return redirect(_case_url(case, "needs"))


@page_view("case", methods=POST)
def note_add(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    form = NoteForm(request.POST, prefix="note")
    if not form.is_valid():
        return _case_page(request, case, status=400, note=form, problem_at="notes")
    try:
        case_services.note_create(case=case, author=request.user, body=form.cleaned_data["body"])
    except DomainError as refusal:
        return _refused(request, case, refusal, note=form, problem_at="notes")
    return redirect(_case_url(case, "notes"))


@page_view("case-steer", methods=POST)
def case_assign(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    directory = list(caseworkers_with_open_cases())
    form = AssignForm(request.POST, prefix="assign", directory=directory)
    if not form.is_valid():
        return _case_page(request, case, status=400, assign=form, problem_at="assign")
    chosen = set(form.cleaned_data["caseworkers"])
    try:
        case_services.case_assign(
            case=case,
            actor=request.user,
            caseworkers=[entry for entry in directory if entry.username in chosen],
        )
    except DomainError as refusal:
        return _refused(request, case, refusal, assign=form, problem_at="assign")
    return redirect(_case_url(case, "assign"))


@page_view("case-steer", methods=POST)
def case_erase(request: HttpRequest, page: Page, case_id: UUID) -> HttpResponse:
    case = _case_for(request, case_id)
    form = EraseForm(request.POST, prefix="erase", expected_reference=case.reference)
    if not form.is_valid():
        return _case_page(request, case, status=400, erase=form, problem_at="erase")
    try:
        case_services.case_erase(
            case=case,
            actor=request.user,
            token=request.web_session.token,
            otp=form.cleaned_data["otp"],
        )
    except DomainError as refusal:
        return _refused(request, case, refusal, problem_at="erase")
    return redirect(_case_url(case))


@page_view("case-steer", methods=POST)
def member_erase(request: HttpRequest, page: Page, case_id: UUID, person_id: UUID) -> HttpResponse:
    """Erase one person of the household (coordinators): the case's reference typed in full
    and a fresh code, as for the case."""
    case = _case_for(request, case_id)
    person = (
        people_visible_to(request.user)
        .filter(pk=person_id, memberships__case=case, memberships__removed_at__isnull=True)
        .first()
    )
    if person is None:
        raise Http404
    form = EraseForm(request.POST, prefix="erase-person", expected_reference=case.reference)
    if not form.is_valid():
        problem = _("Type the case's reference in full and a current code.")
        return _case_page(request, case, status=400, problem=problem, problem_at="household")
    try:
        people_services.person_erase(
            person=person,
            actor=request.user,
            token=request.web_session.token,
            otp=form.cleaned_data["otp"],
        )
    except DomainError as refusal:
        return _refused(request, case, refusal, problem_at="household")
    return redirect(_case_url(case, "household"))


# --- A person ------------------------------------------------------------------------------


@page_view("person")
def person_detail(request: HttpRequest, page: Page, person_id: UUID) -> HttpResponse:
    person = people_visible_to(request.user).filter(pk=person_id).first()
    if person is None:  # out of scope reads exactly like missing
        raise Http404
    shown = disclosure.person_shown(request=request, person=person)
    cases = [
        {
            "id": case.pk,
            "reference": case.reference,
            "status_label": labels.label_of(case.status, labels.STATUS),
            "risk_label": labels.label_of(case.risk_level, labels.RISK),
        }
        for case in cases_of_person(request.user, person)
    ]
    context = {
        "page": page,
        "shown": shown,
        "document_type_label": labels.label_of(shown.get("document_type"), labels.DOCUMENT_TYPE),
        "cases": cases,
    }
    return render(request, "web/webcases/person.html", context)
