"""Work that must happen just before a transaction commits, on the same connection.

Django runs code after a commit (`transaction.on_commit`) but has no hook before one, and its
commit does not pass through `execute_wrapper`. The project's backends (`common.db.backends`)
override `commit()` to run the hooks registered here first, still inside the transaction: a
hook may write (its writes commit with the transaction) or raise (the transaction then rolls
back, and the hook's own error reaches the caller).

A hook is called with the connection (`BaseDatabaseWrapper`) about to commit. Hooks run in the
order they were registered, once per commit, whatever code opened the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BeforeCommit = Callable[[Any], None]
_before_commit: list[BeforeCommit] = []


def register_before_commit(hook: BeforeCommit) -> None:
    """Run `hook(connection)` before every commit of the project's database connections."""
    if hook not in _before_commit:
        _before_commit.append(hook)


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
        super().commit()  # type: ignore[misc]
