"""The database triggers that make tables append-only, on PostgreSQL and SQLite.

There is deliberately no switch (no setting, no session variable) that turns them off. Only
the tables' owner can drop or disable them: on PostgreSQL the application runs as a role that
owns nothing and holds only SELECT and INSERT on the audit tables (`manage.py audit_app_role`).

The audit tables use them here; other apps build their own with `append_only_statements` (an
app's records that must never change, such as reference exchange rates).
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("audit_logentry", "audit_chainlink", "audit_accessindex", "audit_checkpoint")
# On PostgreSQL only the chaining function (as the tables' owner) writes these: the app role
# may read them, not write them (`manage.py audit_app_role`).
CHAIN_TABLES = ("audit_chainhead", "audit_chainlink")
CHAIN_FUNCTIONS = ("audit_entry_txid", "audit_chain_commit")


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


# What the tables were before the chain links had their own (migrations 0002 to 0006).
TABLES_BEFORE_LINKS = ("audit_logentry", "audit_checkpoint")


def create_statements(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    return append_only_statements(
        vendor, function="audit_refuse_change", tables=tables, what="the audit log"
    )


def drop_statements(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    return append_only_drop_statements(vendor, function="audit_refuse_change", tables=tables)


def chain_create_statements(vendor: str, schema: str = "public") -> list[str]:
    """PostgreSQL: chain every transaction's entries when it commits.

    A BEFORE INSERT trigger stamps each entry with its transaction's id (whatever the writer
    sent). A deferred constraint trigger fires at commit for each entry; the first firing
    takes the chain head's row lock, inserts the links of all of the transaction's entries not
    yet linked (in id order: the order they were written) and moves the head; later firings
    find their entry linked and do nothing. The head is therefore locked only from that
    statement to the commit, and the chain's order is the commit order.

    The function runs as its owner (SECURITY DEFINER) with its search_path pinned to its
    schema then pg_temp, names every table with its schema, and cannot be called by PUBLIC:
    no temporary table of the caller's can stand in for the head or the links, and the app
    role needs no write access to either. The link's hash is `audit.chain.link_hash_of`.
    SQLite chains in Python instead (`LogEntryChainManager.insert_prepared`).
    """
    if vendor != "postgresql":
        return []
    q = schema  # a name from the migration's connection, never from a request
    return [
        f"CREATE OR REPLACE FUNCTION {q}.audit_entry_txid() RETURNS trigger LANGUAGE plpgsql\n"
        f"SET search_path = {q}, pg_temp AS $$\n"
        "BEGIN\n"
        "    NEW.txid := pg_catalog.txid_current();\n"
        "    RETURN NEW;\n"
        "END\n"
        "$$",
        f"CREATE OR REPLACE FUNCTION {q}.audit_chain_commit() RETURNS trigger LANGUAGE plpgsql\n"  # noqa: S608 (no input)
        f"SECURITY DEFINER SET search_path = {q}, pg_temp AS $$\n"
        "DECLARE\n"
        "    head_sequence bigint;\n"
        "    head_hash text;\n"
        "    before_hash text;\n"
        "    waiting record;\n"
        "BEGIN\n"
        f"    IF EXISTS (SELECT 1 FROM {q}.audit_chainlink WHERE entry_id = NEW.id) THEN\n"
        "        RETURN NULL;  -- an earlier firing in this transaction chained it\n"
        "    END IF;\n"
        "    SELECT h.sequence, h.entry_hash INTO head_sequence, head_hash\n"
        f"      FROM {q}.audit_chainhead h WHERE h.id = 1 FOR UPDATE;\n"
        "    FOR waiting IN\n"
        f"        SELECT e.id, e.digest FROM {q}.audit_logentry e\n"
        "         WHERE e.txid = NEW.txid\n"
        f"           AND NOT EXISTS (SELECT 1 FROM {q}.audit_chainlink l WHERE l.entry_id = e.id)\n"
        "         ORDER BY e.id\n"
        "    LOOP\n"
        "        IF waiting.digest IS NULL OR waiting.digest !~ '^[0-9a-f]{64}$' THEN\n"
        "            RAISE EXCEPTION 'audit entry % carries no content digest', waiting.id\n"
        "                USING ERRCODE = 'integrity_constraint_violation';\n"
        "        END IF;\n"
        "        head_sequence := head_sequence + 1;\n"
        "        before_hash := head_hash;\n"
        "        head_hash := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(\n"
        "            before_hash || '[' || head_sequence::text || ',\"'\n"
        "            || waiting.digest || '\"]',\n"
        "            'UTF8')), 'hex');\n"
        f"        INSERT INTO {q}.audit_chainlink (sequence, entry_id, prev_hash, entry_hash)\n"
        "        VALUES (head_sequence, waiting.id, before_hash, head_hash);\n"
        "    END LOOP;\n"
        "    IF before_hash IS NOT NULL THEN\n"
        f"        UPDATE {q}.audit_chainhead\n"
        "           SET sequence = head_sequence, prev_hash = before_hash, entry_hash = head_hash\n"
        "         WHERE id = 1;\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$$",
        *(f"REVOKE ALL ON FUNCTION {q}.{name}() FROM PUBLIC" for name in CHAIN_FUNCTIONS),
        f"CREATE TRIGGER audit_logentry_txid BEFORE INSERT ON {q}.audit_logentry "
        f"FOR EACH ROW EXECUTE FUNCTION {q}.audit_entry_txid()",
        f"CREATE CONSTRAINT TRIGGER audit_logentry_chain AFTER INSERT ON {q}.audit_logentry "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {q}.audit_chain_commit()",
    ]


def chain_drop_statements(vendor: str, schema: str = "public") -> list[str]:
    if vendor != "postgresql":
        return []
    return [
        f"DROP TRIGGER IF EXISTS audit_logentry_chain ON {schema}.audit_logentry",
        f"DROP TRIGGER IF EXISTS audit_logentry_txid ON {schema}.audit_logentry",
        *(f"DROP FUNCTION IF EXISTS {schema}.{name}()" for name in CHAIN_FUNCTIONS),
    ]


ACCESS = 3  # audit.models.Action.ACCESS (django-auditlog's), fixed in the stored log


def index_create_statements(vendor: str, schema: str = "public") -> list[str]:
    """A trigger that indexes each ACCESS entry as it is inserted: one `audit_accessindex` row
    per record of its `additional_data["read"]` (`[{"type": "app.model", "id": ..., "fields":
    [...]}, ...]`), in the writer's statement and transaction, so no writer can leave one out.
    A type with no content type gives no row, which `audit_verify` reports."""
    if vendor == "postgresql":
        q = schema
        return [
            f"CREATE OR REPLACE FUNCTION {q}.audit_index_reads() RETURNS trigger "  # noqa: S608
            f"LANGUAGE plpgsql SET search_path = {q}, pg_temp AS $$\n"
            "BEGIN\n"
            f"    INSERT INTO {q}.audit_accessindex (entry_id, content_type_id, object_pk)\n"
            "    SELECT NEW.id, ct.id, r.value ->> 'id'\n"
            "      FROM pg_catalog.jsonb_array_elements(NEW.additional_data -> 'read')\n"
            "           AS r(value)\n"
            f"      JOIN {q}.django_content_type ct\n"
            "        ON ct.app_label || '.' || ct.model = r.value ->> 'type';\n"
            "    RETURN NULL;\n"
            "END\n"
            "$$",
            f"CREATE TRIGGER audit_logentry_index_reads AFTER INSERT ON {q}.audit_logentry "
            f"FOR EACH ROW WHEN (NEW.action = {ACCESS} AND "
            "pg_catalog.jsonb_typeof(NEW.additional_data -> 'read') = 'array') "
            f"EXECUTE FUNCTION {q}.audit_index_reads()",
        ]
    if vendor == "sqlite":
        return [
            "CREATE TRIGGER audit_logentry_index_reads AFTER INSERT ON audit_logentry "  # noqa: S608
            f"WHEN NEW.action = {ACCESS} "
            "AND json_type(NEW.additional_data, '$.read') = 'array' BEGIN "
            "INSERT INTO audit_accessindex (entry_id, content_type_id, object_pk) "
            "SELECT NEW.id, ct.id, json_extract(r.value, '$.id') "
            "FROM json_each(NEW.additional_data, '$.read') AS r "
            "JOIN django_content_type ct "
            "ON ct.app_label || '.' || ct.model = json_extract(r.value, '$.type'); END"
        ]
    raise NotImplementedError(f"No read index for the {vendor} database.")


def index_drop_statements(vendor: str, schema: str = "public") -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS audit_logentry_index_reads ON {schema}.audit_logentry",
            f"DROP FUNCTION IF EXISTS {schema}.audit_index_reads()",
        ]
    return ["DROP TRIGGER IF EXISTS audit_logentry_index_reads"]
