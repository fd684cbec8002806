"""PostgreSQL: the role the application runs as cannot change, delete or unprotect entries."""

from __future__ import annotations

import io
import secrets

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

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
]


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
        cursor.execute("SELECT count(*), max(sequence) FROM audit_logentry")
        before = cursor.fetchone()
        with pytest.raises(psycopg2.Error) as refused:
            cursor.execute(statement)
        app_role.rollback()
        cursor.execute("SELECT count(*), max(sequence) FROM audit_logentry")
        assert cursor.fetchone() == before
    assert refused.value.pgcode in {"42501", "55000"} or "must be owner" in str(refused.value)


def test_the_app_role_can_read_and_append(app_role):
    with app_role.cursor() as cursor:
        cursor.execute("SELECT sequence, entry_hash FROM audit_logentry ORDER BY sequence DESC")
        assert cursor.fetchone() is not None
        cursor.execute("SELECT sequence FROM audit_chainhead WHERE id = 1 FOR UPDATE")
        cursor.execute("UPDATE audit_chainhead SET sequence = sequence WHERE id = 1")
        cursor.execute(
            "INSERT INTO audit_logentry (sequence, prev_hash, entry_hash, content_type_id, "
            "object_pk, object_repr, action, changes_text, timestamp, chain_version) "
            "SELECT max(sequence) + 1, '', '', min(content_type_id), '', '', 3, '', now(), 2 "
            "FROM audit_logentry"
        )
    app_role.rollback()
