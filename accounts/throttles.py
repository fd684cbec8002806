"""Request rates, counted in the shared cache (Redis or the database), never per process."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

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
    """Login attempts per client address. Brute force is stopped by the lockout; this only
    bounds the rate at which anyone can make the server hash passwords."""

    scope = "login"

    def get_rate(self) -> str:
        return settings.LOGIN_THROTTLE_RATE

    def get_cache_key(self, request: Request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip_for(request._request)}
