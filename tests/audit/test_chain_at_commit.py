"""Entries are chained when their transaction commits: the chain's order is the commit order,
with no gap; nothing is left by a rollback; the entries of a block are one write; and a commit
with entries not yet written fails."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import User
from audit import writes
from audit.events import record_event
from audit.exceptions import AuditError
from audit.models import Action, ChainHead, ChainLink, LogEntry
from audit.verify import verify_chain
from tests.concurrency import run_at_once

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite lets one transaction write at a time"
)


def _event(marker: str) -> LogEntry:
    return record_event(
        action=Action.LOGIN_FAILED, instance=None, model=User, data={"marker": marker}
    )


def _chain_markers() -> list[str]:
    entries = LogEntry.objects.filter(action=Action.LOGIN_FAILED).order_by("sequence")
    return [entry.additional_data["marker"] for entry in entries]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_holds_nothing_and_the_chain_follows_the_commit_order():
    """The first writer records its entry and keeps its transaction open: a second writer
    records, commits and is chained meanwhile (the head is not held during the work), and the
    first, committing last, is chained last although its entry was inserted first."""
    first_wrote, second_done = threading.Event(), threading.Event()
    waited = []

    def first() -> int:
        with transaction.atomic():
            entry = _event("first")
            first_wrote.set()
            started = time.monotonic()
            second_done.wait(timeout=20)
            waited.append(time.monotonic() - started)
        return entry.pk

    def second() -> int:
        first_wrote.wait(timeout=20)
        with transaction.atomic():
            entry = _event("second")
        second_done.set()
        return entry.pk

    first_id, second_id = run_at_once(first, second)

    assert waited[0] < 15  # the second writer was never blocked by the first's open transaction
    assert first_id < second_id  # inserted first ...
    assert _chain_markers() == ["second", "first"]  # ... chained in commit order
    result = verify_chain()
    assert result.ok, result.first_break


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_eight_writers_at_once_make_one_chain_in_commit_order_with_no_gap():
    """Each writer, in real threads, commits entries and notes the head it sees right after
    its commit: that head is its own last entry or later, and every entry's sequence follows
    the order in which the commits happened (each commit's entries are consecutive)."""
    writers, transactions_each, entries_each = 8, 6, 3
    committed: list[tuple[str, int]] = []  # (transaction, head sequence seen after its commit)
    lock = threading.Lock()

    def writer(n: int):
        def write() -> None:
            for t in range(transactions_each):
                name = f"w{n}t{t}"
                with transaction.atomic():
                    for e in range(entries_each):
                        _event(f"{name}e{e}")
                        time.sleep(random.uniform(0, 0.002))  # noqa: S311 (scheduling only)
                head = ChainHead.objects.get(pk=1).sequence
                with lock:
                    committed.append((name, head))

        return write

    run_at_once(*(writer(n) for n in range(writers)))

    links = list(ChainLink.objects.order_by("sequence").values_list("sequence", flat=True))
    assert links == list(range(1, writers * transactions_each * entries_each + 1))
    markers = _chain_markers()
    position = {marker: index + 1 for index, marker in enumerate(markers)}
    for name, head_after in committed:
        sequences = [position[f"{name}e{e}"] for e in range(entries_each)]
        # A transaction's entries are chained together, in the order it wrote them ...
        assert sequences == list(range(sequences[0], sequences[0] + entries_each))
        # ... and were on the chain by the time its commit returned.
        assert sequences[-1] <= head_after
    result = verify_chain()
    assert result.ok, result.first_break


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_entry_no_link_and_the_head_unmoved():
    with transaction.atomic():
        _event("kept")
    head = ChainHead.objects.get(pk=1)

    def fails() -> None:
        with transaction.atomic():
            _event("lost")
            with writes.atomic():
                _event("lost too")
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        fails()

    assert _chain_markers() == ["kept"]
    assert ChainLink.objects.count() == LogEntry.objects.count()
    after = ChainHead.objects.get(pk=1)
    assert (after.sequence, after.entry_hash) == (head.sequence, head.entry_hash)
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_the_entries_of_a_block_are_one_insert_at_its_end():
    statements: list[str] = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count), writes.atomic():
        for n in range(5):
            _event(f"n{n}")
        assert not LogEntry.objects.filter(action=Action.LOGIN_FAILED).exists()  # waiting
        statements.clear()
    # On PostgreSQL through the statement prepared for five entries (PREPARE, the first time
    # this connection writes five, declares it and writes nothing).
    inserts = [
        sql
        for sql in statements
        if sql.startswith(("INSERT INTO audit_logentry", 'INSERT INTO "audit_logentry"'))
        or sql.startswith("EXECUTE audit_append_")
    ]

    assert len(inserts) == 1
    assert _chain_markers() == [f"n{n}" for n in range(5)]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_entries_of_a_rolled_back_savepoint_are_dropped_the_others_kept():
    def part_fails() -> None:
        with transaction.atomic():
            _event("in the savepoint")
            raise RuntimeError("this part fails")

    with writes.atomic():
        _event("before")
        with pytest.raises(RuntimeError):
            part_fails()
        _event("after")

    assert _chain_markers() == ["before", "after"]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_commit_with_entries_not_yet_written_fails_and_rolls_back():
    """However a transaction is committed, it cannot leave entries behind: here one is held by
    a block that is still open when the transaction commits underneath it."""
    with transaction.atomic():
        User.objects.create(username="before-the-guard")
    mark = LogEntry.objects.count()

    def commit_with_one_held() -> None:
        with transaction.atomic():
            User.objects.filter(username="before-the-guard").update(is_active=False)
            real = transaction.get_connection()
            real.__dict__["_audit_depth"] = 1  # as inside writes.atomic()
            try:
                _event("held")
            finally:
                real.__dict__["_audit_depth"] = 0

    with pytest.raises(AuditError, match="not yet written"):
        commit_with_one_held()

    assert User.objects.get(username="before-the-guard").is_active  # rolled back
    assert LogEntry.objects.count() == mark
    assert not LogEntry.objects.filter(action=Action.LOGIN_FAILED).exists()


