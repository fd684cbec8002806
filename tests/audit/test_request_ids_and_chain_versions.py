"""Request ids the server gives (and the client's own, kept only when safe), and the chain's
versions: the client's id joined the hash in version 2, and a log written before still
verifies, through the migration that added it, with its append-only triggers intact."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from audit.chain import CHAIN_VERSION, GENESIS_HASH, entry_hash_of
from audit.events import record_event
from audit.models import Action, LogEntry
from audit.triggers import APPEND_ONLY_TABLES, TABLES_BEFORE_LINKS
from audit.verify import verify_chain
from tests.audit.helpers import ENTRY_AT, owner_without_triggers

BEFORE_VERSION_2 = ("audit", "0003_actions_for_keys_and_people")
AT_2 = ENTRY_AT.replace("%s", "2")  # the entry at sequence 2


def entries_of(response) -> list[LogEntry]:
    return list(LogEntry.objects.filter(cid=response["X-Request-ID"]).order_by("sequence"))


# --- Request ids -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_request_id_is_the_servers_whatever_the_client_sends(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff()
    client = client_for(admin)
    earlier = client.post(
        f"/api/v1/staff/{target.user.pk}/revoke-tokens/", {"otp": admin.fresh_totp()}
    )

    # Reusing another request's id must not make this request's entries look like that one's.
    reused = client.post(
        f"/api/v1/staff/{target.user.pk}/revoke-tokens/",
        {"otp": admin.fresh_totp()},
        HTTP_X_REQUEST_ID=earlier["X-Request-ID"],
    )

    assert reused["X-Request-ID"] != earlier["X-Request-ID"]
    assert entries_of(reused)
    assert {entry.client_request_id for entry in entries_of(reused)} == {earlier["X-Request-ID"]}
    assert {entry.cid for entry in entries_of(earlier)} == {earlier["X-Request-ID"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("retry-7.a_B", "retry-7.a_B"),
        ("x", "x"),
        ("a" * 64, "a" * 64),
        ("a" * 65, None),
        ("two words", None),
        ("ünïcode", None),
        ("Иван Ёлкин +7 928 000-00-00", None),
        ("id\n", None),
        ("<script>", None),
    ],
)
def test_the_clients_request_id_is_kept_only_when_it_is_safe(make_staff, client_for, sent, kept):
    admin, target = make_staff("admin"), make_staff()

    response = client_for(admin).post(
        f"/api/v1/staff/{target.user.pk}/revoke-tokens/",
        {"otp": admin.fresh_totp()},
        HTTP_X_REQUEST_ID=sent,
    )

    assert response.status_code == 200
    assert {entry.client_request_id for entry in entries_of(response)} == {kept}


@pytest.mark.django_db
def test_an_auditor_finds_a_requests_entries_by_either_id(make_staff, client_for):
    admin, target, auditor = make_staff("admin"), make_staff(), make_staff("auditor")
    response = client_for(admin).post(
        f"/api/v1/staff/{target.user.pk}/revoke-tokens/",
        {"otp": admin.fresh_totp()},
        HTTP_X_REQUEST_ID="laptop-42",
    )
    reader = client_for(auditor)

    by_server = reader.get("/api/v1/audit/entries/", {"request_id": response["X-Request-ID"]})
    by_client = reader.get("/api/v1/audit/entries/", {"client_request_id": "laptop-42"})

    expected = {entry.sequence for entry in entries_of(response)}
    assert {row["sequence"] for row in by_server.json()["results"]} == expected
    assert {row["sequence"] for row in by_client.json()["results"]} == expected
    assert by_client.json()["results"][0]["client_request_id"] == "laptop-42"


# --- Versions of the chain ---------------------------------------------------------------------


@pytest.mark.django_db
def test_entries_are_written_with_the_current_version_and_verify(make_staff):
    make_staff()

    assert set(LogEntry.objects.values_list("chain_version", flat=True)) == {CHAIN_VERSION}
    assert verify_chain().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tampering",
    [
        f"UPDATE audit_logentry SET client_request_id = 'someone-else' WHERE id = {AT_2}",
        # Passed off as version 1, whose hash does not cover the client's id.
        f"UPDATE audit_logentry SET chain_version = 1 WHERE id = {AT_2}",
        # Passed off as version 2, hashed with its sequence and without a digest.
        f"UPDATE audit_logentry SET chain_version = 2 WHERE id = {AT_2}",
        f"UPDATE audit_logentry SET chain_version = 4 WHERE id = {AT_2}",
    ],
)
def test_the_clients_id_and_the_version_are_covered_by_the_hash(make_staff, client_for, tampering):
    admin = make_staff("admin")
    client_for(admin).post(
        f"/api/v1/staff/{admin.user.pk}/revoke-tokens/",
        {"otp": admin.fresh_totp()},
        HTTP_X_REQUEST_ID="mine",
    )
    with owner_without_triggers() as cursor:
        cursor.execute(f"UPDATE audit_logentry SET client_request_id = 'mine' WHERE id = {AT_2}")
    assert not verify_chain().ok  # a field of version 2 is covered ...
    with owner_without_triggers() as cursor:
        cursor.execute(f"UPDATE audit_logentry SET client_request_id = NULL WHERE id = {AT_2}")
    assert verify_chain().ok
    with owner_without_triggers() as cursor:
        cursor.execute(tampering)

    result = verify_chain()

    assert not result.ok
    assert result.first_break.sequence == 2


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(target)


def _write_version_1_entries(count: int) -> str:
    """Entries as the code before version 2 wrote them (the columns of migration 0003, the
    version 1 hash), through SQL, since today's model has columns that table has not."""
    content_type = ContentType.objects.get_for_model(User).pk
    prev = GENESIS_HASH
    moment = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)
    with connection.cursor() as cursor:
        for sequence in range(1, count + 1):
            at = moment + datetime.timedelta(minutes=sequence)
            data = {"fields": ["full_name"], "n": sequence}
            values = [
                sequence, at, Action.ACCESS, content_type, f"pk-{sequence}", None,
                f"entry {sequence}", None, "", None, data,
                None, None, f"cid-{sequence}", "192.0.2.7", None,
            ]  # fmt: skip
            entry_hash = entry_hash_of(prev, values)
            cursor.execute(
                "INSERT INTO audit_logentry (sequence, prev_hash, entry_hash, timestamp, action, "
                "content_type_id, object_pk, object_repr, changes_text, additional_data, cid, "
                "remote_addr) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', %s, %s, %s)",
                [
                    sequence,
                    prev,
                    entry_hash,
                    connection.ops.adapt_datetimefield_value(at),
                    Action.ACCESS,
                    content_type,
                    f"pk-{sequence}",
                    f"entry {sequence}",
                    json.dumps(data),
                    f"cid-{sequence}",
                    "192.0.2.7",
                ],
            )
            prev_hash, prev = prev, entry_hash
        cursor.execute(
            "UPDATE audit_chainhead SET sequence = %s, prev_hash = %s, entry_hash = %s",
            [count, prev_hash, prev],
        )
    return prev


