"""Recompute the whole chain, streaming, and name the first entry that breaks it.

The log is checked in slices of consecutive sequence numbers. A slice needs nothing from the
others but the stored hash of the entry just before it, so slices can be checked by several
processes at once (`workers`) while the answer stays the same as a single pass: the first
break, in sequence order. Each slice is streamed from a server-side cursor, so memory does
not grow with the log.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import orjson
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from audit import verify_worker
from audit.chain import (
    CHAINED_FIELDS_V3,
    DIGEST_FROM,
    GENESIS_HASH,
    chained_fields,
    digest_of,
    entry_hash_of,
    link_hash_of,
)
from audit.models import AccessIndex, Action, ChainHead, ChainLink, Checkpoint, LogEntry
from audit.signing import (
    SignedCheckpoint,
    load_public_key,
    signature_is_valid,
    signed_document_of,
)

CHUNK = 5000
SLICE = 50_000
PARALLEL_FROM_SLICES = 4  # starting a worker costs about a second: worth it from 200,000 entries
# The timestamp already in its canonical text: building a datetime per row costs more than the
# hashing does.
_PG_TIMESTAMP = (
    """to_char(e."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
)


@dataclass
class Break:
    sequence: int | None
    entry_id: int | None
    problem: str


# Where a checkpoint came from. Only one kept outside the database proves anything against
# someone who can write to it: whoever cuts the log's tail can delete the stored checkpoints too.
DATABASE, REQUEST, FILE = "database", "request", "file"
CHAIN_ONLY = "chain only"
OUTSIDE = "checkpoints kept outside"


@dataclass
class CheckpointCheck:
    """One checkpoint the log was checked against, where it came from, and whether it holds."""

    checkpoint: SignedCheckpoint
    source: str
    problem: str | None = None

    def as_dict(self) -> dict:
        return {
            "sequence": self.checkpoint.sequence,
            "entry_hash": self.checkpoint.entry_hash,
            "signed_at": self.checkpoint.signed_at,
            "key_id": self.checkpoint.key_id,
            "source": self.source,
            "holds": self.problem is None,
            "problem": self.problem,
        }


@dataclass
class VerifyResult:
    entries: int = 0
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH
    first_break: Break | None = None
    checks: list[CheckpointCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_break is None

    @property
    def checkpoints_checked(self) -> int:
        return sum(1 for check in self.checks if check.problem != NOT_CHECKED)

    @property
    def verified_against(self) -> str:
        """What the answer rests on: the chain alone proves nothing against someone who can
        rewrite the database (cut the tail, rewind the head, delete the stored checkpoints)."""
        outside = [check for check in self.checks if check.source != DATABASE]
        return OUTSIDE if outside else CHAIN_ONLY

    @property
    def outside_sequence(self) -> int | None:
        """The latest checkpoint kept outside that the log extends: entries up to it are proven,
        later ones rest on the chain only."""
        held = [
            check.checkpoint.sequence
            for check in self.checks
            if check.source != DATABASE and not check.problem
        ]
        return max(held, default=None)

    def note(self) -> str:
        if self.verified_against == CHAIN_ONLY:
            return (
                "Checked against the chain only: a log cut at its end, with its head rewound and "
                "its stored checkpoints deleted, or rewritten with every hash recomputed, would "
                "pass this. Check it against the checkpoints you keep outside the database."
            )
        if self.outside_sequence is None:
            return "The log does not hold against the checkpoints kept outside."
        return (
            f"The log extends the checkpoint kept outside at sequence {self.outside_sequence}; "
            "entries after it are checked by the chain only."
        )

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "verified_against": self.verified_against,
            "note": self.note(),
            "entries": self.entries,
            "head": {"sequence": self.head_sequence, "entry_hash": self.head_hash},
            "checkpoints": [check.as_dict() for check in self.checks],
            "checkpoints_checked": self.checkpoints_checked,
            "first_break": None if self.first_break is None else self.first_break.__dict__,
        }


@dataclass
class SliceResult:
    first: int
    last: int
    entries: int = 0
    last_hash: str = GENESIS_HASH
    first_break: Break | None = None


def _classify(link_ok: bool, content_ok: bool) -> str:
    if not content_ok and link_ok:
        return "altered: its content no longer matches its hash"
    if content_ok and not link_ok:
        return "out of place: it does not link to the entry before it (inserted or reordered)"
    return "forged or reordered: neither its link nor its content hash matches"


