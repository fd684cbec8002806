"""`/healthz` (the process is alive) and `/readyz` (it can serve: database, migrations, ...).

Apps add their own readiness checks with `register_readiness_check` from their AppConfig, so
this module needs to know nothing about them (the encryption app adds its key check).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# A check returns None when all is well, or a short reason that is safe to show publicly.
ReadinessCheck = Callable[[], str | None]
_checks: dict[str, ReadinessCheck] = {}


def register_readiness_check(name: str, check: ReadinessCheck) -> None:
    _checks[name] = check


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


def run_readiness_checks() -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in _checks.items():
        if name != "database" and results.get("database", "ok") != "ok":
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
    results = run_readiness_checks()
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )
