"""The database triggers that make tables append-only, on PostgreSQL and SQLite.

There is deliberately no switch (no setting, no session variable) that turns them off. Only
the tables' owner can drop or disable them: on PostgreSQL the application runs as a role that
owns nothing and holds only SELECT and INSERT on the audit tables (`manage.py audit_app_role`).

The audit tables use them here; other apps build their own with `append_only_statements` (an
app's records that must never change, such as reference exchange rates).
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("audit_logentry", "audit_checkpoint")


def append_only_statements(
    vendor: str, *, function: str, tables: tuple[str, ...], what: str
) -> list[str]:
    """Triggers refusing UPDATE, DELETE (and on PostgreSQL TRUNCATE) on `tables`; `function` is
    the PostgreSQL trigger function's name, `what` names the tables in the error message."""
    if vendor == "postgresql":
        statements = [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"    RAISE EXCEPTION '{what} is append-only: % on % refused', TG_OP, TG_TABLE_NAME\n"
            "        USING ERRCODE = 'insufficient_privilege';\n"
            "END\n"
            "$$\n"
        ]
        for table in tables:
            statements += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
        return statements
    if vendor == "sqlite":
        # SQLite has no TRUNCATE: `DELETE FROM t` is how one empties a table, and a table with
        # a DELETE trigger never takes the fast truncate path, so the trigger always fires.
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, '{what} is append-only: {op} on {table} refused'); END"
            for table in tables
            for op in ("UPDATE", "DELETE")
        ]
    raise NotImplementedError(f"No append-only triggers for the {vendor} database.")


def append_only_drop_statements(
    vendor: str, *, function: str, tables: tuple[str, ...]
) -> list[str]:
    if vendor == "postgresql":
        statements = [
            f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
            for table in tables
            for name in ("append_only", "no_truncate")
        ]
        return [*statements, f"DROP FUNCTION IF EXISTS {function}()"]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{op}"
            for table in tables
            for op in ("update", "delete")
        ]
    raise NotImplementedError(f"No append-only triggers for the {vendor} database.")


def create_statements(vendor: str) -> list[str]:
    return append_only_statements(
        vendor, function="audit_refuse_change", tables=APPEND_ONLY_TABLES, what="the audit log"
    )


def drop_statements(vendor: str) -> list[str]:
    return append_only_drop_statements(
        vendor, function="audit_refuse_change", tables=APPEND_ONLY_TABLES
    )
