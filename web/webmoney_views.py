"""The money pages (`/funds/...`): requests for caseworkers; the inbox, decisions, payments,
sources, allocations and reference rates for coordinators; the masked list for auditors.

Each view is as thin as the API's: the funds selectors scope every read (out of scope: 404),
the funds services do every write (with their locks, rules and audit entries), and the page
only shows what they return. Disbursements reach a template only through the disclosure layer
(`funds.disclosure`, as for the API: payees, receipts and comments in clear to coordinators
and the case's caseworkers, masked to auditors, absent once the case is erased), and the
disclosure middleware writes the ACCESS entries of what a page showed before it is sent.
Approving, rejecting and paying need a fresh authenticator code in the form (web.stepup),
checked before the money moves.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException

from accounts.roles import Role
from audit.disclosure import MASKED, disclosure_for
from cases.selectors import cases_visible_to
from common.exceptions import DomainError, InvalidInput, InvariantViolation
from common.money import format_amount, parse_amount
from funds.disclosure import disbursement_disclosed
from funds.idempotency import HEADER, Outcome, run_idempotent
from funds.models import Allocation, Disbursement
from funds.selectors import (
    allocations_actionable_by,
    allocations_visible_to,
    awaiting_decision_by,
    awaiting_payment,
    disbursements_actionable_by,
    disbursements_visible_to,
    reference_rates_visible_to,
    sources_visible_to,
)
from funds.services import disbursements as money
from funds.services.rates import reference_rate_record
from funds.services.sources import allocation_close, allocation_create, source_create
from web.decorators import page_view
from web.pages import PAGES, RECORD_PAGES, Page
from web.stepup import SessionEnded, session_revoked_redirect, step_up_check
from web.webmoney_forms import (
    AllocationForm,
    ApproveForm,
    ApproveSelectedForm,
    CancelForm,
    PayForm,
    RateForm,
    RejectForm,
    RequestForm,
    SourceForm,
    TermsForm,
    terms_version,
)
from web.webmoney_labels import (
    ALLOCATION_STATUS,
    APPROVAL_REASON,
    CATEGORY,
    DECISION,
    METHOD,
    RATE_CHECK,
    RATE_ORIGIN,
    SOURCE_KIND,
    STATUS,
    VOID_REASON,
)

PER_PAGE = 50
INBOX_SHOWN = 25  # requests shown in full on the inbox; the oldest first
POST = ("GET", "HEAD", "POST")
ONLY_POST = ("POST",)


# --- Showing disbursements ----------------------------------------------------------------


def _shown(request: HttpRequest, items: list[Disbursement] | QuerySet) -> list[dict[str, Any]]:
    """Disbursements as the disclosure layer hands them to this viewer (`funds.disclosure`:
    payees, receipts and comments in clear, masked or absent), with the pages' labels and
    amounts written as the API writes them. What is shown in clear is collected on the
    response's `Disclosure`, whose ACCESS entries the disclosure middleware writes before the
    page leaves."""
    disclosure = disclosure_for(request)
    return [_labelled(disbursement_disclosed(item, disclosure=disclosure)) for item in items]


def _when(value: datetime | None) -> str | None:
    """A time as the pages show it: to the minute, in UTC."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if value else None


def _rate(value: Decimal | None) -> str | None:
    return format(value.normalize(), "f") if value is not None else None


def _labelled(row: dict[str, Any]) -> dict[str, Any]:
    row["id"] = str(row["id"])
    for name in ("requested_at", "approved_at", "paid_at", "closed_at"):
        row[name] = _when(row[name])
    row["amount"] = format_amount(row["amount"], row["currency"])
    for name in (
        "amount_in_source_currency",
        "amount_at_exchange_rate",
        "amount_at_reference_rate",
    ):
        if row[name] is not None:
            row[name] = format_amount(row[name], row["source_currency"])
    for name in ("exchange_rate", "reference_rate"):
        row[name] = _rate(row[name])
    row["status_label"] = STATUS.get(row["status"], row["status"])
    row["method_label"] = METHOD.get(row["method"], row["method"])
    row["category_label"] = CATEGORY.get(row["category"], row["category"])
    row["rate_check_label"] = RATE_CHECK.get(row["rate_check"]) if row["rate_check"] else None
    row["reasons"] = [APPROVAL_REASON.get(code, code) for code in row["approval_reasons"]]
    for name in ("payee", "receipt_reference", "payment_comment", "closing_reason"):
        row[f"{name}_masked"] = row[name] == MASKED
    row["approvals"] = [
        {
            **approval,
            "at": _when(approval["at"]),
            "decision_label": DECISION.get(approval["decision"], approval["decision"]),
            "void_label": VOID_REASON.get(approval["voided_reason"] or "", _("void"))
            if approval["voided"]
            else None,
            "comment_masked": approval["comment"] == MASKED,
        }
        for approval in row["approvals"]
    ]
    return row


