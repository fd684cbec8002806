"""`manage.py audit_app_role ROLE [--password-stdin]` (PostgreSQL): the role the app runs as.

Run it as the database owner (the role that runs migrations), after every `migrate`. The role
gets read and write access to the application's tables, but only SELECT and INSERT on the
append-only tables (the audit log's and every other app's, such as the reference rates), and
only SELECT on the chain's head and links (written at commit by a function running as the
owner); it owns nothing, so it cannot drop or disable their triggers, and it is not a
superuser, so it cannot set session_replication_role to skip them.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from psycopg2 import sql

from audit.triggers import APPEND_ONLY_TABLES, CHAIN_FUNCTIONS, CHAIN_TABLES


class Command(BaseCommand):
    help = "Create or update the PostgreSQL role the application runs as (least privilege)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role")
        parser.add_argument(
            "--password-stdin", action="store_true", help="set the role's password from stdin"
        )

    def handle(self, *args, role: str, password_stdin: bool, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist only on PostgreSQL.")
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            name = sql.Identifier(role)
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(name)
                )
            if password:
                cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(name), [password])
            others = other_append_only_tables(cursor)
            for statement in grant_statements(
                role, connection.settings_dict["NAME"], others=others
            ):
                cursor.execute(statement)
        self.stdout.write(
            self.style.SUCCESS(
                f"Role {role}: read/write on the application tables; SELECT and INSERT only on "
                f"{', '.join((*APPEND_ONLY_TABLES, *others))}; "
                f"SELECT only on {', '.join(CHAIN_TABLES)}."
            )
        )


def other_append_only_tables(cursor) -> list[str]:
    """The other apps' append-only tables (e.g. `funds_referencerate`): those carrying a
    `<table>_append_only` trigger (`audit.triggers.append_only_statements`), found in the
    catalogue, since the audit app never imports the apps that use it."""
    cursor.execute(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND NOT t.tgisinternal "
        "AND t.tgname = c.relname || '_append_only' ORDER BY c.relname"
    )
    return [table for (table,) in cursor.fetchall() if table not in APPEND_ONLY_TABLES]


def grant_statements(role: str, database: str, *, others: list[str] = ()) -> list[sql.Composed]:
    """The grants of the application's role: everything on the application's tables, but no
    UPDATE, DELETE or TRUNCATE on the append-only ones (the audit tables and `others`) nor on
    the content types the log names, and only SELECT on the chain's head and links."""
    name = sql.Identifier(role)
    audit_tables = sql.SQL(", ").join(
        sql.Identifier(table) for table in (*APPEND_ONLY_TABLES, *others)
    )
    chain_tables = sql.SQL(", ").join(sql.Identifier(table) for table in CHAIN_TABLES)
    return [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), name),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(
            audit_tables, name
        ),
        # The chain is written at commit by audit_chain_commit() as the tables' owner: the app
        # may read the head and the links, never write them (it could rewind the head).
        sql.SQL(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}"
        ).format(chain_tables, name),
        # Entries and read-index rows name their model by content type id, with no foreign key
        # (a key check locks the shared row at every commit): the app may add a type (Django
        # does, for a new model) but never renumber, rename or remove one, which would hide
        # or misattribute a type's entries. Migrations run as the owner.
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(
            sql.Identifier("django_content_type"), name
        ),
        *(
            sql.SQL("GRANT EXECUTE ON FUNCTION {}() TO {}").format(sql.Identifier(function), name)
            for function in CHAIN_FUNCTIONS
        ),
    ]