def _select_columns() -> str:
    """The link's sequence, prev_hash and entry_hash, then the entry's id, chain_version,
    digest and content (`CHAINED_FIELDS_V3`)."""
    columns = ["id", "chain_version", "digest", *CHAINED_FIELDS_V3]
    quoted = [
        "e." + connection.ops.quote_name(LogEntry._meta.get_field(name).column) for name in columns
    ]
    if connection.vendor == "postgresql":
        quoted[columns.index("timestamp")] = _PG_TIMESTAMP
        quoted[columns.index("actor_id")] += "::text"  # a UUID object per row costs 4 µs
    return ", ".join(["l.sequence", "l.prev_hash", "l.entry_hash", *quoted])


def _stream(first: int, last: int) -> Iterator[tuple]:
    """(sequence, prev_hash, entry_hash, entry id, chain_version, digest, *CHAINED_FIELDS_V3)
    for the links first..last, in order, each with the entry it names (all None when it names
    none), as the database returns them (raw JSON text, and on SQLite raw UUIDs and
    timestamps: the chain module reads both forms), CHUNK rows at a time."""
    sql = (
        f"SELECT {_select_columns()} FROM {ChainLink._meta.db_table} l "  # noqa: S608
        f"LEFT JOIN {LogEntry._meta.db_table} e ON e.id = l.entry_id "
        "WHERE l.sequence BETWEEN %s AND %s ORDER BY l.sequence"
    )
    # PostgreSQL's server-side cursors live inside a transaction.
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, [first, last])
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _hashes_match(sequence: int, stored_prev: str, stored_hash: str, row: tuple) -> bool:
    """Does the entry's content give the link's hash? Versions 1 and 2 hash the content with
    the sequence; version 3 hashes a digest that must be the content's (audit.chain).
    Raises ValueError or TypeError for a value no honest writer could have stored."""
    version, digest, content = row[4], row[5], row[6:]
    if version >= DIGEST_FROM:
        chained_fields(version)  # an unknown version is a forgery, not a crash
        if digest_of(content) != digest:
            return False
        return link_hash_of(stored_prev, sequence, digest) == stored_hash
    values = [sequence, *content][: len(chained_fields(version))]
    return entry_hash_of(stored_prev, values) == stored_hash


def verify_slice(first: int, last: int) -> SliceResult:
    """Check links first..last: no gap, each linked to the one before, each naming an entry
    whose content gives its hash."""
    result = SliceResult(first, last)
    if first == 1:
        prev_hash = GENESIS_HASH
    else:
        before = ChainLink.objects.filter(sequence=first - 1).values_list("entry_hash", flat=True)
        prev_hash = before.first() or ""  # a missing link is reported by the slice before
    expected = first
    for row in _stream(first, last):
        sequence, stored_prev, stored_hash, entry_id = row[:4]
        if sequence != expected:
            problem = f"sequence {expected} is missing: an entry was deleted"
            result.first_break = Break(expected, entry_id, problem)
            return result
        if entry_id is None:
            problem = "forged: its link names no entry (the entry was deleted)"
            result.first_break = Break(sequence, None, problem)
            return result
        link_ok = stored_prev == prev_hash
        try:
            content_ok = _hashes_match(sequence, stored_prev, stored_hash, row)
        except (ValueError, TypeError) as exc:  # a value no honest writer could have stored
            problem = f"forged: a field cannot be read back ({type(exc).__name__})"
            result.first_break = Break(sequence, entry_id, problem)
            return result
        if not (link_ok and content_ok):
            result.first_break = Break(sequence, entry_id, _classify(link_ok, content_ok))
            return result
        prev_hash, expected = stored_hash, expected + 1
        result.entries += 1
    result.last_hash = prev_hash
    if expected <= last:
        result.first_break = Break(expected, None, f"sequence {expected} is missing: deleted")
    return result


def _index_rows() -> Iterator[tuple[int, set[tuple[int, str]]]]:
    """(entry id, {(content type id, object pk)}) for every entry the read index names."""
    sql = (
        f"SELECT entry_id, content_type_id, object_pk FROM {AccessIndex._meta.db_table} "  # noqa: S608
        "ORDER BY entry_id"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _access_rows() -> Iterator[tuple]:
    table = LogEntry._meta.db_table
    sql = f"SELECT id, content_type_id, object_pk, additional_data FROM {table} "  # noqa: S608
    sql += "WHERE action = %s ORDER BY id"
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [Action.ACCESS])
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _grouped(rows: Iterator[tuple]) -> Iterator[tuple[int, set[tuple[int, str]]]]:
    for entry_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        yield entry_id, {(row[1], row[2]) for row in group}