def _page_of(request: HttpRequest, items: QuerySet) -> Any:
    return Paginator(items, PER_PAGE).get_page(request.GET.get("page"))


# --- Form posts: once only, and the code first ----------------------------------------------


class _Refused(Exception):
    """What a page says when a service or the step-up refused: the message, the field it
    belongs to (None: the whole form) and the status of the page that says so."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 409) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def _form_key() -> str:
    """A fresh key for a form about to be shown: sent back with it, it makes a second press of
    the button (or a resend after a lost answer) replay the first instead of doing it twice."""
    return get_random_string(32)


def _once(
    request: HttpRequest,
    *,
    scope: str,
    perform: Callable[[], Model],
    step_up: str | None = None,
) -> Any:
    """Carry out a form's work once per form key (`funds.idempotency`, as for the API's
    `Idempotency-Key`), with the fresh code checked first (only when the work will run), and
    return the id of what it created or changed. Refusals become `_Refused`."""
    key = request.POST.get("form_key") or None
    body = {
        name: values
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", "form_key", "otp")
    }
    post = SimpleNamespace(
        headers={HEADER: key} if key else {},
        data=body,
        method=request.method,
        path=request.path,
        user=request.user,
    )

    def before() -> None:
        if step_up is not None:
            problem = step_up_check(request, step_up)
            if problem is not None:
                raise _Refused(problem, field="otp", status=403)

    try:
        outcome = run_idempotent(
            post,
            scope=scope,
            perform=lambda: Outcome(perform(), 200),
            replay=lambda pk: SimpleNamespace(pk=pk),
            before=before,
        )
    except InvalidInput as refusal:
        field = next(iter(refusal.extra.get("fields", {})), None)
        raise _Refused(refusal.message, field=field, status=400) from None
    except DomainError as refusal:
        raise _Refused(refusal.message, status=refusal.status_code) from None
    except APIException as refusal:  # a form key reused with other values, or still running
        raise _Refused(str(refusal.detail), status=refusal.status_code) from None
    return outcome.instance.pk


def _refusal_onto(form, refusal: _Refused) -> None:
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)


def _is(request: HttpRequest, *roles: str) -> bool:
    return request.user.has_role(*roles)


# --- The inbox ----------------------------------------------------------------------------


@page_view("funds")
def inbox(request: HttpRequest, page: Page) -> HttpResponse:
    return _inbox(request, page)


def _inbox(
    request: HttpRequest,
    page: Page,
    *,
    approve_form: ApproveSelectedForm | None = None,
    outcome: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {"page": page, "outcome": outcome}
    if _is(request, Role.COORDINATOR):
        waiting = awaiting_decision_by(user, disbursements_actionable_by(user))
        context["waiting_count"] = waiting.count()
        context["waiting"] = _shown(request, waiting[:INBOX_SHOWN])
        context["approve_form"] = approve_form or ApproveSelectedForm(
            waiting=[row["id"] for row in context["waiting"]]
        )
        # What was ticked stays ticked when the form comes back with a problem.
        context["selected_ids"] = approve_form.data.getlist("selected") if approve_form else []
        unpaid = awaiting_payment(disbursements_actionable_by(user))
        context["unpaid_count"] = unpaid.count()
        context["unpaid"] = _shown(request, unpaid[:INBOX_SHOWN])
    if _is(request, Role.CASEWORKER, Role.COORDINATOR):
        mine = disbursements_actionable_by(user).filter(requested_by=user)
        context["mine"] = _shown(request, mine[:INBOX_SHOWN])
        context["mine_count"] = mine.count()
        context["can_request"] = True
    context["can_manage"] = _is(request, Role.COORDINATOR)
    return render(request, "web/webmoney/inbox.html", context, status=status)


@page_view("funds-approve-selected", methods=ONLY_POST)
def approve_selected(request: HttpRequest, page: Page) -> HttpResponse:
    """Approve the selected requests under one fresh code: the code is checked once, then each
    request gets its own approval through the same service (its own transaction, rules and
    audit entry); one refused does not stop the others, and the page says which was which."""
    user = request.user
    waiting = awaiting_decision_by(user, disbursements_actionable_by(user))
    shown_ids = [str(pk) for pk in waiting.values_list("pk", flat=True)[:INBOX_SHOWN]]
    form = ApproveSelectedForm(request.POST, waiting=shown_ids)
    inbox_page = PAGES["funds"]
    if not form.is_valid():
        return _inbox(request, inbox_page, approve_form=form, status=400)
    try:
        problem = step_up_check(request, form.cleaned_data["otp"])
    except SessionEnded:
        return session_revoked_redirect(request)
    if problem is not None:
        form.add_error("otp", problem)
        return _inbox(request, inbox_page, approve_form=form, status=403)
    approved, refused = [], []
    for item in waiting.filter(pk__in=form.cleaned_data["selected"]):
        try:
            shown_as_of = form.cleaned_data.get(f"version-{item.pk}")
            if shown_as_of is None:  # no version sent for a ticked request: it was not shown
                raise InvariantViolation(_("Open the request again."))
            money.disbursement_approve(
                disbursement=item,
                approver=user,
                comment=form.cleaned_data["comment"],
                terms_as_of=shown_as_of,
            )
        except DomainError as refusal:
            refused.append(
                {"reference": item.allocation.case.reference, "message": refusal.message}
            )
        else:
            approved.append(item.allocation.case.reference)
    outcome = {"approved": approved, "refused": refused}
    return _inbox(request, inbox_page, outcome=outcome, status=409 if refused else 200)


# --- Disbursements ------------------------------------------------------------------------


@page_view("funds-disbursements")
def disbursement_list(request: HttpRequest, page: Page) -> HttpResponse:
    listing = _page_of(request, disbursements_visible_to(request.user))
    context = {"page": page, "listing": listing, "rows": _shown(request, listing.object_list)}
    return render(request, "web/webmoney/disbursements.html", context)


MAX_CHOICES = 500  # allocations offered in the request form's list


def _allocation_choices(request: HttpRequest, wanted: str | None) -> list[tuple[str, str]]:
    """The open allocations `request.user` may draw on, by case reference, for the request
    form: at most MAX_CHOICES, plus `wanted` (the one a link or a sent form names) when it is
    one of them."""
    open_ones = allocations_actionable_by(request.user).filter(
        status=Allocation.Status.ACTIVE, case__erased_at__isnull=True
    )
    offered = list(open_ones.order_by("case__reference", "category")[:MAX_CHOICES])
    if wanted and wanted not in {str(allocation.pk) for allocation in offered}:
        with contextlib.suppress(ValueError):  # not an id: nothing more to offer
            offered += list(open_ones.filter(pk=uuid.UUID(wanted)))
    return [
        (
            str(allocation.pk),
            _("%(case)s · %(category)s · %(source)s · %(remaining)s %(currency)s left")
            % {
                "case": allocation.case.reference,
                "category": CATEGORY.get(allocation.category, allocation.category),
                "source": allocation.source.name,
                "remaining": format_amount(allocation.remaining, allocation.source.currency),
                "currency": allocation.source.currency,
            },
        )
        for allocation in offered
    ]


@page_view("funds-request", methods=POST)
def disbursement_new(request: HttpRequest, page: Page) -> HttpResponse:
    choices = _allocation_choices(
        request, request.POST.get("allocation") or request.GET.get("allocation")
    )
    initial = {"allocation": request.GET.get("allocation", "")}
    if request.method != "POST":
        form = RequestForm(allocations=choices, initial=initial)
        return _render_request(request, page, form)
    form = RequestForm(request.POST, allocations=choices)
    if not form.is_valid():
        return _render_request(request, page, form, status=400)
    allocation = allocations_actionable_by(request.user).get(pk=form.cleaned_data["allocation"])
    try:
        pk = _once(
            request,
            scope="disbursement.request",
            perform=lambda: money.disbursement_request(
                allocation=allocation, requested_by=request.user, terms=form.terms()
            ),
        )
    except _Refused as refusal:
        _refusal_onto(form, refusal)
        return _render_request(request, page, form, status=refusal.status)
    return redirect("web:funds-disbursement", pk=pk)


def _render_request(request, page, form, status: int = 200) -> HttpResponse:
    context = {"page": page, "form": form, "form_key": request.POST.get("form_key") or _form_key()}
    return render(request, "web/webmoney/request.html", context, status=status)


def _visible(request: HttpRequest, pk: Any) -> Disbursement:
    item = disbursements_visible_to(request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def _actionable(request: HttpRequest, pk: Any) -> Disbursement:
    item = disbursements_actionable_by(request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


@page_view("funds-disbursement")
def disbursement_detail(request: HttpRequest, page: Page, pk: Any) -> HttpResponse:
    return _detail(request, page, _visible(request, pk))


def _detail(
    request: HttpRequest,
    page: Page,
    item: Disbursement,
    *,
    status: int = 200,
    problem: str | None = None,
    **forms: Any,
) -> HttpResponse:
    user = request.user
    row = _shown(request, [item])[0]
    actionable = disbursements_actionable_by(user).filter(pk=item.pk).exists()
    coordinator = _is(request, Role.COORDINATOR) and actionable
    own = item.requested_by_id == user.pk
    is_open = item.status in (Disbursement.Status.REQUESTED, Disbursement.Status.APPROVED)
    context = {
        "page": RECORD_PAGES["funds-disbursement"],
        "item": row,
        "problem": problem,
        "required": money.approvals_required(item),
        "own": own,
        "form_key": request.POST.get("form_key") or _form_key(),
        "can_change": own and is_open and actionable,
        "can_cancel": is_open and actionable and _is(request, Role.CASEWORKER, Role.COORDINATOR),
        "can_decide": coordinator and not own and item.status == Disbursement.Status.REQUESTED,
        "can_pay": coordinator and not own and item.status == Disbursement.Status.APPROVED,
    }
    context["approve_form"] = forms.get("approve_form") or ApproveForm(
        prefix="approve", initial={"version": terms_version(row)}
    )
    context["reject_form"] = forms.get("reject_form") or RejectForm(prefix="reject")
    context["pay_form"] = forms.get("pay_form") or PayForm(prefix="pay")
    context["cancel_form"] = forms.get("cancel_form") or CancelForm(prefix="cancel")
    return render(request, "web/webmoney/disbursement.html", context, status=status)


def _decision(
    request: HttpRequest,
    page: Page,
    pk: Any,
    *,
    form_class: type,
    form_name: str,
    scope: str,
    act: Callable[[Disbursement, dict], Disbursement],
    step_up: bool,
) -> HttpResponse:
    item = _actionable(request, pk)
    form = form_class(request.POST, prefix=form_name.removesuffix("_form"))
    if not form.is_valid():
        return _detail(request, page, item, status=400, **{form_name: form})
    try:
        _once(
            request,
            scope=scope,
            perform=lambda: act(item, form.cleaned_data),
            step_up=form.cleaned_data["otp"] if step_up else None,
        )
    except SessionEnded:
        return session_revoked_redirect(request)
    except _Refused as refusal:
        # A refusal of the whole action is said at the top: the form it came from may not be
        # offered at all (paying one's own request), so it could not say it there.
        problem = None
        if refusal.field in form.fields:
            form.add_error(refusal.field, refusal.message)
        else:
            problem = refusal.message
        item = _actionable(request, pk)
        return _detail(
            request, page, item, status=refusal.status, problem=problem, **{form_name: form}
        )
    return redirect("web:funds-disbursement", pk=item.pk)


@page_view("funds-approve", methods=ONLY_POST)
def disbursement_approve(request: HttpRequest, page: Page, pk: Any) -> HttpResponse:
    return _decision(
        request,
        page,
        pk,
        form_class=ApproveForm,
        form_name="approve_form",
        scope="disbursement.approve",
        act=lambda item, data: money.disbursement_approve(
            disbursement=item,
            approver=request.user,
            comment=data["comment"],
            terms_as_of=data["version"],
        ),
        step_up=True,
    )


@page_view("funds-reject", methods=ONLY_POST)
def disbursement_reject(request: HttpRequest, page: Page, pk: Any) -> HttpResponse:
    return _decision(
        request,
        page,
        pk,
        form_class=RejectForm,
        form_name="reject_form",
        scope="disbursement.reject",
        act=lambda item, data: money.disbursement_reject(
            disbursement=item, approver=request.user, reason=data["reason"]
        ),
        step_up=True,
    )


@page_view("funds-pay", methods=ONLY_POST)
def disbursement_pay(request: HttpRequest, page: Page, pk: Any) -> HttpResponse:
    return _decision(
        request,
        page,
        pk,
        form_class=PayForm,
        form_name="pay_form",
        scope="disbursement.pay",
        act=lambda item, data: money.disbursement_pay(
            disbursement=item,
            actor=request.user,
            receipt_reference=data["receipt_reference"],
            comment=data["comment"],
        ),
        step_up=True,
    )


@page_view("funds-cancel", methods=ONLY_POST)
def disbursement_cancel(request: HttpRequest, page: Page, pk: Any) -> HttpResponse:
    return _decision(
        request,
        page,
        pk,
        form_class=CancelForm,
        form_name="cancel_form",
        scope="disbursement.cancel",
        act=lambda item, data: money.disbursement_cancel(
            disbursement=item, actor=request.user, reason=data["reason"]
        ),
        step_up=False,
    )


@page_view("funds-change", methods=POST)
def disbursement_change(request: HttpRequest, page: Page, pk: Any) -> HttpResponse:
    """The requester changes an open request's terms (any change voids the approvals given)."""
    item = _actionable(request, pk)
    if item.requested_by_id != request.user.pk:
        raise PermissionDenied
    if request.method != "POST":
        row = _shown(request, [item])[0]  # the form shows the payee in clear: disclosed
        initial = {**TermsForm.initial_from(item), "payee": row["payee"]}
        return _render_change(request, page, item, TermsForm(initial=initial))
    form = TermsForm(request.POST)
    if not form.is_valid():
        return _render_change(request, page, item, form, status=400)
    try:
        _once(
            request,
            scope="disbursement.change",
            perform=lambda: money.disbursement_update(
                disbursement=item, actor=request.user, **form.terms().__dict__
            ),
        )
    except _Refused as refusal:
        _refusal_onto(form, refusal)
        return _render_change(request, page, item, form, status=refusal.status)
    return redirect("web:funds-disbursement", pk=item.pk)