@pytest.mark.django_db(transaction=True)
def test_entries_are_written_whatever_the_count_and_across_a_new_connection():
    """PostgreSQL writes up to PREPARED_UP_TO entries through a statement prepared once per
    session: a new session prepares its own, and more entries take a plain INSERT."""
    from audit.models import PREPARED_UP_TO

    counts = (1, 3, PREPARED_UP_TO, PREPARED_UP_TO + 1, 1)
    for round_, count in enumerate(counts):
        with writes.atomic():
            for n in range(count):
                _event(f"r{round_}-{n}")
        connection.close()  # the next round runs in a new database session

    assert _chain_markers() == [f"r{r}-{n}" for r, count in enumerate(counts) for n in range(count)]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_member_of_staff_the_log_names_cannot_be_deleted_even_by_sql():
    """Django's PROTECT refuses, and so does the database: an entry keeps its foreign key to
    its actor (the application's role may delete staff rows), so nobody can remove the name
    behind what was done. The staff row here is named by the log alone."""
    from django.db import IntegrityError
    from django.db.models import ProtectedError

    with writes.atomic():
        user = User.objects.create_user("named-in-the-log")
        record_event(action=Action.LOGIN, instance=user, model=User, data={}, actor=user)

    with pytest.raises(ProtectedError) as refused:
        user.delete()
    assert any(isinstance(o, LogEntry) for o in refused.value.protected_objects)
    stored_id = User._meta.pk.get_db_prep_value(user.pk, connection)
    with (
        pytest.raises(IntegrityError) as refused_by_sql,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [stored_id])
    if connection.vendor == "postgresql":
        assert "audit_logentry" in str(refused_by_sql.value)

    assert User.objects.filter(pk=user.pk).exists()
    assert verify_chain().ok


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_prepared_statements_survive_a_lost_record_and_recover_from_a_discard():
    """The connection's record of its prepared statements can disagree with the session: a
    statement the record forgot is found and used (not prepared twice, which PostgreSQL
    refuses); one the session dropped (DEALLOCATE or DISCARD) fails one transaction, which
    rolls back whole, and the next prepares it again."""
    from audit.models import forget_prepared

    with writes.atomic():
        _event("first")
    forget_prepared(connection)
    with writes.atomic():
        _event("record lost, statement kept")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError), writes.atomic():
        _event("statement dropped")
    with writes.atomic():
        _event("prepared again")

    assert _chain_markers() == ["first", "record lost, statement kept", "prepared again"]
    assert ChainLink.objects.count() == LogEntry.objects.count()
    assert verify_chain().ok
