"""What the base template needs on every page, computed once here so templates hold no rule
and run no query: the navigation, the session's end times, the other languages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language

from web.pages import navigation_for
from web.sessions import ENDED_IDLE, ENDED_REVOKED


def page_frame(request: HttpRequest) -> dict:
    session = getattr(request, "web_session", None)
    current = get_language()
    frame: dict = {
        "web_session": session,
        "navigation": [],
        "other_languages": [(code, name) for code, name in settings.LANGUAGES if code != current],
    }
    if session is not None:
        frame["navigation"] = [
            {
                "title": page.title,
                "url": reverse(f"web:{page.name}"),
                "current": _is_current(getattr(request, "page", None), page),
            }
            for page in navigation_for(session.user)
        ]
        # For the optional script that leaves the page when the session ends, so what it shows
        # does not stay on an unattended screen.
        reason = ENDED_IDLE if session.idle_ends_at <= session.ends_at else ENDED_REVOKED
        frame["session_ends_when_idle"] = reason == ENDED_IDLE
        frame["session_end_epoch"] = int(session.next_end.timestamp())
        frame["session_end_url"] = f"{reverse('web:login')}?ended={reason}"
    return frame


def _is_current(shown, page) -> bool:
    """The page shown is this navigation entry or one of its sub-pages (`staff-new` under
    `staff`)."""
    return shown is not None and (shown == page or shown.name.startswith(f"{page.name}-"))
