"""What the encryption tests share: fresh reads, and the raw view of the database an attacker
(or a backup) has."""

from __future__ import annotations

from django.db import connection
from django.db.models import Model

from people.models import Person


def reloaded(person: Person) -> Person:
    """A fresh instance from the database: nothing opened, data key unwrapped anew."""
    return Person.objects.with_keys().get(pk=person.pk)


def stored_blob(person: Person, field: str) -> bytes | None:
    """The column's bytes exactly as the database holds them."""
    sealed = Person.objects.filter(pk=person.pk).values_list(field, flat=True).get()
    return None if sealed is None else sealed.blob


def attacker_writes(person: Person, column: str, value: object) -> None:
    """Rewrite one column with raw SQL, as someone with write access to the database could."""
    table = connection.ops.quote_name(Person._meta.db_table)
    pk = Person._meta.pk.get_db_prep_value(person.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name(column)} = %s WHERE id = %s",
            [value, pk],
        )


def table_rows(model: type[Model]) -> list[tuple]:
    """Every row of the model's table, byte for byte, in primary-key order."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY 1")
        return [
            tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)
            for row in cursor.fetchall()
        ]
