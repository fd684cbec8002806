"""Bind the client address and the request ids (the server's, and the client's own when it
is safe to keep) to every audit entry a request writes."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import audit_context
from common.client_ip import client_ip_for


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_context(
            actor=None,
            remote_addr=_valid_ip(client_ip_for(request)),
            cid=getattr(request, "request_id", None),
            client_request_id=getattr(request, "client_request_id", None),
        ):
            return self.get_response(request)


def _valid_ip(value: str) -> str | None:
    # A link-local IPv6 peer comes with its zone ("fe80::1%eth0"), which no database column
    # for addresses accepts: the zone names our own interface, not the client, so drop it.
    try:
        return str(ipaddress.ip_address(value.split("%", 1)[0]))
    except ValueError:
        return None
