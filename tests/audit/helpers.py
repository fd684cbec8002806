"""What an attacker with the database owner's access can do to the audit tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from audit.triggers import (
    chain_create_statements,
    chain_drop_statements,
    create_statements,
    drop_statements,
)

# The entry a link names, by the link's sequence: "... WHERE id = ENTRY_AT" with [sequence].
ENTRY_AT = "(SELECT entry_id FROM audit_chainlink WHERE sequence = %s)"


@contextmanager
def owner_without_triggers() -> Iterator[CursorWrapper]:
    """A cursor with the append-only triggers and the commit-time chaining dropped, as the
    tables' owner could; the triggers are put back afterwards."""
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in [*chain_drop_statements(vendor), *drop_statements(vendor)]:
            cursor.execute(statement)
        yield cursor
        for statement in [*create_statements(vendor), *chain_create_statements(vendor)]:
            cursor.execute(statement)
        if vendor == "postgresql" and connection.savepoint_ids:
            # Inside a test's own transaction, keep chaining each statement (tests/conftest.py).
            cursor.execute("SET CONSTRAINTS audit_logentry_chain IMMEDIATE")


def delete_entries(cursor: CursorWrapper, where: str, params: list) -> None:
    """Delete the entries at the links' sequences matching `where`, and their links."""
    cursor.execute(f"SELECT entry_id FROM audit_chainlink WHERE {where}", params)
    ids = [row[0] for row in cursor.fetchall()]
    cursor.execute(f"DELETE FROM audit_chainlink WHERE {where}", params)
    for entry_id in ids:
        cursor.execute("DELETE FROM audit_logentry WHERE id = %s", [entry_id])


def entry_sequences() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sequence FROM audit_chainlink ORDER BY sequence")
        return [row[0] for row in cursor.fetchall()]
