"""The database triggers that make the audit tables append-only, on PostgreSQL and SQLite.

There is deliberately no switch (no setting, no session variable) that turns them off. Only
the tables' owner can drop or disable them: on PostgreSQL the application runs as a role that
owns nothing and holds only SELECT and INSERT on these tables (`manage.py audit_app_role`).
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("audit_logentry", "audit_checkpoint")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def create_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [_PG_FUNCTION]
        for table in APPEND_ONLY_TABLES:
            statements += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
            ]
        return statements
    if vendor == "sqlite":
        # SQLite has no TRUNCATE: `DELETE FROM t` is how one empties a table, and a table with
        # a DELETE trigger never takes the fast truncate path, so the trigger always fires.
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'the audit log is append-only: {op} on {table} refused'); END"
            for table in APPEND_ONLY_TABLES
            for op in ("UPDATE", "DELETE")
        ]
    raise NotImplementedError(f"No append-only triggers for the {vendor} database.")


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [
            f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
            for table in APPEND_ONLY_TABLES
            for name in ("append_only", "no_truncate")
        ]
        return [*statements, "DROP FUNCTION IF EXISTS audit_refuse_change()"]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{op}"
            for table in APPEND_ONLY_TABLES
            for op in ("update", "delete")
        ]
    raise NotImplementedError(f"No append-only triggers for the {vendor} database.")
