"""A start-up check that needs the database, made safe for a database that is briefly away.

The server refuses to start when the encryption keys cannot open the stored data (config/
wsgi.py). gunicorn boots a new worker whenever one dies or is recycled: if that happens while
PostgreSQL restarts, a check that raised would stop the worker from booting, and gunicorn then
shuts the whole server down ("Worker failed to boot"). So a worker that cannot reach the
database at boot starts anyway, answers 503 with Retry-After until the check has run, and runs
it before its first real request: wrong keys still stop it (exit status 3, which gunicorn
treats as a failed boot and stops the server for), and nothing is served or written before.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import Error

from common.db.failures import RETRY_AFTER_SECONDS, is_database_unavailable

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
WORKER_BOOT_ERROR = 3  # gunicorn's exit status for a worker that could not boot


def checked_before_serving(application: WSGIApp, check: Callable[[], None]) -> WSGIApp:
    """`application`, once `check()` has passed: now, or, when the database is unreachable,
    before the first request that finds it reachable. `check` raises ImproperlyConfigured to
    refuse to serve at all."""
    try:
        check()
    except Error as error:
        if not is_database_unavailable(error):
            raise
        logger.warning(
            "The database is unreachable at start-up: the key check runs before the first "
            "request is served."
        )
        return _Deferred(application, check)
    return application


class _Deferred:
    def __init__(self, application: WSGIApp, check: Callable[[], None]) -> None:
        self.application, self.check = application, check
        self.passed = False
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if not self.passed:
            with self.lock:
                try:
                    if not self.passed:
                        self.check()
                        self.passed = True
                except ImproperlyConfigured as refusal:
                    logger.critical("%s", refusal)
                    os._exit(WORKER_BOOT_ERROR)
                except Error as error:
                    if not is_database_unavailable(error):
                        raise
                    return _unavailable(start_response)
        return self.application(environ, start_response)


def _unavailable(start_response: Callable[..., Any]) -> list[bytes]:
    body = json.dumps(
        {"status": 503, "code": "database_unavailable", "message": "Retry after a moment."}
    ).encode()
    start_response(
        "503 Service Unavailable",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(RETRY_AFTER_SECONDS)),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
