"""`/healthz` (the process is alive) and `/readyz` (it can serve: database, migrations, ...).

Apps add their own readiness checks with `register_readiness_check` from their AppConfig, so
this module needs to know nothing about them (the encryption app adds its key check).

`/readyz` answers 503 (take this server out of rotation) when a critical check fails: without
the database, its migrations or the keys, no request can be served safely. A non-critical
check (the shared cache) failing answers 200 with `"status": "degraded"`: every server shares
the same Redis, so taking them all out of rotation would turn a throttle outage into a full
one, while the app serves safely without it (common/cache.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from common.cache import cache_check

logger = logging.getLogger(__name__)

# A check returns None when all is well, or a short reason that is safe to show publicly.
ReadinessCheck = Callable[[], str | None]
_checks: dict[str, tuple[ReadinessCheck, bool]] = {}


def register_readiness_check(name: str, check: ReadinessCheck, *, critical: bool = True) -> None:
    """Add `check` to `/readyz` under `name`; a failing non-critical check only degrades."""
    _checks[name] = (check, critical)


def database_check() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("Readiness: the database is unreachable.", exc_info=True)
        return "unreachable"
    return None


def migrations_check() -> str | None:
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "unapplied migrations"
    return None


register_readiness_check("database", database_check)
register_readiness_check("migrations", migrations_check)
register_readiness_check("cache", cache_check, critical=False)


def run_readiness_checks() -> dict[str, str]:
    """Each check's name to "ok" or its problem; checks that need the database are "skipped"
    while it is unreachable."""
    results: dict[str, str] = {}
    for name, (check, critical) in _checks.items():
        if critical and name != "database" and results.get("database", "ok") != "ok":
            results[name] = "skipped"
            continue
        try:
            problem = check()
        except DatabaseError:
            logger.warning("Readiness check %s failed.", name, exc_info=True)
            problem = "database error"
        results[name] = problem or "ok"
    return results


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """`{"status": "ok" | "degraded" | "unavailable", "checks": {name: "ok" | problem}}`;
    503 only when a critical check fails."""
    results = run_readiness_checks()
    failing = {name for name, value in results.items() if value != "ok"}
    if any(_checks[name][1] for name in failing):
        state, status = "unavailable", 503
    else:
        state, status = ("degraded" if failing else "ok"), 200
    return JsonResponse({"status": state, "checks": results}, status=status)