def _render_change(request, page, item, form, status: int = 200) -> HttpResponse:
    context = {
        "page": page,
        "item": item,
        "source_currency": item.source_currency,
        "form": form,
        "form_key": request.POST.get("form_key") or _form_key(),
    }
    return render(request, "web/webmoney/change.html", context, status=status)


# --- Sources, allocations, reference rates --------------------------------------------------


def _manage_only(request: HttpRequest) -> None:
    if request.method == "POST" and not _is(request, Role.COORDINATOR):
        raise PermissionDenied


@page_view("funds-sources", methods=POST)
def sources(request: HttpRequest, page: Page) -> HttpResponse:
    _manage_only(request)
    form = SourceForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _once(
                    request,
                    scope="source.create",
                    perform=lambda: source_create(
                        created_by=request.user, **form.fields_for_service()
                    ),
                )
            except _Refused as refusal:
                _refusal_onto(form, refusal)
                status = refusal.status
            else:
                return redirect("web:funds-sources")
        else:
            status = 400
    listing = _page_of(request, sources_visible_to(request.user).order_by("-received_on", "name"))
    rows = [
        {
            "name": source.name,
            "kind": SOURCE_KIND.get(source.kind, source.kind),
            "currency": source.currency,
            "received": format_amount(source.amount_received, source.currency),
            "allocated": format_amount(source.allocated, source.currency),
            "remaining": format_amount(source.remaining, source.currency),
            "received_on": source.received_on,
            "restricted_to": [CATEGORY.get(c, c) for c in source.restricted_to],
        }
        for source in listing.object_list
    ]
    context = {
        "page": page,
        "listing": listing,
        "rows": rows,
        "form": form if _is(request, Role.COORDINATOR) else None,
        "form_key": request.POST.get("form_key") or _form_key(),
    }
    return render(request, "web/webmoney/sources.html", context, status=status)


