"""`manage.py audit_app_role ROLE [--password-stdin]` (PostgreSQL): the role the app runs as.

Run it as the database owner (the role that runs migrations), after every `migrate`. The role
gets read and write access to the application's tables, but only SELECT and INSERT on the
append-only audit tables, and only SELECT on the chain's head and links (written at commit
by a function running as the owner); it owns nothing, so it cannot drop or disable their
triggers, and it is not a superuser, so it cannot set session_replication_role to skip them.
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
            for statement in grant_statements(role, connection.settings_dict["NAME"]):
                cursor.execute(statement)
        self.stdout.write(
            self.style.SUCCESS(
                f"Role {role}: read/write on the application tables; SELECT and INSERT only on "
                f"{', '.join(APPEND_ONLY_TABLES)}; SELECT only on {', '.join(CHAIN_TABLES)}."
            )
        )


def grant_statements(role: str, database: str) -> list[sql.Composed]:
    name = sql.Identifier(role)
    audit_tables = sql.SQL(", ").join(sql.Identifier(table) for table in APPEND_ONLY_TABLES)
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
        *(
            sql.SQL("GRANT EXECUTE ON FUNCTION {}() TO {}").format(sql.Identifier(function), name)
            for function in CHAIN_FUNCTIONS
        ),
    ]
