"""Every row of every table as text, on SQLite and PostgreSQL, to search for secrets."""

from __future__ import annotations

from django.db import connection


def dump_database_text() -> str:
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                chunks.append(f"{table}: " + " | ".join(_text(value) for value in row))
    return "\n".join(chunks)


def _text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
