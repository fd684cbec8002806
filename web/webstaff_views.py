"""The staff pages (admins) and everyone's account pages, and enrolment with a code.

Thin, like the API's `accounts.staff_api` and `accounts.api`: a form checks shape, the fresh
code goes through `web.stepup` (the API's step-up service), then the same accounts service the
API calls decides and audits. An enrolment code is shown once, in the answer to the POST that
issued it, and kept nowhere (not in the session, not in a message store). The admins' pages show
staff accounts only: usernames, roles, dates, counts; never anything about the people the
programme helps, and never a token, a secret or an address.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.lockout import LockedOut, lockout_state
from accounts.models import StaffChange, User
from accounts.second_factor import has_second_factor
from accounts.selectors import (
    live_token_count,
    staff_changes,
    staff_list,
    staff_overview,
    tokens_of,
)
from accounts.services import (
    IssuedEnrolmentCode,
    LoginFailed,
    StaffOutcome,
    StepUpTokenRevoked,
)
from accounts.services.changes import change_note
from common.exceptions import DomainError
from web.decorators import page_view
from web.pages import ROLE_LABELS, Page
from web.qr import qr_svg
from web.sessions import ENDED_SIGNED_OUT, remember_device, session_start
from web.stepup import fresh_code_passes, session_revoked_redirect
from web.views import _throttle_wait
from web.webstaff_forms import (
    EnrolConfirmForm,
    EnrolForm,
    FreshCodeForm,
    PasswordChangeForm,
    RejectForm,
    RolesForm,
    StaffCreateForm,
    UnlockForm,
)

CHANGES_SHOWN = 50  # the changes page lists the pending ones and this many decided ones

KIND_LABELS = {
    StaffChange.Kind.GRANT_ROLES: gettext_lazy("Grant roles"),
    StaffChange.Kind.REACTIVATE: gettext_lazy("Reactivate the account"),
    StaffChange.Kind.RESET_SECOND_FACTOR: gettext_lazy("Reset the second factor"),
}
STATUS_LABELS = {
    StaffChange.Status.PENDING: gettext_lazy("Waiting for approval"),
    StaffChange.Status.APPLIED: gettext_lazy("Applied"),
    StaffChange.Status.REJECTED: gettext_lazy("Rejected"),
}


def _role_labels(user: User) -> list:
    return [ROLE_LABELS[role] for role in sorted(user.roles)]


def _change_row(change: StaffChange) -> dict:
    return {
        "change": change,
        "kind": KIND_LABELS[change.kind],
        "status": STATUS_LABELS[change.status],
        "roles": [ROLE_LABELS[role] for role in change.roles if role in ROLE_LABELS],
        "pending": change.status == StaffChange.Status.PENDING,
    }


def _outcome_notice(outcome: StaffOutcome, done: str | None = None) -> str:
    """What an admin write did, in a sentence, for the page (the API's `note`, in the pages'
    words: the pages have no API paths to point at). `done`: what to say when it took effect
    with no change to record."""
    change = outcome.change
    if change is not None and change.status == StaffChange.Status.PENDING:
        return _(
            "This change waits for another administrator's approval on the page of changes "
            "waiting for approval."
        )
    if change is not None and not change.four_eyes:
        return change_note(change)
    return done or _("Done.")


# What each write that can apply at once says when it did (web.webstaff_views.ACTIONS).
DONE = {
    "roles": gettext_lazy("The roles are saved."),
    "reset": gettext_lazy(
        "The second factor is reset: the old authenticator no longer works and every session of "
        "this account has ended. Give the person the enrolment code below."
    ),
    "reactivate": gettext_lazy("The account is active again."),
}


# --- Admins: the staff list, a new staff member, the changes ------------------------------------


@page_view("staff")
def staff_index(request: HttpRequest, page: Page) -> HttpResponse:
    people = [{"user": user, "roles": _role_labels(user)} for user in staff_overview()]
    pending = staff_changes().filter(status=StaffChange.Status.PENDING).count()
    context = {"page": page, "people": people, "pending": pending}
    return render(request, "web/webstaff/staff_list.html", context)


@page_view("staff-new", methods=("GET", "HEAD", "POST"))
def staff_new(request: HttpRequest, page: Page) -> HttpResponse:
    form = StaffCreateForm(request.POST if request.method == "POST" else None)
    context: dict = {"page": page, "form": form}
    if request.method != "POST":
        return render(request, "web/webstaff/staff_new.html", context)
    status = 400
    if form.is_valid():
        try:
            if fresh_code_passes(request, form):
                outcome = services.staff_create_by_admin(
                    username=form.cleaned_data["username"],
                    roles=form.cleaned_data["roles"],
                    actor=request.user,
                )
                notice = _("The account is created.")
                if outcome.change is not None:
                    notice += " " + _outcome_notice(outcome)
                return _member_page(
                    request,
                    outcome.staff,
                    notice=notice,
                    enrolment=outcome.enrolment,
                    status=201,
                )
            status = 403
        except StepUpTokenRevoked:
            return session_revoked_redirect(request)
        except ValidationError as refusal:
            _errors_onto(form, refusal)
    return render(request, "web/webstaff/staff_new.html", context, status=status)


@page_view("staff-changes")
def changes_index(request: HttpRequest, page: Page) -> HttpResponse:
    return _changes_page(request, page)


def _changes_page(
    request: HttpRequest,
    page: Page,
    *,
    bound: tuple[str, object] | None = None,
    notice: str | None = None,
    problem: str | None = None,
    enrolment: IssuedEnrolmentCode | None = None,
    enrolled: User | None = None,
    status: int = 200,
) -> HttpResponse:
    changes = list(staff_changes()[: CHANGES_SHOWN + _pending_count()])
    rows = []
    for change in changes:
        row = _change_row(change)
        if row["pending"]:
            prefix = f"c{change.pk.hex}"
            approve = FreshCodeForm(prefix=f"{prefix}-approve")
            reject = RejectForm(prefix=f"{prefix}-reject")
            if bound and bound[0] == f"{prefix}-approve":
                approve = bound[1]
            if bound and bound[0] == f"{prefix}-reject":
                reject = bound[1]
            row.update(approve=approve, reject=reject)
        rows.append(row)
    context = {
        "page": page,
        "rows": rows,
        "notice": notice,
        "problem": problem,
        "enrolment": enrolment,
        "enrolled": enrolled,
    }
    return render(request, "web/webstaff/changes.html", context, status=status)


def _pending_count() -> int:
    return staff_changes().filter(status=StaffChange.Status.PENDING).count()


def _change_or_404(pk) -> StaffChange:
    change = staff_changes().filter(pk=pk).first()
    if change is None:
        raise Http404
    return change


@page_view("staff-changes", methods=("POST",))
def change_approve(request: HttpRequest, page: Page, pk) -> HttpResponse:
    change = _change_or_404(pk)
    prefix = f"c{change.pk.hex}-approve"
    form = FreshCodeForm(request.POST, prefix=prefix)
    return _change_decision(
        request,
        page,
        form,
        prefix,
        lambda: services.staff_change_approve(change=change, actor=request.user),
    )


@page_view("staff-changes", methods=("POST",))
def change_reject(request: HttpRequest, page: Page, pk) -> HttpResponse:
    change = _change_or_404(pk)
    prefix = f"c{change.pk.hex}-reject"
    form = RejectForm(request.POST, prefix=prefix)
    return _change_decision(
        request,
        page,
        form,
        prefix,
        lambda: services.staff_change_reject(
            change=change, actor=request.user, reason=form.cleaned_data["reason"]
        ),
    )


def _change_decision(
    request: HttpRequest,
    page: Page,
    form,
    prefix: str,
    decide: Callable[[], StaffOutcome],
) -> HttpResponse:
    if not form.is_valid():
        return _changes_page(request, page, bound=(prefix, form), status=400)
    try:
        if not fresh_code_passes(request, form):
            return _changes_page(request, page, bound=(prefix, form), status=403)
        outcome = decide()
    except StepUpTokenRevoked:
        return session_revoked_redirect(request)
    except (DomainError, PermissionDenied) as refusal:
        return _changes_page(request, page, problem=_message_of(refusal), status=_status(refusal))
    decided = outcome.change
    notice = (
        _("The change was rejected. Nothing was done.")
        if decided is not None and decided.status == StaffChange.Status.REJECTED
        else _("The change is approved and took effect.")
    )
    return _changes_page(
        request,
        page,
        notice=notice,
        enrolment=outcome.enrolment,
        enrolled=outcome.staff if outcome.enrolment else None,
    )


# --- Admins: one staff member and the actions on them ----------------------------------------


@dataclass(frozen=True)
class Action:
    """One admin write on a staff member's page: its form and the service it calls."""

    form_class: type
    run: Callable[[HttpRequest, User, dict], StaffOutcome | str]


