"""The one gate every signed-in page passes: signed in, then allowed, then the method."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from web.pages import PAGES, RECORD_PAGES

PageView = Callable[..., HttpResponse]


def sign_in_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """To the sign-in page, saying why the session ended (if it just did) and, for a page
    that was being read, where to come back to. Paths hold ids, never personal data."""
    query = {}
    if request.method in ("GET", "HEAD"):
        query["next"] = request.get_full_path()
    ended = getattr(request, "web_session_ended", None)
    if ended:
        query["ended"] = ended
    url = reverse("web:login")
    return HttpResponseRedirect(f"{url}?{urlencode(query)}" if query else url)


def page_view(name: str, *, methods: Sequence[str] = ("GET", "HEAD")) -> Callable[..., PageView]:
    """Decorate the view of page `name` (web.pages.PAGES or RECORD_PAGES): anonymous callers
    go to sign in, a role the page's permission does not name gets 403, a method the page
    lacks 405; the view then receives the Page after the request."""
    page = PAGES.get(name) or RECORD_PAGES[name]

    def decorate(view: Callable[..., HttpResponse]) -> PageView:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return sign_in_redirect(request)
            if not page.allows(request.user):
                raise PermissionDenied
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            request.page = page
            return view(request, page, *args, **kwargs)

        return wrapped

    return decorate
