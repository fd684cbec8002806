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
        "area_stylesheet": area_stylesheet(request),
        "web_session": session,
        "navigation": [],
        "other_languages": [(code, name) for code, name in settings.LANGUAGES if code != current],
    }
    if session is not None:
        open_page = getattr(request, "page", None)
        frame["navigation"] = [
            {
                "title": page.title,
                "url": reverse(f"web:{page.name}"),
                "current": _is_current(open_page, page),
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


# The stylesheet of each area's own pages, loaded after web.css (which every page loads), so
# no page downloads another area's rules. Keyed by the first part of the page's URL name.
AREA_STYLESHEETS = {
    "staff": "web/staff.css",
    "account": "web/staff.css",
    "enrol": "web/staff.css",
    "funds": "web/money.css",
    "cases": "web/cases.css",
    "intake": "web/cases.css",
    "case": "web/cases.css",
    "person": "web/cases.css",
    "needs": "web/cases.css",
}


def area_stylesheet(request: HttpRequest) -> str | None:
    """The static path of the stylesheet for the area the requested page belongs to, if any."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "web" or not match.url_name:
        return None
    return AREA_STYLESHEETS.get(match.url_name.split("-")[0])


def _is_current(shown, page) -> bool:
    """The page shown is this navigation entry or one of its sub-pages (`staff-new` under
    `staff`, or a page whose `section` names it: every `/funds/` page under Money)."""
    if shown is None:
        return False
    return page.name in (shown.name, shown.section) or shown.name.startswith(f"{page.name}-")