def _staff_or_404(pk) -> User:
    user = staff_list().filter(pk=pk).first()
    if user is None:
        raise Http404
    return user


def _member_forms(bound: tuple[str, object] | None) -> dict:
    forms = {name: action.form_class(prefix=name) for name, action in ACTIONS.items()}
    if bound is not None:
        forms[bound[0]] = bound[1]
    return forms


def _member_page(
    request: HttpRequest,
    user: User,
    *,
    bound: tuple[str, object] | None = None,
    notice: str | None = None,
    problem: str | None = None,
    enrolment: IssuedEnrolmentCode | None = None,
    status: int = 200,
    fresh: bool = False,
) -> HttpResponse:
    if not fresh:
        user = _staff_or_404(user.pk)  # read again, after whatever was just done
    forms = _member_forms(bound)
    if bound is None or bound[0] != "roles":
        forms["roles"] = RolesForm(prefix="roles", initial={"roles": sorted(user.roles)})
    pending = [
        _change_row(change)
        for change in staff_changes().filter(target=user, status=StaffChange.Status.PENDING)
    ]
    context = {
        "page": request.page,
        "member": user,
        "roles": _role_labels(user),
        "second_factor": has_second_factor(user),
        "tokens": live_token_count(user),
        "lockout": lockout_state(user=user),
        "pending": pending,
        "forms": forms,
        "notice": notice,
        "problem": problem,
        "enrolment": enrolment,
        "enrolled": user,
        "is_self": user.pk == request.user.pk,
    }
    return render(request, "web/webstaff/staff_member.html", context, status=status)