_COLUMN = {
    "audit_logentry": "action",
    "audit_chainlink": "sequence",
    "audit_accessindex": "object_pk",
    "audit_checkpoint": "sequence",
}


def _refusals(tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    """The changes the append-only triggers refused (each tried in its own transaction), on
    tables that hold a row each (a row trigger does not fire for an UPDATE that finds none).
    Each UPDATE names a column the table has in every version, so only a trigger refuses it."""
    call_command("audit_checkpoint", stdout=io.StringIO())
    statements = [
        *(f"UPDATE {table} SET {_COLUMN[table]} = {_COLUMN[table]}" for table in tables),
        *(f"DELETE FROM {table}" for table in tables),
    ]
    if connection.vendor == "postgresql":
        statements += [f"TRUNCATE {table}" for table in tables]
    refused = []
    for statement in statements:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        except DatabaseError:
            refused.append(statement)
    return refused


@pytest.mark.django_db(transaction=True)
def test_a_log_written_before_version_2_verifies_after_the_migration_and_stays_append_only():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("audit")
    _migrate([BEFORE_VERSION_2])
    head = _write_version_1_entries(5)

    _migrate(latest)

    assert (
        list(LogEntry.objects.values_list("chain_version", "client_request_id")) == [(1, None)] * 5
    )
    before = verify_chain()
    assert (before.ok, before.entries, before.head_hash) == (True, 5, head)
    with transaction.atomic():
        record_event(action=Action.LOGIN_FAILED, instance=None, model=User)
    after = verify_chain()
    assert (after.ok, after.entries) == (True, 6)
    assert LogEntry.objects.get(sequence=6).chain_version == CHAIN_VERSION
    # The triggers went with SQLite's rebuilt table; the migration put them back.
    assert len(_refusals()) == (12 if connection.vendor == "postgresql" else 8)
    assert LogEntry.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_the_migration_back_keeps_the_log_append_only_too():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("audit")

    _migrate([BEFORE_VERSION_2])
    try:
        _write_version_1_entries(2)
        assert len(_refusals(TABLES_BEFORE_LINKS)) == (
            6 if connection.vendor == "postgresql" else 4
        )
    finally:
        _migrate(latest)
    assert len(_refusals()) == (12 if connection.vendor == "postgresql" else 8)
    # SQLite rebuilt the entry table on the way back and forth (0008, 0010): the trigger that
    # fills the read index came back with it.
    assert _read_index_triggers() == 1


def _read_index_triggers() -> int:
    catalogue = (
        "SELECT count(*) FROM pg_trigger WHERE tgname = %s"
        if connection.vendor == "postgresql"
        else "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(catalogue, ["audit_logentry_index_reads"])
        return cursor.fetchone()[0]
