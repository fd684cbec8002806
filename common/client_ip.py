"""The client address, the one way the whole project reads it.

`X-Forwarded-For` is trusted only for as many hops as `TRUSTED_PROXY_COUNT` says: otherwise
an attacker would send a new forged address with every guess and never be locked out.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip_for(request: HttpRequest) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "") or "unknown"
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not hops or not forwarded:
        return remote_addr
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    if not addresses:
        return remote_addr
    return addresses[-min(hops, len(addresses))]