@page_view("staff")
def staff_member(request: HttpRequest, page: Page, pk) -> HttpResponse:
    return _member_page(request, _staff_or_404(pk), fresh=True)


def _revoke(request: HttpRequest, user: User, data: dict) -> str:
    count = services.tokens_revoke_all(user=user, reason="revoked by admin")
    return ngettext(
        "%(count)s token was revoked: every browser session and app of this account has "
        "ended. The account itself still works.",
        "%(count)s tokens were revoked: every browser session and app of this account has "
        "ended. The account itself still works.",
        count,
    ) % {"count": count}


def _deactivate(request: HttpRequest, user: User, data: dict) -> str:
    services.staff_deactivate(user=user)
    return _(
        "The account is deactivated: it cannot sign in, and every token and browser session of "
        "it has ended."
    )


def _unlock(request: HttpRequest, user: User, data: dict) -> str:
    return services.unlock_note(services.account_unlock(user=user, addresses=data["addresses"]))


ACTIONS: dict[str, Action] = {
    "deactivate": Action(FreshCodeForm, _deactivate),
    "revoke": Action(FreshCodeForm, _revoke),
    "roles": Action(
        RolesForm,
        lambda request, user, data: services.staff_roles_request(
            user=user, roles=data["roles"], actor=request.user
        ),
    ),
    "reset": Action(
        FreshCodeForm,
        lambda request, user, data: services.second_factor_reset_request(
            user=user, actor=request.user
        ),
    ),
    "reactivate": Action(
        FreshCodeForm,
        lambda request, user, data: services.staff_reactivate_request(
            user=user, actor=request.user
        ),
    ),
    "unlock": Action(UnlockForm, _unlock),
}


