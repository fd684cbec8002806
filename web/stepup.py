"""The step-up "fresh code" on the pages: a form field, and the checks that go through the same
`accounts.services.step_up_verify` as the API's `otp` (so wrong codes count against the browser
session's token, apart from the login throttle, and a code works once).

A form with a fresh-code field names it `otp`; the field never shows a value again when a form
comes back with an error, so a used or wrong code is never sent twice by accident. Two ways to
check it, for a form (`fresh_code_passes`, which puts the refusal on the field) or for a code
typed once for several actions (`step_up_check`, which returns the message). When too many
wrong codes revoke the session's token, `fresh_code_passes` lets the service's
`StepUpTokenRevoked` through and `step_up_check` raises `SessionEnded`; either way
`session_revoked_redirect` turns it into the sign-in page saying the session ended.
Call them outside any transaction: a failure is committed.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.second_factor import MAX_CODE_LENGTH
from accounts.services import StepUpFailed, StepUpTokenRevoked, step_up_verify
from web.sessions import ENDED_REVOKED


class SessionEnded(Exception):
    """Too many wrong codes: the session's token was revoked, so the session has ended. Not a
    DomainError, so no error handler on the way (an idempotent action's) turns it into a page
    of its own."""


class FreshCodeInput(forms.TextInput):
    """A text input that never shows a value again: a code is spent once it was checked."""

    def format_value(self, value: object) -> None:
        return None


class FreshCodeField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Code from your authenticator app"))
        kwargs.setdefault(
            "help_text", _("The six digits your app shows now. Each code works only once.")
        )
        kwargs.setdefault("max_length", MAX_CODE_LENGTH)
        kwargs.setdefault(
            "widget", FreshCodeInput(attrs={"inputmode": "numeric", "autocapitalize": "none"})
        )
        super().__init__(**kwargs)


def step_up_check(request: HttpRequest, code: str) -> str | None:
    """None when `code` is a current, unused code of the signed-in person's authenticator;
    otherwise the message to show at the code field. Raises SessionEnded when this failure
    revoked the token the browser session is bound to."""
    try:
        step_up_verify(token=request.web_session.token, user=request.user, code=code)
    except StepUpTokenRevoked:
        raise SessionEnded() from None
    except StepUpFailed as refusal:
        return refusal.message
    return None


def fresh_code_passes(
    request: HttpRequest, form: forms.Form, *, password: str | None = None
) -> bool:
    """True if the valid `form`'s `otp` is a current, unused code of the signed-in person (and
    `password`, when given, is theirs). Otherwise the refusal is put on the `otp` field and
    False returned. Raises SessionEnded when this failure revoked the session's token."""
    try:
        step_up_verify(
            token=request.web_session.token,
            user=request.user,
            code=form.cleaned_data["otp"],
            password=password,
        )
    except StepUpFailed as refusal:
        form.add_error("otp", refusal.message)
        return False
    return True


def session_revoked_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Too many wrong codes revoked the session's token: the session is gone, say so."""
    request.session.flush()
    return HttpResponseRedirect(f"{reverse('web:login')}?ended={ENDED_REVOKED}")
