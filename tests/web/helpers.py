"""What the web tests share: signed-in browser clients, the page addresses, HTML inspection."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from accounts.models import User
from accounts.services import token_issue
from tests.conftest import Staff
from web.sessions import session_start

LOGIN = "/login/"
LOGOUT = "/logout/"
EXIT = "/exit/"
NEUTRAL = "/recipe/"
ACCOUNT = "/account/"
LANGUAGE = "/language/"


def signed_in_client(staff: Staff | User, **client_options) -> Client:
    """A browser-like client with a session bound to a fresh token of `staff`, made without
    the sign-in form (for tests about something other than signing in)."""
    user = staff.user if isinstance(staff, Staff) else staff
    request = RequestFactory().get("/")
    request.session = SessionStore()
    session_start(request=request, issued=token_issue(user=user))
    request.session.save()
    client = Client(**client_options)
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return client


def sign_in_through_the_form(client: Client, staff: Staff, **overrides: str):
    """POST the sign-in form as a person would (a current TOTP code unless `otp` is given)."""
    body = {"username": staff.user.username, "password": staff.password, "otp": staff.totp()}
    body.update(overrides)
    return client.post(LOGIN, body)


def text_of(response) -> str:
    """The visible text of an HTML response, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


class Controls(HTMLParser):
    """The form controls, labels, links and resources of a page, for accessibility and
    privacy checks."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.urls: list[str] = []
        self.title = ""
        self.html_lang: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if tag in ("input", "select", "textarea", "button"):
            self.controls.append({"tag": tag, **attributes})
        if tag == "label" and "for" in attributes:
            self.label_for.add(attributes["for"])
        for name in ("href", "src", "action"):
            if name in attributes:
                self.urls.append(attributes[name])
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def controls_of(response) -> Controls:
    parser = Controls()
    parser.feed(response.content.decode())
    return parser