def member_action(name: str):
    """The POST view of one action on a staff member's page (`ACTIONS[name]`)."""
    action = ACTIONS[name]

    @page_view("staff", methods=("POST",))
    def view(request: HttpRequest, page: Page, pk) -> HttpResponse:
        user = _staff_or_404(pk)
        form = action.form_class(request.POST, prefix=name)
        if not form.is_valid():
            return _member_page(request, user, bound=(name, form), status=400)
        try:
            if not fresh_code_passes(request, form):
                return _member_page(request, user, bound=(name, form), status=403)
            outcome = action.run(request, user, form.cleaned_data)
        except StepUpTokenRevoked:
            return session_revoked_redirect(request)
        except (DomainError, PermissionDenied) as refusal:
            return _member_page(
                request,
                user,
                bound=(name, form),
                problem=_message_of(refusal),
                status=_status(refusal),
            )
        if isinstance(outcome, str):
            return _member_page(request, user, notice=outcome)
        done = DONE.get(name)
        return _member_page(
            request,
            user,
            notice=_outcome_notice(outcome, str(done) if done else None),
            enrolment=outcome.enrolment,
        )

    view.__name__ = f"staff_{name}"
    return view


def _message_of(refusal: Exception) -> str:
    if isinstance(refusal, DomainError):
        return refusal.message
    return str(refusal) or _("You may not do this.")


def _status(refusal: Exception) -> int:
    return refusal.status_code if isinstance(refusal, DomainError) else 403


def _errors_onto(form, refusal: ValidationError) -> None:
    if hasattr(refusal, "error_dict"):
        for field, errors in refusal.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, refusal.messages)


# --- Everyone: their account, their sessions and tokens, their password -----------------------


