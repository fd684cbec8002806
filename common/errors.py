"""One JSON error shape for every failure the API can answer.

    {"status": 400, "code": "invalid", "message": "...", "fields": {"otp": ["..."]}}

`fields` appears only on validation errors. A 500 says nothing but that it happened and the
request id to quote; the traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from common.exceptions import DomainError

logger = logging.getLogger(__name__)

MESSAGES = {
    400: "The request is not valid.",
    401: "Authentication credentials were not provided or are not valid.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    409: "The request conflicts with the current state of the record.",
    413: "The request body is too large.",
    415: "Unsupported media type: send JSON.",
    429: "Too many requests.",
    500: "Internal server error.",
}


def error_body(
    status_code: int, code: str, message: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": status_code,
        "code": code,
        "message": message or MESSAGES.get(status_code, "Error."),
    }
    body.update(extra)
    return body


def _message_of(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message_of(detail[0])
    if isinstance(detail, dict) and detail:
        return _message_of(next(iter(detail.values())))
    return str(detail)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: domain and framework errors to the one shape. An error
    response carries nothing the view had disclosed, so none of it is logged as read."""
    # Imported here: this module is loaded with the logging configuration, before the apps.
    from audit.disclosure import discard_current_response

    discard_current_response()
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.status_code, exc.code, exc.message, **exc.extra),
            status=exc.status_code,
            headers=exc.headers,
        )
    if _is_concurrency_failure(exc):
        return Response(
            error_body(
                409,
                "concurrent_change",
                "The request met a concurrent change and was not carried out; send it again.",
            ),
            status=409,
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(413, "too_large", "The request body is too large."), status=413)
    if isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request is malformed.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if not isinstance(exc, exceptions.APIException):
        return None  # unexpected: ApiResponseMiddleware logs it and answers the JSON 500

    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(int(wait))

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(
            status.HTTP_400_BAD_REQUEST, "invalid", MESSAGES[400], fields=_plain(detail)
        )
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = error_body(exc.status_code, str(code), _message_of(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back
# whole, nothing was done, and the same request may simply be sent again. Every other database
# error stays a 500 (a broken database is not the client's problem to retry around).
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def _is_concurrency_failure(exc: Exception) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    return getattr(exc.__cause__, "pgcode", None) in _RETRYABLE_SQLSTATES


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def json_error_response(status_code: int, code: str, message: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(status_code, code, message), status=status_code)


# Django-level handlers (urls.py): a URL that matches nothing, or an error outside DRF.
def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_response(400, "bad_request")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_response(403, "permission_denied")


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_response(404, "not_found")


def handler500(request: HttpRequest) -> JsonResponse:
    return json_error_response(500, "server_error")
