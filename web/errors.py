"""Error pages: HTML for the web pages, the API's one JSON shape everywhere else.

Django has one handler per status for the whole site; these send `/api/` (and the probes) to
`common.errors` and answer pages in the page's own layout and language.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from common import errors
from web.middleware import is_web_request


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_web_request(request):
        return errors.handler403(request, exception)
    return render(request, "web/403.html", status=403)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_web_request(request):
        return errors.handler404(request, exception)
    return render(request, "web/404.html", status=404)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_web_request(request):
        return errors.handler400(request, exception)
    return render(request, "web/400.html", status=400)


def handler500(request: HttpRequest) -> HttpResponse:
    if not is_web_request(request):
        return errors.handler500(request)
    # No context processors and no database: whatever failed may fail again.
    failure = sys.exc_info()[1]
    if failure is not None and errors.unavailable_body(failure) is not None:
        response = HttpResponse(
            render_to_string("web/503.html"), status=503, headers=errors.RETRY_AFTER
        )
        response._has_been_logged = True  # logged once, without the outage's traceback
        return response
    return HttpResponse(render_to_string("web/500.html"), status=500)
