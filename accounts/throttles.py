"""Request rates, counted in the shared cache (Redis or the database), never per process.

When the shared cache is unavailable (common/cache.py) the general API rate fails open: it
only spreads load, and refusing every request would take the whole API down with Redis. The
rates that bound guessing or enumeration (sign-in, duplicate checks) count in the database
instead (`GuessingRateThrottle`); the lockout and step-up counters are in the database anyway.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.lockout import known_device
from common.cache import CacheUnavailable, fallback_cache
from common.client_ip import client_ip_for


class StaffRateThrottle(SimpleRateThrottle):
    """Per staff member for authenticated requests, per client address otherwise."""

    scope = "staff"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = str(request.user.pk)
        else:
            ident = client_ip_for(request._request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CacheUnavailable:
            return True  # fails open; common.cache logs the outage once


class GuessingRateThrottle(SimpleRateThrottle):
    """A rate that bounds guessing or enumeration: never fails open. While the shared cache is
    unavailable it counts in the database cache table (`fallback`), which fails with the
    database itself (a 503, never an unbounded door)."""

    def allow_request(self, request: Request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CacheUnavailable:
            self.cache = fallback_cache()
            return super().allow_request(request, view)


class LoginRateThrottle(GuessingRateThrottle):
    """Login and enrolment attempts per client address. Guessing is stopped by the lockout;
    this only bounds the rate at which anyone can make the server hash passwords.

    A client with a live device token is not counted (its own failures lock its token), and
    with LOGIN_LIMIT_BY_ADDRESS=false nobody is: behind a Tor onion service every client shares
    one address, and one stranger could otherwise hold up every login."""

    scope = "login"

    def get_rate(self) -> str:
        return settings.LOGIN_THROTTLE_RATE

    def get_cache_key(self, request: Request, view) -> str | None:
        if not settings.LOGIN_LIMIT_BY_ADDRESS or known_device(request._request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip_for(request._request)}
