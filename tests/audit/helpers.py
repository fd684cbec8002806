"""What an attacker with the database owner's access can do to the audit tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from audit.triggers import create_statements, drop_statements


@contextmanager
def owner_without_triggers() -> Iterator[CursorWrapper]:
    """A cursor with the append-only triggers dropped, as the tables' owner could; the
    triggers are put back afterwards."""
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in drop_statements(vendor):
            cursor.execute(statement)
        yield cursor
        for statement in create_statements(vendor):
            cursor.execute(statement)


def entry_sequences() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sequence FROM audit_logentry ORDER BY sequence")
        return [row[0] for row in cursor.fetchall()]
