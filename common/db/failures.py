"""What a database error means for the client: retry now, retry later, or a bug.

- A deadlock or serialization failure (PostgreSQL 40P01, 40001): the transaction was rolled
  back whole; the same request may be sent again at once (409 `concurrent_change`).
- The database is unreachable, shutting down, starting up, out of connections or otherwise
  unable to serve (PostgreSQL's connection, resource and operator-intervention errors; SQLite
  locked or unopenable): nothing can be served until it is back, so 503 with `Retry-After`
  (`database_unavailable`), and the connection is dropped so the next request opens a new one.
- A connection lost while committing (`OutcomeUnknown`, raised by common.db.commit): the
  write may or may not have landed, so 503 `outcome_unknown`: retry only with the same
  Idempotency-Key, or after reading back.
- Anything else stays a 500: a broken query is a bug, not the client's problem to retry.
"""

from __future__ import annotations

import sqlite3

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 5
_CONCURRENCY_SQLSTATES = frozenset({"40P01", "40001"})
# SQLite reports a syntax error as an OperationalError too: only these mean "not now".
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open", "disk i/o error", "is busy")


class OutcomeUnknown(OperationalError):
    """The connection was lost during COMMIT: whether the transaction landed is unknown."""


def is_concurrency_failure(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    return getattr(exc.__cause__, "pgcode", None) in _CONCURRENCY_SQLSTATES


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that say the database cannot serve now (see the module docstring)."""
    if isinstance(exc, OutcomeUnknown) or is_concurrency_failure(exc):
        return False
    if isinstance(exc, InterfaceError):  # the connection is already closed
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        text = str(cause).lower()
        return any(marker in text for marker in _SQLITE_UNAVAILABLE)
    # psycopg2 raises OperationalError only for SQLSTATE classes 08, 53-58 (and none at all for
    # a refused or dropped connection); its query errors are Programming/Data/Integrity errors.
    return hasattr(cause, "pgcode") or cause is None