def _source_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return [
        (
            str(source.pk),
            _("%(name)s · %(remaining)s %(currency)s left")
            % {
                "name": source.name,
                "remaining": format_amount(source.remaining, source.currency),
                "currency": source.currency,
            },
        )
        for source in sources_visible_to(request.user).order_by("name")[:500]
    ]


@page_view("funds-allocations", methods=POST)
def allocations(request: HttpRequest, page: Page) -> HttpResponse:
    _manage_only(request)
    manage = _is(request, Role.COORDINATOR)
    form = None
    status = 200
    if manage:
        form = AllocationForm(
            request.POST if request.method == "POST" else None, sources=_source_choices(request)
        )
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            source = sources_visible_to(request.user).get(pk=data["source"])
            case = (
                cases_visible_to(request.user)
                .filter(reference=data["case_reference"].strip().upper())
                .first()
            )
            if case is None:
                form.add_error("case_reference", _("No case has this reference."))
                status = 400
            else:
                try:
                    parse_amount(str(data["amount"]), source.currency)
                except ValueError as problem:
                    form.add_error("amount", str(problem))
                    status = 400
            if status == 200:
                try:
                    _once(
                        request,
                        scope="allocation.create",
                        perform=lambda: allocation_create(
                            source=source,
                            case=case,
                            category=data["category"],
                            amount=data["amount"],
                            created_by=request.user,
                        ),
                    )
                except _Refused as refusal:
                    _refusal_onto(form, refusal)
                    status = refusal.status
                else:
                    return redirect("web:funds-allocations")
        else:
            status = 400
    return _render_allocations(request, page, form, status=status)


