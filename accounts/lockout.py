"""The JSON answer for a locked-out login (django-axes' AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from common.errors import error_body

LOCKOUT_MESSAGE = (
    "Too many failed login attempts. Login is locked for this account or address; "
    "try again later or ask an administrator."
)


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    # A view that already answered the lockout (the API's JSON, the web sign-in page in the
    # reader's language) keeps its answer; anything else gets the JSON one.
    if original_response is not None and original_response.status_code == 429:
        return original_response
    response = JsonResponse(error_body(429, "locked_out", LOCKOUT_MESSAGE), status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
