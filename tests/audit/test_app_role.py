"""PostgreSQL: the role the application runs as cannot change, delete or unprotect entries."""

from __future__ import annotations

import io
import secrets

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from audit.chain import link_hash_of
from audit.models import ChainHead, LogEntry

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="database roles and privileges: PostgreSQL only"
    ),
]

REFUSED = [
    "UPDATE audit_logentry SET object_repr = 'rewritten'",
    "DELETE FROM audit_logentry",
    "TRUNCATE audit_logentry",
    "ALTER TABLE audit_logentry DISABLE TRIGGER ALL",
    "ALTER TABLE audit_logentry DISABLE TRIGGER audit_logentry_append_only",
    "DROP TRIGGER audit_logentry_append_only ON audit_logentry",
    "DROP TABLE audit_logentry",
    "SET session_replication_role = replica",
    "UPDATE audit_checkpoint SET entry_hash = 'x'",
    # The chain is the owner's function's to write: the app can neither rewind the head nor
    # write, rewrite or remove a link, nor take the function over.
    "UPDATE audit_chainhead SET sequence = 0",
    "INSERT INTO audit_chainlink (sequence, entry_id, prev_hash, entry_hash) "
    "SELECT max(sequence) + 1, max(entry_id), '', '' FROM audit_chainlink",
    "UPDATE audit_chainlink SET entry_hash = 'x'",
    "DELETE FROM audit_chainlink",
    "TRUNCATE audit_chainlink",
    "ALTER TABLE audit_logentry DISABLE TRIGGER audit_logentry_chain",
    "DROP TRIGGER audit_logentry_chain ON audit_logentry",
    "CREATE OR REPLACE FUNCTION audit_chain_commit() RETURNS trigger LANGUAGE sql AS 'SELECT NULL'",
]
# Another app's append-only table: refused by privilege, not only by its trigger. And the
# content types the log's entries and read index name by id (with no foreign key): renumbered,
# renamed or removed, they would hide a type's entries from the auditors' lists.
REFUSED_ELSEWHERE = [
    "UPDATE funds_referencerate SET rate = rate * 100",
    "DELETE FROM funds_referencerate",
    "TRUNCATE funds_referencerate",
    "ALTER TABLE funds_referencerate DISABLE TRIGGER funds_referencerate_append_only",
    "UPDATE django_content_type SET id = id + 100000 WHERE app_label = 'accounts'",
    "UPDATE django_content_type SET model = 'renamed' WHERE app_label = 'accounts'",
    "DELETE FROM django_content_type WHERE app_label = 'accounts'",
    "TRUNCATE django_content_type CASCADE",
]
# One new entry, as any writer of the log inserts it (chained by the database when it commits).
APPEND = (
    "INSERT INTO audit_logentry (content_type_id, object_pk, object_repr, action, changes_text, "
    "timestamp, chain_version, digest) "
    "SELECT min(content_type_id), '', 'appended', 3, '', now(), 3, %s FROM audit_logentry"
)
COUNT = (
    "SELECT count(*), max(sequence) FROM audit_logentry e "
    "JOIN audit_chainlink l ON l.entry_id = e.id"
)


@pytest.fixture
def app_role(make_staff):
    make_staff()  # some entries to attack
    role = f"safe_passage_app_{secrets.token_hex(4)}"
    call_command("audit_app_role", role, stdout=io.StringIO())
    settings = connection.settings_dict
    app = psycopg2.connect(
        dbname=settings["NAME"],
        user=role,
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )
    yield app
    app.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("statement", REFUSED)
def test_the_app_role_cannot_change_or_unprotect_the_log(app_role, statement):
    with app_role.cursor() as cursor:
        cursor.execute(COUNT)
        before = cursor.fetchone()
        with pytest.raises(psycopg2.Error) as refused:
            cursor.execute(statement)
        app_role.rollback()
        cursor.execute(COUNT)
        assert cursor.fetchone() == before
    assert refused.value.pgcode in {"42501", "55000"} or "must be owner" in str(refused.value)


