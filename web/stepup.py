"""A step-up on a page: a fresh authenticator code typed into the form itself.

The API asks for `otp` in the body of `approve/` and `pay/`; a page asks for the same code in a
field of its form and checks it through the same `accounts.services.step_up_verify`, against the
token the browser session is bound to, so wrong codes count towards that token's limit and too
many end the session, exactly as they revoke an API token.

A code works once: the field is never filled in again when a form comes back with an error, so
a used or wrong code is never sent twice by accident.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.second_factor import MAX_CODE_LENGTH
from accounts.services import step_up_verify
from accounts.services.step_up import StepUpFailed, StepUpTokenRevoked


class FreshCodeInput(forms.TextInput):
    """Never shows a value back: a code that was typed has been used or refused."""

    def format_value(self, value):
        return None


class FreshCodeField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Authenticator code"))
        kwargs.setdefault(
            "help_text",
            _(
                "A current code from your authenticator app, not used before (a new one comes "
                "every 30 seconds)."
            ),
        )
        kwargs.setdefault("max_length", MAX_CODE_LENGTH)
        kwargs.setdefault(
            "widget",
            FreshCodeInput(attrs={"inputmode": "numeric", "autocapitalize": "none"}),
        )
        super().__init__(**kwargs)


class SessionEnded(Exception):
    """Too many wrong codes: the session's token was revoked, so the session has ended."""


def step_up_check(request: HttpRequest, code: str) -> str | None:
    """None when `code` is a fresh code of the signed-in user's authenticator; otherwise the
    message to show at the code field. Raises SessionEnded when this failure revoked the token
    the browser session is bound to. Call outside any transaction (a failure is committed)."""
    try:
        step_up_verify(token=request.web_session.token, user=request.user, code=code)
    except StepUpTokenRevoked:
        raise SessionEnded() from None
    except StepUpFailed as refusal:
        return refusal.message
    return None
