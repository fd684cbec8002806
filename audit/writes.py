"""Entries of one transaction are one write.

`atomic` is `transaction.atomic` for services: the audit entries recorded inside it (the
change, its many-to-many changes, the timeline, the access) wait in memory and are inserted
together, in one statement, when the outermost `atomic` of this module leaves successfully,
still inside the transaction. Outside it, entries are inserted as they are recorded.

Entries never outlive what they record: those recorded inside a savepoint that is rolled back
are dropped with it, and a rolled-back transaction drops them all (`common.db.commit` rollback
hooks). And a transaction can never commit a change without its entries: the project's
backends run `refuse_unwritten` just before every commit, whatever code opened the
transaction, and it fails that commit (rolling it back) while any entry is still waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction

from audit.exceptions import AuditError

_PENDING = "_audit_pending"  # on the connection: [(savepoint ids when recorded, entry)]
_DEPTH = "_audit_depth"  # on the connection: how many of this module's blocks are open


def _pending(connection: Any) -> list[tuple[frozenset, Any]]:
    return connection.__dict__.setdefault(_PENDING, [])


def hold(connection: Any, entries: Sequence[Any]) -> bool:
    """Keep prepared entries for the block's single insert; False when no block is open (the
    caller inserts them now)."""
    if connection.__dict__.get(_DEPTH, 0) <= 0:
        return False
    sids = frozenset(connection.savepoint_ids)
    _pending(connection).extend((sids, entry) for entry in entries)
    return True


def pending_count(connection: Any) -> int:
    return len(connection.__dict__.get(_PENDING, ()))


def flush(connection: Any) -> list[Any]:
    """Insert every waiting entry in one statement (`LogEntryChainManager.insert_prepared`)."""
    from audit.models import LogEntry

    pending = connection.__dict__.get(_PENDING)
    if not pending:
        return []
    entries = [entry for _sids, entry in pending]
    connection.__dict__[_PENDING] = []
    return LogEntry.objects.db_manager(connection.alias).insert_prepared(entries)


def drop_rolled_back(connection: Any, sid: str | None) -> None:
    """Rollback hook: entries recorded under the savepoint `sid` (or all, for None) go."""
    if sid is None:
        connection.__dict__[_PENDING] = []
        return
    pending = connection.__dict__.get(_PENDING)
    if pending:
        connection.__dict__[_PENDING] = [(sids, e) for sids, e in pending if sid not in sids]


def refuse_unwritten(connection: Any) -> None:
    """Before-commit hook: a commit with audit entries not yet written fails (and rolls back)."""
    waiting = pending_count(connection)
    if waiting:
        connection.__dict__[_PENDING] = []
        raise AuditError(
            f"A transaction tried to commit with {waiting} audit entries not yet written; "
            "it was rolled back."
        )


class _AuditedAtomic(transaction.Atomic):
    """Django's Atomic, counting this module's open blocks on the connection and inserting the
    waiting entries when the outermost one leaves without an error. No state on the instance:
    a decorated function may run in several threads, or call itself."""

    def __enter__(self) -> None:
        super().__enter__()
        connection = transaction.get_connection(self.using)
        connection.__dict__[_DEPTH] = connection.__dict__.get(_DEPTH, 0) + 1

    def __exit__(self, exc_type, exc_value, traceback) -> bool | None:
        connection = transaction.get_connection(self.using)
        depth = connection.__dict__.get(_DEPTH, 1) - 1
        connection.__dict__[_DEPTH] = max(depth, 0)
        if exc_type is None and depth <= 0 and not connection.needs_rollback:
            try:
                flush(connection)
            except BaseException as error:
                super().__exit__(type(error), error, error.__traceback__)
                raise
        return super().__exit__(exc_type, exc_value, traceback)


def atomic(using: Any = None, savepoint: bool = True, durable: bool = False) -> Any:
    """`transaction.atomic` whose audit entries are written as one insert when the outermost
    such block leaves (see the module's docstring). Use it bare (`@atomic`) or called."""
    if callable(using):
        return _AuditedAtomic(DEFAULT_DB_ALIAS, savepoint, durable)(using)
    return _AuditedAtomic(using or DEFAULT_DB_ALIAS, savepoint, durable)