def _render_allocations(request, page, form, *, status: int = 200, problem: str | None = None):
    listing = _page_of(request, allocations_visible_to(request.user).order_by("-created_at", "id"))
    rows = [
        {
            "id": allocation.pk,
            "case": allocation.case.reference,
            "category": CATEGORY.get(allocation.category, allocation.category),
            "source": allocation.source.name,
            "currency": allocation.source.currency,
            "amount": format_amount(allocation.amount, allocation.source.currency),
            "reserved": format_amount(allocation.reserved, allocation.source.currency),
            "spent": format_amount(allocation.spent, allocation.source.currency),
            "remaining": format_amount(allocation.remaining, allocation.source.currency),
            "status": ALLOCATION_STATUS.get(allocation.status, allocation.status),
            "open": allocation.status == Allocation.Status.ACTIVE,
        }
        for allocation in listing.object_list
    ]
    context = {
        "page": page,
        "listing": listing,
        "rows": rows,
        "form": form,
        "problem": problem,
        "can_manage": _is(request, Role.COORDINATOR),
        "can_request": _is(request, Role.CASEWORKER, Role.COORDINATOR),
        "form_key": request.POST.get("form_key") or _form_key(),
    }
    return render(request, "web/webmoney/allocations.html", context, status=status)


@page_view("funds-allocation-close", methods=ONLY_POST)
def allocation_close_view(request: HttpRequest, page: Page, pk: Any) -> HttpResponse:
    allocation = allocations_visible_to(request.user).filter(pk=pk).first()
    if allocation is None:
        raise Http404
    try:
        _once(
            request,
            scope="allocation.close",
            perform=lambda: allocation_close(allocation=allocation, actor=request.user),
        )
    except _Refused as refusal:
        return _render_allocations(
            request,
            PAGES["funds-allocations"],
            None,
            status=refusal.status,
            problem=refusal.message,
        )
    return redirect("web:funds-allocations")


