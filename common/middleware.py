"""Request correlation ids and the API's response guarantees.

- Every request gets a correlation id generated here (`X-Request-ID` on the response, in the
  logs and the audit log), never taken from the client: one staff member could otherwise
  reuse another request's id and blur whose entries are whose. A client's own `X-Request-ID`
  is kept beside it (`request.client_request_id`, the audit log's `client_request_id`) only
  when it is 1 to 64 of `A-Z a-z 0-9 . _ -`; anything else is dropped, unread.
- API answers are never cached by a browser or proxy (`Cache-Control: no-store`): a seized
  laptop's cache must not hold case data.
- Under `/api/` no error is ever a Django HTML page: unexpected exceptions become the JSON 500
  shape (the traceback goes to the log only), and any other non-JSON error body is replaced.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from common.errors import MESSAGES, RETRY_AFTER, json_error_response, unavailable_body

logger = logging.getLogger(__name__)

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
_NO_STORE_PREFIXES = ("/api/", "/healthz", "/readyz")
_HANDLED_BY_DJANGO = (Http404, PermissionDenied, SuspiciousOperation)
_JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


class RequestIdLogFilter(logging.Filter):
    """Puts the request id on every log record, Django's own included: `django.request` logs
    after this middleware has returned, but its records carry the request itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id == "-":
            request_id = getattr(getattr(record, "request", None), "request_id", "-")
        record.request_id = request_id
        return True


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.client_request_id = incoming if CLIENT_REQUEST_ID.match(incoming) else None
        request_id = request.request_id = uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiResponseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _is_api(request) and response.status_code >= 400 and not _is_json(response):
            response = json_error_response(response.status_code, _code_for(response.status_code))
        if request.path.startswith(_NO_STORE_PREFIXES):
            response["Cache-Control"] = "no-store"
            if _is_json(response):
                response["Content-Security-Policy"] = _JSON_CSP
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_api(request) or isinstance(exception, _HANDLED_BY_DJANGO):
            return None  # Django answers these with the JSON handlers in config/urls.py
        unavailable = unavailable_body(exception)
        if unavailable is not None:
            response = JsonResponse(unavailable, status=503, headers=RETRY_AFTER)
        else:
            # The exception's text may carry request data: the log formatter withholds it
            # (common/logging.py) and the response never has it.
            logger.error(
                "Unhandled %s on %s %s",
                type(exception).__name__,
                request.method,
                request.path,
                exc_info=exception,
            )
            response = json_error_response(500, "server_error", MESSAGES[500])
        # Logged once, here, with the request id: Django's own "Internal Server Error" line
        # would repeat it.
        response._has_been_logged = True
        return response


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _code_for(status_code: int) -> str:
    return {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "throttled",
    }.get(status_code, "server_error" if status_code >= 500 else "error")
