"""Recompute the whole chain, streaming, and name the first entry that breaks it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from audit.chain import CHAINED_FIELDS, GENESIS_HASH, entry_hash_of
from audit.models import ChainHead, Checkpoint, LogEntry
from audit.signing import SignedCheckpoint, load_public_key, signature_is_valid

CHUNK = 5000


@dataclass
class Break:
    sequence: int | None
    entry_id: int | None
    problem: str


@dataclass
class VerifyResult:
    entries: int = 0
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH
    first_break: Break | None = None
    checkpoints_checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_break is None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": {"sequence": self.head_sequence, "entry_hash": self.head_hash},
            "checkpoints_checked": self.checkpoints_checked,
            "first_break": None if self.first_break is None else self.first_break.__dict__,
        }


def _classify(link_ok: bool, content_ok: bool) -> str:
    if not content_ok and link_ok:
        return "altered: its content no longer matches its hash"
    if content_ok and not link_ok:
        return "out of place: it does not link to the entry before it (inserted or reordered)"
    return "forged or reordered: neither its link nor its content hash matches"


def stored_checkpoints() -> list[SignedCheckpoint]:
    return [
        SignedCheckpoint(
            sequence=stored.sequence,
            entry_hash=stored.entry_hash,
            signed_at=stored.signed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            key_id=stored.key_id,
            signature=stored.signature,
        )
        for stored in Checkpoint.objects.order_by("sequence")
    ]


def verify_chain(
    *,
    checkpoints: list[SignedCheckpoint] | None = None,
    public_key_pem: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Stream every entry in sequence order and check sequence, link and content hash.

    `checkpoints` (kept outside the system) must carry a valid signature under the public key
    and name an entry of this chain with exactly that hash; by default the checkpoints stored
    in the database are checked. Memory stays flat: entries are read in chunks from a
    server-side cursor.
    """
    result = VerifyResult()
    checkpoints = stored_checkpoints() if checkpoints is None else checkpoints
    if checkpoints:
        key = load_public_key(public_key_pem)
        for checkpoint in checkpoints:
            if not signature_is_valid(checkpoint, key):
                problem = f"the checkpoint at sequence {checkpoint.sequence} has a bad signature"
                result.first_break = Break(checkpoint.sequence, None, problem)
                return result
        result.checkpoints_checked = len(checkpoints)
    expected = {checkpoint.sequence: checkpoint.entry_hash for checkpoint in checkpoints}
    if expected.pop(0, GENESIS_HASH) != GENESIS_HASH:
        result.first_break = Break(0, None, "a checkpoint at sequence 0 must name the genesis")
        return result

    prev_hash, prev_sequence = GENESIS_HASH, 0
    rows = (
        LogEntry.objects.order_by("sequence")
        .values_list("id", "prev_hash", "entry_hash", *CHAINED_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    for row in rows:
        entry_id, stored_prev, stored_hash, sequence = row[0], row[1], row[2], row[3]
        if sequence != prev_sequence + 1:
            problem = (
                f"sequence {prev_sequence + 1} is missing: an entry was deleted"
                if sequence > prev_sequence + 1
                else f"sequence {sequence} repeats or goes backwards after {prev_sequence}"
            )
            result.first_break = Break(prev_sequence + 1, entry_id, problem)
            return result
        link_ok = stored_prev == prev_hash
        content_ok = entry_hash_of(stored_prev, row[3:]) == stored_hash
        if not (link_ok and content_ok):
            result.first_break = Break(sequence, entry_id, _classify(link_ok, content_ok))
            return result
        if sequence in expected and expected.pop(sequence) != stored_hash:
            problem = "differs from the signed checkpoint for this sequence: history was rewritten"
            result.first_break = Break(sequence, entry_id, problem)
            return result
        prev_hash, prev_sequence = stored_hash, sequence
        result.entries += 1
        if progress and result.entries % CHUNK == 0:
            progress(result.entries)

    result.head_sequence, result.head_hash = prev_sequence, prev_hash
    if expected:
        missing = min(expected)
        problem = f"the log ends before the signed checkpoint at sequence {missing}: truncated"
        result.first_break = Break(missing, None, problem)
    elif ChainHead.objects.filter(pk=1, sequence__gt=prev_sequence).exists():
        problem = "the chain head records later entries than the log holds: the tail was cut"
        result.first_break = Break(prev_sequence + 1, None, problem)
    return result