@pytest.mark.parametrize("statement", REFUSED_ELSEWHERE)
def test_the_app_role_has_no_right_to_change_other_append_only_tables(app_role, statement):
    with app_role.cursor() as cursor:
        with pytest.raises(psycopg2.Error) as refused:
            cursor.execute(statement)
        app_role.rollback()
    # 42501: insufficient privilege (the trigger's own refusal would be another code).
    assert refused.value.pgcode == "42501" or "must be owner" in str(refused.value)


def test_the_app_role_may_still_add_a_content_type(app_role):
    """Django adds the type of a model it meets for the first time; adding renames nothing."""
    with app_role.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_content_type (app_label, model) VALUES ('bench', 'added')"
        )
    app_role.commit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_content_type WHERE model = 'added'")
        assert cursor.fetchone() == (1,)


def test_the_app_role_can_read_and_append_and_the_database_chains_at_commit(app_role):
    with app_role.cursor() as cursor:
        cursor.execute("SELECT sequence, entry_hash FROM audit_chainhead WHERE id = 1")
        head_sequence, head_hash = cursor.fetchone()
        cursor.execute(APPEND, ["a" * 64])
    app_role.commit()

    with app_role.cursor() as cursor:
        cursor.execute(
            "SELECT l.sequence, l.prev_hash, l.entry_hash FROM audit_chainlink l "
            "JOIN audit_logentry e ON e.id = l.entry_id WHERE e.object_repr = 'appended'"
        )
        link = cursor.fetchone()
        cursor.execute("SELECT sequence, entry_hash FROM audit_chainhead WHERE id = 1")
        head = cursor.fetchone()
    assert link == (head_sequence + 1, head_hash, link_hash_of(head_hash, link[0], "a" * 64))
    assert head == (link[0], link[2])


def test_a_temporary_table_of_the_callers_cannot_stand_in_for_the_head_or_the_links(app_role):
    """The chaining function's search_path is pinned (its schema, then pg_temp) and it names
    its tables with their schema: tables the caller creates in pg_temp are never used."""
    with app_role.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE audit_chainhead (id int, sequence bigint, prev_hash text, "
            "entry_hash text)"
        )
        cursor.execute("INSERT INTO audit_chainhead VALUES (1, 0, '', '')")
        cursor.execute("CREATE TEMP TABLE audit_chainlink (LIKE public.audit_chainlink)")
        cursor.execute("SET search_path = pg_temp, public")
        cursor.execute(APPEND, ["b" * 64])
    app_role.commit()

    with app_role.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_temp.audit_chainlink")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT sequence FROM pg_temp.audit_chainhead")
        assert cursor.fetchone() == (0,)
    appended = LogEntry.objects.get(object_repr="appended")
    head = ChainHead.objects.get()
    assert (appended.sequence, appended.entry_hash) == (head.sequence, head.entry_hash)
    assert appended.entry_hash == link_hash_of(appended.prev_hash, appended.sequence, "b" * 64)


def test_a_digest_that_is_not_one_fails_the_commit(app_role):
    with app_role.cursor() as cursor:
        cursor.execute(APPEND, ["not a digest"])
        with pytest.raises(psycopg2.Error, match="carries no content digest"):
            app_role.commit()
    assert not LogEntry.objects.filter(object_repr="appended").exists()


def test_only_the_app_role_may_call_the_chaining_functions(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE'), "
            "p.prosecdef, p.proconfig FROM pg_proc p "
            "WHERE p.proname IN ('audit_chain_commit', 'audit_entry_txid') ORDER BY p.proname"
        )
        rows = cursor.fetchall()
    assert [(name, public) for name, public, _definer, _config in rows] == [
        ("audit_chain_commit", False),
        ("audit_entry_txid", False),
    ]
    assert rows[0][2] is True  # SECURITY DEFINER
    assert rows[0][3] == ["search_path=public, pg_temp"]
