"""What every web page gets from middleware: its signed-in user, no caching, and (on request)
server timings.

- WebSessionMiddleware resumes the browser session bound to a token (web.sessions) on every
  request outside `/api/`, sets `request.user` (anonymous when there is none or it has just
  ended) and names the audit actor. `/api/` is never looked at: the API stays bearer-only.
- NoStoreMiddleware: `Cache-Control: no-store` on every page, so a seized laptop's browser
  cache holds no page, and `Referrer-Policy: same-origin`. Static files (served earlier by
  WhiteNoise) stay cacheable.
- ServerTimingMiddleware: with `UI_SERVER_TIMING` on, `Server-Timing: app;dur=..,
  db;dur=..;desc="N queries"` on every response, for the browser tests' measurements.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpRequest, HttpResponse

from audit.context import set_actor
from web.sessions import WebSession, session_resume

_NOT_WEB = ("/api/", "/healthz", "/readyz", "/static/")
# Requests a browser makes on its own: they must neither keep a session alive nor be the one
# that learns (and so swallows) why it ended.
_NO_SESSION = ("/favicon.ico",)


def is_web_request(request: HttpRequest) -> bool:
    return not request.path.startswith(_NOT_WEB)


class WebSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_web_request(request):
            return self.get_response(request)
        if request.path in _NO_SESSION:
            request.user, request.web_session, request.web_session_ended = (
                AnonymousUser(),
                None,
                None,
            )
            return self.get_response(request)
        resumed = session_resume(request=request)
        request.web_session = resumed if isinstance(resumed, WebSession) else None
        request.web_session_ended = resumed if isinstance(resumed, str) else None
        if request.web_session is not None:
            request.user = request.web_session.user
            # The audit context was opened by AuditContextMiddleware, outside this one.
            set_actor(request.user)
        else:
            request.user = AnonymousUser()
        return self.get_response(request)


class NoStoreMiddleware:
    """Also sets the pages' referrer policy to `same-origin`: under the site-wide
    `no-referrer` a browser sends `Origin: null` with every form, which CSRF protection must
    refuse; `same-origin` still sends nothing to any other site."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_web_request(request):
            response["Cache-Control"] = "no-store"
            response["Referrer-Policy"] = "same-origin"
        return response


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.UI_SERVER_TIMING:
            return self.get_response(request)
        spent = {"db": 0.0, "queries": 0}

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent["db"] += time.perf_counter() - started
                spent["queries"] += 1

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = self.get_response(request)
        total = time.perf_counter() - started
        response["Server-Timing"] = (
            f"app;dur={total * 1000:.1f}, "
            f'db;dur={spent["db"] * 1000:.1f};desc="{spent["queries"]} queries"'
        )
        return response
