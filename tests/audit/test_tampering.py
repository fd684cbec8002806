"""The log as an attacker with database access would attack it, and what verification says."""

from __future__ import annotations

import functools
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import ChainLink, LogEntry
from audit.verify import verify_chain
from tests.audit.helpers import ENTRY_AT, delete_entries, entry_sequences, owner_without_triggers

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(make_staff) -> list[int]:
    """A few dozen real entries: two staff members created, one deactivated."""
    make_staff("caseworker")
    other = make_staff("coordinator")
    with transaction.atomic():
        other.user.is_active = False
        other.user.save(update_fields=["is_active"])
    sequences = entry_sequences()
    assert len(sequences) > 20
    assert verify_chain().ok
    return sequences


@pytest.fixture(params=[None, 4], ids=["one-slice", "slices-of-4"])
def verify(request):
    """verify_chain in one slice, and in many small ones (the parallel path's unit of work),
    which must name the same first break."""
    if request.param is None:
        return verify_chain
    return functools.partial(verify_chain, slice_size=request.param)


def verify_command() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_an_intact_chain_verifies(chain, verify):
    result = verify()

    assert result.ok
    assert result.entries == len(chain)
    assert result.head_sequence == chain[-1]
    assert "Audit chain OK" in verify_command()


def test_an_altered_entry_is_named(chain, verify):
    target = chain[7]
    with owner_without_triggers() as cursor:
        cursor.execute(
            f"UPDATE audit_logentry SET object_repr = 'nothing to see' WHERE id = {ENTRY_AT}",
            [target],
        )

    result = verify()

    assert result.first_break.sequence == target
    assert "altered" in result.first_break.problem
    with pytest.raises(CommandError, match=f"BROKEN at entry {target} .*altered"):
        verify_command()


def test_a_deleted_entry_is_named_as_a_gap(chain, verify):
    target = chain[5]
    with owner_without_triggers() as cursor:
        delete_entries(cursor, "sequence = %s", [target])

    result = verify()

    assert result.first_break.sequence == target
    assert f"sequence {target} is missing" in result.first_break.problem


def test_swapped_entries_are_named(chain, verify):
    first, second = chain[3], chain[9]
    with owner_without_triggers() as cursor:
        parked = 10**12
        swap = "UPDATE audit_chainlink SET sequence = %s WHERE sequence = %s"
        cursor.execute(swap, [parked, first])
        cursor.execute(swap, [first, second])
        cursor.execute(swap, [second, parked])

    result = verify()

    assert result.first_break.sequence == first
    assert not result.ok


def test_a_forged_entry_with_a_wrong_hash_is_named(chain, verify):
    last = LogEntry.objects.get(sequence=chain[-1])
    forged = chain[-1] + 1
    with owner_without_triggers() as cursor:
        cursor.execute(
            "INSERT INTO audit_logentry (content_type_id, object_pk, object_repr, action, "
            "changes_text, timestamp, chain_version, digest) "
            "VALUES (%s, 'x', 'forged', 1, '', %s, 3, %s)",
            [last.content_type_id, last.timestamp, "e" * 64],
        )
        cursor.execute(
            "INSERT INTO audit_chainlink (sequence, entry_id, prev_hash, entry_hash) "
            "SELECT %s, max(id), %s, %s FROM audit_logentry",
            [forged, last.entry_hash, "f" * 64],
        )
        cursor.execute(
            "UPDATE audit_chainhead SET sequence = %s, entry_hash = %s", [forged, "f" * 64]
        )

    result = verify()

    assert result.first_break.sequence == forged
    assert "altered" in result.first_break.problem


def test_a_cut_tail_is_noticed_through_the_chain_head(chain, verify):
    with owner_without_triggers() as cursor:
        delete_entries(cursor, "sequence >= %s", [chain[-3]])

    result = verify()

    assert result.first_break.sequence == chain[-3]
    assert "missing" in result.first_break.problem


# SQLite has no TRUNCATE: emptying a table is DELETE FROM, refused by the same trigger.
TRUNCATE = (
    # CASCADE: the links refer to the entries, and would refuse a plain TRUNCATE anyway.
    "TRUNCATE audit_logentry CASCADE"
    if connection.vendor == "postgresql"
    else "DELETE FROM audit_logentry"
)


