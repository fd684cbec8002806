"""The duplicate check answers "is this phone known?" even for people outside one's scope (as a
count), so an infiltrator could use it as an oracle. It gets its own, much lower rate per staff
member, on top of the general one, and every check is in the audit log. It never fails open:
without Redis it counts in the database."""

from __future__ import annotations

from django.conf import settings

from accounts.throttles import GuessingRateThrottle, StaffRateThrottle


class DuplicateCheckThrottle(GuessingRateThrottle):
    scope = "duplicate-check"
    # Per staff member, as the general rate (which fails open: this one must not).
    get_cache_key = StaffRateThrottle.get_cache_key

    def get_rate(self) -> str:
        return settings.DUPLICATE_CHECK_RATE
