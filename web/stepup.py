"""The step-up "fresh code" on the pages: a form field, and the check that goes through the same
`accounts.services.step_up_verify` as the API's `otp` (so wrong codes count against the browser
session's token, apart from the login throttle, and a code works once).

A form with a fresh-code field names it `otp`. `fresh_code_passes` answers whether it passed
and otherwise puts the refusal on the field; when too many wrong codes revoke the session's
token it raises `StepUpTokenRevoked`, which `session_revoked_redirect` turns into the sign-in
page saying the session ended. The code is never rendered back into the form.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.second_factor import MAX_CODE_LENGTH
from accounts.services import StepUpFailed, step_up_verify
from web.sessions import ENDED_REVOKED


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
        super().__init__(
            max_length=MAX_CODE_LENGTH,
            widget=FreshCodeInput(attrs={"inputmode": "numeric", "autocapitalize": "none"}),
            **kwargs,
        )


def fresh_code_passes(
    request: HttpRequest, form: forms.Form, *, password: str | None = None
) -> bool:
    """True if the valid `form`'s `otp` is a current, unused code of the signed-in person (and
    `password`, when given, is theirs). Otherwise the refusal is put on the `otp` field and
    False returned. Raises StepUpTokenRevoked when this failure revoked the session's token."""
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