@page_view("funds-rates", methods=POST)
def rates(request: HttpRequest, page: Page) -> HttpResponse:
    _manage_only(request)
    manage = _is(request, Role.COORDINATOR)
    form = RateForm(request.POST if request.method == "POST" else None) if manage else None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _once(
                    request,
                    scope="rate.create",
                    perform=lambda: reference_rate_record(
                        recorded_by=request.user, **form.cleaned_data
                    ),
                )
            except _Refused as refusal:
                _refusal_onto(form, refusal)
                status = refusal.status
            else:
                return redirect("web:funds-rates")
        else:
            status = 400
    listing = _page_of(request, reference_rates_visible_to(request.user))
    rows = [
        {
            "pair": f"{rate.from_currency} → {rate.to_currency}",
            "rate": format(rate.rate.normalize(), "f"),
            "rate_date": rate.rate_date,
            "rate_source": rate.rate_source,
            "origin": RATE_ORIGIN.get(rate.origin, rate.origin),
            "recorded_by": rate.recorded_by.username if rate.recorded_by_id else "",
        }
        for rate in listing.object_list
    ]
    context = {
        "page": page,
        "listing": listing,
        "rows": rows,
        "form": form,
        "form_key": request.POST.get("form_key") or _form_key(),
    }
    return render(request, "web/webmoney/rates.html", context, status=status)
