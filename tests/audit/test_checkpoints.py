"""Signed checkpoints: the head kept outside the system proves the log was not rewritten."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.chain import digest_of, link_hash_of
from audit.models import Checkpoint, LogEntry
from audit.signing import SignedCheckpoint
from audit.verify import verify_chain
from config.settings import new_ed25519_pem
from tests.audit.helpers import ENTRY_AT, delete_entries, owner_without_triggers

pytestmark = pytest.mark.django_db


def checkpoint_now() -> str:
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    return out.getvalue()


def public_key() -> str:
    out = io.StringIO()
    call_command("audit_checkpoint", "--public-key", stdout=out)
    return out.getvalue()


def verify_with(tmp_path, checkpoint_text: str, key_pem: str) -> str:
    (tmp_path / "checkpoint.json").write_text(checkpoint_text)
    (tmp_path / "signer.pub").write_text(key_pem)
    out = io.StringIO()
    call_command(
        "audit_verify",
        "--checkpoint",
        str(tmp_path / "checkpoint.json"),
        "--public-key",
        str(tmp_path / "signer.pub"),
        stdout=out,
    )
    return out.getvalue()


def rewrite_history_consistently(from_sequence: int) -> None:
    """The strongest attack on a bare hash chain: change an entry and recompute every hash
    after it, so the chain alone verifies again."""
    with owner_without_triggers() as cursor:
        cursor.execute(
            f"UPDATE audit_logentry SET object_repr = 'rewritten' WHERE id = {ENTRY_AT}",
            [from_sequence],
        )
        prev = LogEntry.objects.get(sequence=from_sequence - 1).entry_hash
        rows = LogEntry.objects.filter(sequence__gte=from_sequence).order_by("sequence")
        for entry in rows:
            digest = digest_of(entry.chained_values())
            cursor.execute(
                "UPDATE audit_logentry SET digest = %s WHERE id = %s", [digest, entry.pk]
            )
            new_hash = link_hash_of(prev, entry.sequence, digest)
            cursor.execute(
                "UPDATE audit_chainlink SET prev_hash = %s, entry_hash = %s WHERE sequence = %s",
                [prev, new_hash, entry.sequence],
            )
            prev = new_hash
        cursor.execute("UPDATE audit_chainhead SET entry_hash = %s", [prev])


def test_a_checkpoint_signs_the_head_and_is_stored(make_staff):
    make_staff()
    head = LogEntry.objects.order_by("-sequence").first()

    document = json.loads(checkpoint_now())

    assert document["sequence"] == head.sequence
    assert document["entry_hash"] == head.entry_hash
    stored = Checkpoint.objects.get()
    assert (stored.sequence, stored.signature) == (head.sequence, document["signature"])


def test_the_log_still_extends_a_checkpoint_kept_elsewhere(make_staff, tmp_path):
    make_staff()
    kept = checkpoint_now()
    make_staff()  # the log grows after the checkpoint

    output = verify_with(tmp_path, kept, public_key())

    assert "Audit chain OK" in output
    assert "1 checkpoint(s) verified" in output


def test_rewritten_history_passes_the_bare_chain_but_not_the_checkpoint(make_staff, tmp_path):
    make_staff()
    kept = checkpoint_now()
    checkpointed = json.loads(kept)["sequence"]

    rewrite_history_consistently(from_sequence=3)

    assert verify_chain(checkpoints=[]).ok  # the attacker recomputed every hash
    with pytest.raises(CommandError, match=rf"entry {checkpointed}\b.*signed checkpoint"):
        verify_with(tmp_path, kept, public_key())


def test_a_log_cut_below_a_checkpoint_is_named(make_staff, tmp_path):
    make_staff()
    kept = checkpoint_now()
    checkpointed = json.loads(kept)["sequence"]
    new_last = LogEntry.objects.get(sequence=checkpointed - 3)
    with owner_without_triggers() as cursor:  # cut the tail and make the head agree
        delete_entries(cursor, "sequence >= %s", [checkpointed - 2])
        cursor.execute(
            "UPDATE audit_chainhead SET sequence = %s, prev_hash = %s, entry_hash = %s",
            [new_last.sequence, new_last.prev_hash, new_last.entry_hash],
        )

    assert verify_chain(checkpoints=[]).ok  # the chain alone cannot tell

    with pytest.raises(CommandError, match="truncated"):
        verify_with(tmp_path, kept, public_key())


def test_a_checkpoint_with_an_edited_hash_or_another_key_is_refused(make_staff, tmp_path):
    make_staff()
    kept = json.loads(checkpoint_now())
    edited = json.dumps({**kept, "entry_hash": "0" * 64})
    other_key = serialization.load_pem_private_key(new_ed25519_pem().encode(), None)
    other_public = (
        other_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    with pytest.raises(CommandError, match="bad signature"):
        verify_with(tmp_path, edited, public_key())
    with pytest.raises(CommandError, match="bad signature"):
        verify_with(tmp_path, json.dumps(kept), other_public)


def test_a_malformed_checkpoint_file_gets_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Not a"):
        verify_with(tmp_path, '{"sequence": "twelve"}', public_key())


def test_stored_checkpoints_are_append_only(make_staff):
    make_staff()
    checkpoint_now()

    for statement in (
        "UPDATE audit_checkpoint SET entry_hash = 'x'",
        "DELETE FROM audit_checkpoint",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert Checkpoint.objects.count() == 1


def test_signed_checkpoint_documents_round_trip():
    document = SignedCheckpoint(
        sequence=3,
        entry_hash="a" * 64,
        signed_at="2026-01-01T00:00:00.000000Z",
        key_id="k",
        signature="c2ln",
    )

    assert SignedCheckpoint.from_json(document.to_json()) == document