def _expected(rows: Iterator[tuple]) -> Iterator[tuple[int, set[tuple[int, str]]]]:
    """What the index must hold for each ACCESS entry: the records of its "read" list, or, for
    an entry of one record written before the index, that record."""
    type_ids = {
        f"{app_label}.{model}": pk
        for pk, app_label, model in ContentType.objects.values_list("pk", "app_label", "model")
    }
    for entry_id, content_type_id, object_pk, data in rows:
        if isinstance(data, str):
            data = orjson.loads(data)
        read = data.get("read") if isinstance(data, dict) else None
        if isinstance(read, list):
            # A type with no content type expects an index row none can be (the column is NOT
            # NULL), so the entry is always reported, whatever rows are forged beside it.
            yield entry_id, {(type_ids.get(str(r.get("type"))), str(r.get("id"))) for r in read}
        else:
            yield entry_id, {(content_type_id, object_pk)}


def check_read_index() -> Break | None:
    """The read index against the entries: exactly the records each ACCESS entry names, and
    nothing for any other entry. A forged, moved or missing index row is named, with its
    entry (or the entry it claims). Run after the chain holds: the entries are authentic, so
    any difference is in the index."""
    with transaction.atomic():  # PostgreSQL's server-side cursors live inside a transaction
        expected, actual = _expected(_access_rows()), _grouped(_index_rows())
        want, have = next(expected, None), next(actual, None)
        while want is not None or have is not None:
            if have is None or (want is not None and want[0] < have[0]):
                entry_id, problem = want[0], "its records are missing from the read index"
                if not want[1]:
                    want = next(expected, None)
                    continue
            elif want is None or have[0] < want[0]:
                entry_id, problem = have[0], "the read index names it, but it records no read"
            elif want[1] != have[1]:
                entry_id, problem = want[0], "the read index does not match the records it read"
            else:
                want, have = next(expected, None), next(actual, None)
                continue
            link = ChainLink.objects.filter(entry_id=entry_id).values_list("sequence", flat=True)
            sequence = link.first()
            if sequence is None:  # not on the chain: after its end
                sequence = ChainHead.objects.get(pk=1).sequence + 1
            return Break(sequence, entry_id, f"forged read index: {problem}")
    return None


def _unchained_entry(head_sequence: int) -> Break | None:
    """An entry with no link was put in the log around the chain (every honest entry is linked
    in the transaction that wrote it: at its commit on PostgreSQL)."""
    stray = LogEntry.objects.filter(link__isnull=True).order_by("id").values_list("id", flat=True)
    entry_id = stray.first()
    if entry_id is None:
        return None
    problem = "forged: an entry is not on the chain (it has no link)"
    return Break(head_sequence + 1, entry_id, problem)


def stored_checkpoints() -> list[SignedCheckpoint]:
    return [signed_document_of(stored) for stored in Checkpoint.objects.order_by("sequence")]


NOT_CHECKED = "not checked: no checkpoint public key is configured"


def _check_against_log(checks: list[CheckpointCheck], head_sequence: int) -> None:
    """Mark each signed checkpoint the log no longer extends (cut below it, or rewritten)."""
    pending = [check for check in checks if check.problem is None]
    stored = dict(
        ChainLink.objects.filter(
            sequence__in=[check.checkpoint.sequence for check in pending]
        ).values_list("sequence", "entry_hash")
    )
    stored[0] = GENESIS_HASH
    for check in pending:
        checkpoint = check.checkpoint
        if checkpoint.sequence > head_sequence:
            check.problem = (
                f"the log ends before the signed checkpoint at sequence {checkpoint.sequence}: "
                "truncated"
            )
        elif stored.get(checkpoint.sequence) != checkpoint.entry_hash:
            check.problem = (
                "differs from the signed checkpoint for this sequence: history was rewritten"
            )


