"""The shared cache (Redis) as a dependency that may fail: short timeouts and a circuit breaker.

Redis holds only throttle counters. When it is stopped, or worse, accepts connections and
never answers (a network partition), a cache call must neither stall a worker nor turn a
request into a 500. So:

- every socket operation has a short connect and read timeout (`CACHE_TIMEOUT_SECONDS`), and
  redis-py's own retries (three, with a backoff of up to seconds) are off;
- a circuit breaker (pybreaker) opens after `CACHE_BREAKER_FAILURES` failures in a row: while
  it is open no call reaches the network for `CACHE_BREAKER_RESET_SECONDS`, then one trial
  call decides whether it closes again;
- every failure, whatever redis-py raised, reaches the caller as `CacheUnavailable`, and each
  outage is logged once per worker process (when the breaker opens and when it closes), not
  once per request.

Each caller decides what an outage means for it (accounts/throttles.py): the general API
rate fails open, the limits that bound guessing or enumeration fall back to the database.
"""

from __future__ import annotations

import logging
from typing import Any

import pybreaker
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

FALLBACK_ALIAS = "fallback"


class CacheUnavailable(Exception):
    """The shared cache did not answer in time, refused, or its circuit breaker is open."""


class _OutageListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        if new_state.name == pybreaker.STATE_OPEN and old_state.name != pybreaker.STATE_HALF_OPEN:
            logger.warning(
                "The shared cache is unavailable: throttling fails open and the guessing "
                "limits use the database until it answers again."
            )
        elif new_state.name == pybreaker.STATE_CLOSED:
            logger.warning("The shared cache answers again.")


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.RedisError, OSError)


class ResilientRedisCache(RedisCache):
    """Django's Redis cache with short socket timeouts, no retries and a circuit breaker.

    Each public call raises `CacheUnavailable` (never a redis-py error) when the server is
    unreachable, slow beyond the timeout, or the breaker is open. The breaker is per process:
    each worker finds out for itself, in at most `CACHE_BREAKER_FAILURES` timeouts.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        timeout = settings.CACHE_TIMEOUT_SECONDS
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", timeout)
        options.setdefault("socket_timeout", timeout)
        options.setdefault("retry", Retry(NoBackoff(), 0))
        super().__init__(server, {**params, "OPTIONS": options})
        errors = _redis_errors()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=settings.CACHE_BREAKER_FAILURES,
            reset_timeout=settings.CACHE_BREAKER_RESET_SECONDS,
            # Only the server's failures count: a caller's own bug is not an outage.
            exclude=[lambda error: not isinstance(error, errors)],
            listeners=[_OutageListener()],
            name="shared-cache",
        )
        self._errors = errors

    def _guarded(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.breaker.call(method, *args, **kwargs)
        except (pybreaker.CircuitBreakerError, *self._errors) as error:
            raise CacheUnavailable(type(error).__name__) from None

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().add, *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().get, *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().set, *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().touch, *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().delete, *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().get_many, *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().has_key, *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().incr, *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().set_many, *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().delete_many, *args, **kwargs)

    def clear(self) -> Any:
        return self._guarded(super().clear)


def cache_check() -> str | None:
    """Readiness: None when the shared cache answers a write and a read, else a short reason.

    A cache outage degrades the service (throttling fails open) without stopping it, so
    `/readyz` reports it without taking the server out of rotation (common/health.py).
    """
    from django.core.cache import cache

    try:
        cache.set("readyz-probe", "1", timeout=10)
        if cache.get("readyz-probe") != "1":
            return "unavailable"
    except CacheUnavailable:
        return "unavailable"
    return None


def fallback_cache() -> Any:
    """The database cache the guessing limits count in while the shared cache is down."""
    return caches[FALLBACK_ALIAS]