@page_view("account")
def account(request: HttpRequest, page: Page) -> HttpResponse:
    current = request.web_session.token.pk
    tokens = [
        {"record": record, "current": record.token_id == current}
        for record in tokens_of(request.user)
    ]
    context = {
        "page": page,
        "roles": _role_labels(request.user),
        "idle_minutes": int(settings.UI_IDLE_TIMEOUT.total_seconds() // 60),
        "tokens": tokens,
        "others": sum(1 for token in tokens if not token["current"]),
    }
    return render(request, "web/webstaff/account.html", context)


@page_view("account", methods=("POST",))
def token_end(request: HttpRequest, page: Page, pk) -> HttpResponse:
    """End one of one's own sessions or tokens (404 for anyone else's). Ending this very
    session signs out."""
    record = tokens_of(request.user).filter(pk=pk).first()
    if record is None:
        raise Http404
    services.token_revoke(token=record.token, reason="ended by its owner")
    if record.token_id == request.web_session.token.pk:
        request.session.flush()
        return HttpResponseRedirect(f"{reverse('web:login')}?ended={ENDED_SIGNED_OUT}")
    return redirect("web:account")


@page_view("account", methods=("POST",))
def tokens_end_others(request: HttpRequest, page: Page) -> HttpResponse:
    """End every other session and token of one's own, and every device token (as logout-all,
    but this session stays)."""
    services.tokens_revoke_all(
        user=request.user, reason="others ended by their owner", keep=request.web_session.token
    )
    return redirect("web:account")


@page_view("account-password", methods=("GET", "HEAD", "POST"))
def password(request: HttpRequest, page: Page) -> HttpResponse:
    form = PasswordChangeForm(request.POST if request.method == "POST" else None)
    context: dict = {"page": page, "form": form, "notice": None}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                revoked = services.password_change(
                    token=request.web_session.token,
                    user=request.user,
                    current_password=form.cleaned_data["current_password"],
                    new_password=form.cleaned_data["new_password"],
                    otp=form.cleaned_data["otp"],
                )
            except StepUpTokenRevoked:
                return session_revoked_redirect(request)
            except services.StepUpFailed as refusal:
                form.add_error(
                    "otp",
                    _("The current password or the code is not right.") + " " + refusal.message,
                )
                status = 403
            except ValidationError as refusal:
                _errors_onto(form, refusal)
            else:
                context["form"] = PasswordChangeForm()
                context["notice"] = ngettext(
                    "Your password is changed. %(count)s other session or token of yours has "
                    "ended.",
                    "Your password is changed. %(count)s other sessions or tokens of yours have "
                    "ended.",
                    revoked,
                ) % {"count": revoked}
                status = 200
    return render(request, "web/webstaff/password.html", context, status=status)


# --- Enrolment: anyone holding a code --------------------------------------------------------

ENROL_FAILED = gettext_lazy(
    "Enrolment failed: the username, enrolment code or password is not valid."
)
CONFIRM_FAILED = gettext_lazy(
    "That did not work: check the code your app shows now and your password, and try again."
)


def _lockout_problem(refusal: LockedOut) -> tuple[str, dict]:
    seconds = int(refusal.headers.get("Retry-After", "60"))
    minutes = max(1, math.ceil(seconds / 60))
    message = ngettext(
        "Too many failed attempts. Try again in %(minutes)s minute, or ask an administrator.",
        "Too many failed attempts. Try again in %(minutes)s minutes, or ask an administrator.",
        minutes,
    ) % {"minutes": minutes}
    return message, dict(refusal.headers)


def _too_fast(request: HttpRequest) -> tuple[str, dict] | None:
    wait = _throttle_wait(request)
    if wait is None:
        return None
    message = ngettext(
        "Too many attempts from this address. Try again in %(seconds)s second.",
        "Too many attempts from this address. Try again in %(seconds)s seconds.",
        wait,
    ) % {"seconds": wait}
    return message, {"Retry-After": str(wait)}


def _with_headers(response: HttpResponse, headers: dict) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Step one: the username, the code and a password; the answer shows the new
    authenticator's QR code, its secret and the backup codes, once, with step two's form."""
    if request.user.is_authenticated:
        return redirect("web:home")
    form = EnrolForm(request.POST if request.method == "POST" else None)
    context: dict = {"form": form, "problem": None}
    if request.method != "POST":
        return render(request, "web/webstaff/enrol.html", context)
    device_token = request.COOKIES.get(settings.UI_DEVICE_COOKIE_NAME)
    refused = _too_fast(request)
    status, headers = 400, {}
    if refused is not None:
        (context["problem"], headers), status = refused, 429
    elif form.is_valid():
        try:
            enrolment = services.enrolment_redeem(
                request=request, device_token=device_token, **form.cleaned_data
            )
        except LockedOut as refusal:
            (context["problem"], headers), status = _lockout_problem(refusal), 429
        except LoginFailed:
            context["problem"], status = str(ENROL_FAILED), 401
        except ValidationError as refusal:
            form.add_error("password", refusal.messages)
        else:
            confirm = EnrolConfirmForm(
                initial={
                    "username": form.cleaned_data["username"],
                    "code": form.cleaned_data["code"],
                }
            )
            secret_context = {
                "enrolment": enrolment,
                "qr": qr_svg(
                    enrolment.otpauth_uri,
                    label=_("QR code to add Safe Passage to your authenticator app"),
                ),
                "secret_groups": [
                    enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)
                ],
                "form": confirm,
            }
            return render(request, "web/webstaff/enrol_secret.html", secret_context)
    response = render(request, "web/webstaff/enrol.html", context, status=status)
    return _with_headers(response, headers)


@require_http_methods(["POST"])
def enrol_confirm(request: HttpRequest) -> HttpResponse:
    """Step two: a first code from the new app ends the enrolment and signs in."""
    if request.user.is_authenticated:
        return redirect("web:home")
    form = EnrolConfirmForm(request.POST)
    device_token = request.COOKIES.get(settings.UI_DEVICE_COOKIE_NAME)
    context: dict = {"form": form, "problem": None}
    refused = _too_fast(request)
    status, headers = 400, {}
    if refused is not None:
        (context["problem"], headers), status = refused, 429
    elif form.is_valid():
        try:
            issued = services.enrolment_confirm(
                request=request, device_token=device_token, **form.cleaned_data
            )
        except LockedOut as refusal:
            (context["problem"], headers), status = _lockout_problem(refusal), 429
        except LoginFailed:
            context["problem"], status = str(CONFIRM_FAILED), 401
        else:
            session_start(request=request, issued=issued)
            response = redirect("web:home")
            remember_device(response, issued.device_token)
            return response
    response = render(request, "web/webstaff/enrol_confirm.html", context, status=status)
    return _with_headers(response, headers)