def verify_chain(
    *,
    checkpoints: list[SignedCheckpoint] | None = None,
    source: str = FILE,
    with_stored: bool = False,
    public_key_pem: str | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    slice_size: int = SLICE,
) -> VerifyResult:
    """Check sequence, link and content hash of every entry, and the checkpoints.

    Each checkpoint must carry a valid signature under the public key and name an entry of
    this chain with exactly that hash. `checkpoints` are ones kept outside the system (their
    `source`: "request" or "file"); without any, the checkpoints stored in the database are
    checked, and with `with_stored` they are checked too. Raises ImproperlyConfigured when
    checkpoints from outside are given and no public key is configured to check them.
    """
    result = VerifyResult()
    outside = list(checkpoints or [])
    result.checks = [CheckpointCheck(checkpoint, source) for checkpoint in outside]
    if checkpoints is None or with_stored:
        result.checks += [CheckpointCheck(c, DATABASE) for c in stored_checkpoints()]
    if result.checks:
        try:
            key = load_public_key(public_key_pem)
        except ImproperlyConfigured:
            if outside:
                raise
            key = None  # stored ones cannot be checked: the answer says so, per checkpoint
        for check in result.checks:
            if key is None:
                check.problem = NOT_CHECKED
            elif not signature_is_valid(check.checkpoint, key):
                check.problem = "bad signature: not signed by the configured key, or altered"

    # Verify up to the head as it is now: entries appended while this runs are for next time.
    head = ChainHead.objects.get(pk=1)
    chain_break = None
    for part in _verify_slices(_slice_bounds(head.sequence, slice_size), workers):
        result.entries += part.entries
        if progress:
            progress(result.entries)
        if part.first_break:
            chain_break = part.first_break
            break
        result.head_sequence, result.head_hash = part.last, part.last_hash
    if chain_break is None and (result.head_sequence, result.head_hash) != (
        head.sequence,
        head.entry_hash,
    ):
        problem = "the chain head names another last entry: the tail was cut or rewritten"
        chain_break = Break(result.head_sequence + 1, None, problem)
    if chain_break is None:
        chain_break = _unchained_entry(head.sequence)
    if chain_break is None:
        chain_break = check_read_index()

    _check_against_log(result.checks, head.sequence)
    breaks = [chain_break] if chain_break else []
    for check in result.checks:
        if check.problem and check.problem != NOT_CHECKED:
            where = f"the checkpoint at sequence {check.checkpoint.sequence} ({check.source})"
            problem = check.problem
            if problem.startswith("bad signature"):
                problem = f"{where} has a {problem}"
            breaks.append(Break(check.checkpoint.sequence, None, problem))
    if breaks:
        result.first_break = min(breaks, key=lambda b: b.sequence)
    return result


def _slice_bounds(head_sequence: int, slice_size: int) -> list[tuple[int, int]]:
    """(first, last) sequence ranges of about `slice_size` entries each, covering
    1..head_sequence with no hole, so a missing entry falls inside some slice.

    An honest log numbers its entries 1..head with no gap, and is cut by arithmetic. Any other
    log is cut where its entries actually are, found by reading the sequence index alone: a
    forged, huge sequence number must not make millions of empty slices."""
    if ChainLink.objects.filter(sequence__lte=head_sequence).count() == head_sequence:
        return [
            (first, min(first + slice_size - 1, head_sequence))
            for first in range(1, head_sequence + 1, slice_size)
        ]
    starts = [1]
    sql = f"SELECT sequence FROM {ChainLink._meta.db_table} WHERE sequence <= %s ORDER BY sequence"  # noqa: S608
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, [head_sequence])
        position = 0
        while rows := cursor.fetchmany(CHUNK):
            for (sequence,) in rows:
                if position and position % slice_size == 0 and sequence > starts[-1]:
                    starts.append(sequence)
                position += 1
    ends = [start - 1 for start in starts[1:]] + [head_sequence]
    return [(first, last) for first, last in zip(starts, ends, strict=True) if first <= last]


def _verify_slices(bounds: list[tuple[int, int]], workers: int) -> Iterator[SliceResult]:
    """Slice results in sequence order; with workers > 1, computed by that many processes
    once the log is long enough to repay starting them."""
    if workers <= 1 or len(bounds) < PARALLEL_FROM_SLICES:
        for first, last in bounds:
            part = verify_slice(first, last)
            yield part
            if part.first_break:
                return
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # fresh processes, fresh connections
        initializer=verify_worker.start,
        initargs=(connection.settings_dict["NAME"],),
    ) as pool:
        results = pool.map(verify_worker.verify_slice, bounds)
        try:
            yield from results
        finally:
            pool.shutdown(cancel_futures=True)
