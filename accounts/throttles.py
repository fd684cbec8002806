"""Request rates, counted in the shared cache (Redis or the database), never per process."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.lockout import known_device
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


class LoginRateThrottle(SimpleRateThrottle):
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