@pytest.mark.django_db(transaction=True)  # committed rows, as in production
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_logentry SET object_repr = 'rewritten'",
        "DELETE FROM audit_logentry",
        f"DELETE FROM audit_logentry WHERE id = {ENTRY_AT.replace('%s', '1')}",
        TRUNCATE,
        "UPDATE audit_chainlink SET entry_hash = 'rewritten'",
        "UPDATE audit_chainlink SET sequence = sequence + 1000",
        "DELETE FROM audit_chainlink WHERE sequence = 1",
        TRUNCATE.replace("audit_logentry", "audit_chainlink").replace(" CASCADE", ""),
    ],
)
def test_the_database_refuses_to_change_delete_or_truncate_entries(chain, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert entry_sequences() == chain


def test_the_orm_cannot_rewrite_entries_either(chain):
    entry = LogEntry.objects.get(sequence=chain[0])

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(object_repr="rewritten")
    # Django refuses first (the entry's link protects it); without Django's check, the database.
    with pytest.raises(DatabaseError, match="protected foreign keys"), transaction.atomic():
        entry.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk)._raw_delete(connection.alias)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChainLink.objects.filter(sequence=chain[0]).update(entry_hash="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChainLink.objects.filter(sequence=chain[-1]).delete()


def test_a_gap_at_a_slice_boundary_is_named(chain):
    with owner_without_triggers() as cursor:
        delete_entries(cursor, "sequence IN (8, 9)", [])

    result = verify_chain(slice_size=4)  # slices 5-8 and 9-12 both lose their edge

    assert result.first_break.sequence == 8
    assert "missing" in result.first_break.problem


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_name_the_same_first_break(make_staff):
    for _ in range(3):
        make_staff()
    sequences = entry_sequences()
    target = sequences[len(sequences) // 2]

    assert len(sequences) >= 4 * 5  # enough slices for the workers to start
    intact = verify_chain(workers=2, slice_size=5)
    with owner_without_triggers() as cursor:
        cursor.execute(f"UPDATE audit_logentry SET cid = 'forged' WHERE id = {ENTRY_AT}", [target])
    broken = verify_chain(workers=2, slice_size=5)

    assert intact.ok
    assert intact.entries == len(sequences)
    assert broken.first_break.sequence == target
    assert broken.first_break == verify_chain().first_break


def test_entries_appended_while_verifying_are_not_mistaken_for_tampering(chain, make_staff):
    appended = []

    def append_meanwhile(done: int) -> None:
        if not appended:
            appended.append(make_staff())  # another request commits while this one verifies

    result = verify_chain(slice_size=4, progress=append_meanwhile)

    assert appended
    assert result.ok, result.first_break
    assert result.head_sequence == chain[-1]
    assert verify_chain().head_sequence > chain[-1]


def test_a_forged_entry_far_ahead_is_named_quickly(chain):
    far = 10**13
    with owner_without_triggers() as cursor:
        cursor.execute(
            "INSERT INTO audit_logentry (content_type_id, object_pk, object_repr, action, "
            "changes_text, timestamp, chain_version, digest) "
            f"SELECT content_type_id, '', '', 1, '', timestamp, 3, digest "
            f"FROM audit_logentry WHERE id = {ENTRY_AT}",
            [chain[-1]],
        )
        cursor.execute(
            "INSERT INTO audit_chainlink (sequence, entry_id, prev_hash, entry_hash) "
            "SELECT %s, max(e.id), l.entry_hash, l.entry_hash FROM audit_logentry e, "
            "audit_chainlink l WHERE l.sequence = %s GROUP BY l.entry_hash",
            [far, chain[-1]],
        )
        cursor.execute("UPDATE audit_chainhead SET sequence = %s", [far])

    result = verify_chain(slice_size=4)

    assert result.first_break.sequence == chain[-1] + 1
    assert "missing" in result.first_break.problem


def test_an_unreadable_value_is_named_not_crashed_on(chain):
    target = chain[4]
    with owner_without_triggers() as cursor:
        cursor.execute(
            f"UPDATE audit_logentry SET changes = %s WHERE id = {ENTRY_AT}",
            ['{"n": 1e400}', target],
        )

    result = verify_chain()

    assert result.first_break.sequence == target
    assert "cannot be read back" in result.first_break.problem


def test_a_forged_content_digest_is_named(chain, verify):
    """Version 3 hashes a digest of the content: a digest made to fit rewritten content no
    longer gives the link's hash, and rewritten content no longer gives the stored digest."""
    target = chain[6]
    with owner_without_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_logentry SET object_repr = 'rewritten', digest = %s "
            f"WHERE id = {ENTRY_AT}",
            ["0" * 64, target],
        )

    result = verify()

    assert result.first_break.sequence == target
    assert "altered" in result.first_break.problem


def test_an_entry_slipped_in_beside_the_chain_is_named(chain):
    """An entry with no link (inserted by the owner with the commit-time chaining dropped)
    is not on the chain: verification names it, even though every link still holds."""
    with owner_without_triggers() as cursor:
        cursor.execute(
            "INSERT INTO audit_logentry (content_type_id, object_pk, object_repr, action, "
            "changes_text, timestamp, chain_version, digest) "
            f"SELECT content_type_id, '', 'slipped in', 1, '', timestamp, 3, digest "
            f"FROM audit_logentry WHERE id = {ENTRY_AT}",
            [chain[-1]],
        )
    slipped = LogEntry.objects.filter(object_repr="slipped in").get()

    result = verify_chain()

    assert not result.ok
    assert result.first_break.entry_id == slipped.pk
    assert "not on the chain" in result.first_break.problem


def test_links_pointed_at_each_others_entries_are_named(chain, verify):
    """The links name their entries: swapping which entry two links name breaks the first."""
    first, second = chain[2], chain[5]
    with owner_without_triggers() as cursor:
        ids = []
        for sequence in (first, second):
            cursor.execute("SELECT entry_id FROM audit_chainlink WHERE sequence = %s", [sequence])
            ids.append(cursor.fetchone()[0])
        point = "UPDATE audit_chainlink SET entry_id = %s WHERE sequence = %s"
        cursor.execute(point, [-1, first])
        cursor.execute(point, [ids[0], second])
        cursor.execute(point, [ids[1], first])

    result = verify()

    assert not result.ok
    assert result.first_break.sequence == first
