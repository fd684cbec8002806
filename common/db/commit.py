"""Work that must happen just before a transaction commits, on the same connection.

Django runs code after a commit (`transaction.on_commit`) but has no hook before one, and its
commit does not pass through `execute_wrapper`. The project's backends (`common.db.backends`)
override `commit()` to run the hooks registered here first, still inside the transaction: a
hook may write (its writes commit with the transaction) or raise (the transaction then rolls
back, and the hook's own error reaches the caller).

A hook is called with the connection (`BaseDatabaseWrapper`) about to commit. Hooks run in the
order they were registered, once per commit, whatever code opened the transaction.

A connection lost during the COMMIT itself leaves the outcome unknown (the server may have
committed before the answer was lost): that raises `OutcomeUnknown` (common/db/failures.py),
which the API answers 503 `outcome_unknown`, never a plain "database unavailable" that a client
would retry blindly.

The rollback hooks (`register_on_rollback`) are told what was undone: `hook(connection, sid)`
after a rollback to the savepoint `sid`, and `hook(connection, None)` after the whole
transaction was rolled back, so work kept in memory for a commit can be dropped with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import Error, InterfaceError

from common.db.failures import OutcomeUnknown, is_database_unavailable

BeforeCommit = Callable[[Any], None]
OnRollback = Callable[[Any, "str | None"], None]
_before_commit: list[BeforeCommit] = []
_on_rollback: list[OnRollback] = []


def register_before_commit(hook: BeforeCommit) -> None:
    """Run `hook(connection)` before every commit of the project's database connections."""
    if hook not in _before_commit:
        _before_commit.append(hook)


def register_on_rollback(hook: OnRollback) -> None:
    """Run `hook(connection, sid)` after every rollback to a savepoint (`sid`) and
    `hook(connection, None)` after every rollback of a whole transaction."""
    if hook not in _on_rollback:
        _on_rollback.append(hook)


class CommitMixin:
    """Mixed into the backends' `DatabaseWrapper`: the before-commit hooks run first."""

    def commit(self) -> None:
        try:
            for hook in tuple(_before_commit):
                hook(self)
        except BaseException:
            # Django's atomic() rolls back only when the commit raises a DatabaseError; anything
            # else would leave the transaction to be committed when autocommit comes back on.
            self.rollback()  # type: ignore[attr-defined]
            raise
        try:
            super().commit()  # type: ignore[misc]
        except Error as error:
            if _connection_lost(error):
                raise OutcomeUnknown("The connection was lost during COMMIT.") from error
            raise

    def rollback(self) -> None:
        try:
            super().rollback()  # type: ignore[misc]
        finally:
            for hook in tuple(_on_rollback):
                hook(self, None)

    def savepoint_rollback(self, sid: str) -> None:
        super().savepoint_rollback(sid)  # type: ignore[misc]
        for hook in tuple(_on_rollback):
            hook(self, sid)

    def close(self) -> None:
        try:
            super().close()  # type: ignore[misc]
        finally:
            for hook in tuple(_on_rollback):  # a transaction dies with its connection
                hook(self, None)


def _connection_lost(error: Error) -> bool:
    # SQLite's COMMIT either happens or reports why not; only a server connection can be lost
    # between sending COMMIT and reading the answer.
    if isinstance(error, InterfaceError):
        return True
    return is_database_unavailable(error) and hasattr(error.__cause__, "pgcode")
