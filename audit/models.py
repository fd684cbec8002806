"""The append-only, hash-chained audit log (django-auditlog's swappable LogEntry), the chain's
head, and signed checkpoints.

The database refuses UPDATE, DELETE and TRUNCATE on `audit_logentry`, `audit_chainlink` and
`audit_checkpoint` (triggers created by this app's migrations, see `audit/triggers.py`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import datetime

import orjson
from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from audit import context
from audit.chain import (
    CHAIN_VERSION,
    GENESIS_HASH,
    chained_fields,
    digest_of,
    link_hash_of,
    reject_floats,
)
from audit.exceptions import AuditError
from audit.registry import is_registered, redact


class Action:
    """django-auditlog's actions, plus the staff events it has no word for."""

    CREATE = AbstractLogEntry.Action.CREATE
    UPDATE = AbstractLogEntry.Action.UPDATE
    DELETE = AbstractLogEntry.Action.DELETE
    ACCESS = AbstractLogEntry.Action.ACCESS
    LOGIN = 10
    LOGIN_FAILED = 11
    TOKEN_ISSUED = 12
    TOKEN_REVOKED = 13
    STEP_UP_FAILED = 14
    ACCOUNT_UNLOCKED = 15  # an admin cleared the failures that locked an account out
    KEYS_REWRAPPED = 20
    ERASED = 21
    DUPLICATE_CHECK = 22
    LOOKUPS_TESTED = 23  # someone holding the keys tested what duplicate checks looked up

    choices = (
        (CREATE, "create"),
        (UPDATE, "update"),
        (DELETE, "delete"),
        (ACCESS, "access"),
        (LOGIN, "login"),
        (LOGIN_FAILED, "login_failed"),
        (TOKEN_ISSUED, "token_issued"),
        (TOKEN_REVOKED, "token_revoked"),
        (STEP_UP_FAILED, "step_up_failed"),
        (ACCOUNT_UNLOCKED, "account_unlocked"),
        (KEYS_REWRAPPED, "keys_rewrapped"),
        (ERASED, "erased"),
        (DUPLICATE_CHECK, "duplicate_check"),
        (LOOKUPS_TESTED, "lookups_tested"),
    )
    by_name = {name: value for value, name in choices}
    names = {value: name for value, name in choices}


class ChainHead(models.Model):
    """One row: the last link's sequence, hash and parent hash. Locked by the statement that
    chains a transaction's entries (at its commit on PostgreSQL) until that commit, so the
    chain's order is the commit order; every chaining moves it forward in the same
    transaction."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    entry_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_head")]

    def __str__(self) -> str:
        return f"head {self.sequence} {self.entry_hash}"


class LogEntryChainManager(LogEntryManager):
    """Entries with their place in the chain (`sequence`, `prev_hash`, `entry_hash`, read from
    the entry's link; None until the transaction that wrote the entry commits on PostgreSQL)."""

    def get_queryset(self) -> models.QuerySet:
        return (
            super()
            .get_queryset()
            .annotate(
                sequence=models.F("link__sequence"),
                prev_hash=models.F("link__prev_hash"),
                entry_hash=models.F("link__entry_hash"),
            )
        )

    def create(self, **kwargs) -> LogEntry:
        return self.append([self.model(**kwargs)])[0]

    def append(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Record entries in the caller's transaction; they are chained when it commits.

        Refuses to run outside a transaction: the entry must commit or roll back together with
        the change it records. Inside `audit.writes.atomic` the entries wait there and are
        inserted with the rest of that block's entries, in one statement; otherwise they are
        inserted now. Either way each entry carries the digest of its content, and:

        - on PostgreSQL the database chains them at commit (`audit.triggers`): the head is
          locked for that statement and the commit only, not for the transaction's work;
        - on SQLite, which lets one transaction write at a time anyway (BEGIN IMMEDIATE), they
          are chained at once, in Python, under the same lock.
        """
        from audit import writes  # the buffer builds on this manager

        connection = transaction.get_connection(self.db)
        if not connection.in_atomic_block:
            raise AuditError("Audited changes must run inside a transaction (transaction.atomic).")
        bound = context.current()
        now = timezone.now()
        for entry in entries:
            _prepare(entry, bound, now)
        if writes.hold(connection, entries):
            return list(entries)
        return self.insert_prepared(entries)

    def insert_prepared(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Insert entries already prepared by `append` (one INSERT), chaining them at once on
        SQLite. Only `append` and the buffer of `audit.writes` call this."""
        if not entries:
            return []
        connection = transaction.get_connection(self.db)
        # A plain queryset: the manager's own annotates every query with the links (a join
        # an insert does not need, and whose building costs more than the entry's hashing).
        plain = models.QuerySet(self.model, using=self.db)
        if connection.vendor == "postgresql":
            return _insert_postgresql(connection, entries)  # chained at commit (triggers)
        with transaction.atomic(using=self.db, savepoint=False):
            head = ChainHead.objects.using(self.db).select_for_update().get(pk=1)
            created = plain.bulk_create(entries)
            links = []
            sequence, prev_hash = head.sequence, head.entry_hash
            for entry in created:
                sequence += 1
                link = ChainLink(
                    sequence=sequence,
                    entry=entry,
                    prev_hash=prev_hash,
                    entry_hash=link_hash_of(prev_hash, sequence, entry.digest),
                )
                links.append(link)
                entry.sequence, entry.prev_hash, entry.entry_hash = (
                    sequence,
                    link.prev_hash,
                    link.entry_hash,
                )
                prev_hash = link.entry_hash
            ChainLink.objects.using(self.db).bulk_create(links)
            head.sequence, head.prev_hash, head.entry_hash = (
                sequence,
                links[-1].prev_hash,
                prev_hash,
            )
            head.save(update_fields=["sequence", "prev_hash", "entry_hash"])
        return created


_JSON_COLUMNS = frozenset({"changes", "serialized_data", "additional_data"})
_PREPARED = "_audit_prepared"  # on the connection: the entry counts it has a statement for
PREPARED_UP_TO = 16  # entries per transaction with a prepared statement; more: a plain INSERT


@functools.cache
def _inserted() -> tuple[tuple[str, ...], str, str]:
    """(attribute names, `INSERT INTO … (columns)`, statement name prefix) for every column
    of an entry the writer sends: all but the id and the transaction id (both the database's).
    The prefix carries a digest of the column list, so a session that prepared the statement
    for another column order (another release, behind a pooler) is never reused for it."""
    fields = [f for f in LogEntry._meta.concrete_fields if f.column not in ("id", "txid")]
    columns = ", ".join(f'"{field.column}"' for field in fields)
    insert = f"INSERT INTO {LogEntry._meta.db_table} ({columns})"
    prefix = "audit_append_" + hashlib.sha256(insert.encode()).hexdigest()[:12]
    return tuple(field.attname for field in fields), insert, prefix


def forget_prepared(connection, **kwargs) -> None:
    """`connection_created` receiver: a new session has no prepared statements."""
    connection.__dict__.pop(_PREPARED, None)


def _insert_postgresql(connection, entries: Sequence[LogEntry]) -> list[LogEntry]:
    """Insert prepared entries in one statement and return them with their ids.

    Up to PREPARED_UP_TO entries go through a statement prepared once per database session
    for that count (`PREPARE audit_append_<columns digest>_<n>`, then `EXECUTE`): parsing and
    planning an 18-column INSERT cost the server more than running it. Before preparing, the
    session's own `pg_prepared_statements` is asked, so a statement left from earlier in the
    session is used, not prepared twice; after any database error the connection's record is
    dropped and read again next time (a `DISCARD ALL` costs the one transaction that met it).
    Values go as they are (psycopg2 adapts str, int, datetime and UUID); JSON goes as its
    text, the same orjson serialisation the digest was computed over. Django's bulk_create
    cost more than the hashing and the round trip together (figures: bench/audit_bench.py)."""
    names, insert, prefix = _inserted()
    params: list = []
    for entry in entries:
        for name in names:
            value = getattr(entry, name)
            if value is not None and name in _JSON_COLUMNS:
                value = orjson.dumps(value).decode()
            params.append(value)
    count, width = len(entries), len(names)
    try:
        with connection.cursor() as cursor:
            if count <= PREPARED_UP_TO:
                statement = f"{prefix}_{count}"
                prepared = connection.__dict__.setdefault(_PREPARED, set())
                if count not in prepared:
                    cursor.execute(
                        "SELECT 1 FROM pg_catalog.pg_prepared_statements WHERE name = %s",
                        [statement],
                    )
                    if cursor.fetchone() is None:
                        rows = ", ".join(
                            "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
                            for r in range(count)
                        )
                        cursor.execute(
                            f"PREPARE {statement} AS {insert} VALUES {rows} RETURNING id"
                        )
                    prepared.add(count)
                placeholders = ", ".join(["%s"] * len(params))
                cursor.execute(f"EXECUTE {statement}({placeholders})", params)
            else:
                row = "(" + ", ".join(["%s"] * width) + ")"
                cursor.execute(f"{insert} VALUES {', '.join([row] * count)} RETURNING id", params)
            ids = cursor.fetchall()
    except DatabaseError:
        forget_prepared(connection)
        raise
    for entry, (pk,) in zip(entries, ids, strict=True):
        entry.pk = pk
        entry._state.adding = False
        entry._state.db = connection.alias
        entry.sequence = entry.prev_hash = entry.entry_hash = None
    return list(entries)


_TEXT_FIELDS = (
    "object_pk",
    "object_repr",
    "changes_text",
    "cid",
    "client_request_id",
    "actor_email",
)


def _prepare(entry: LogEntry, bound: context.AuditContext, now: datetime) -> None:
    if entry.actor_id is None and bound.actor is not None and bound.actor.pk is not None:
        entry.actor = bound.actor
    entry.remote_addr = entry.remote_addr or bound.remote_addr
    entry.cid = entry.cid or bound.cid
    entry.client_request_id = entry.client_request_id or bound.client_request_id
    entry.chain_version = CHAIN_VERSION
    entry.timestamp = now
    entry.serialized_data = None
    entry.txid = None  # PostgreSQL sets its own transaction's id, whatever is sent
    # Hash what the database will give back: django-auditlog passes integer keys as ints (a
    # CharField's to_python, inlined: this runs for every entry).
    for name in _TEXT_FIELDS:
        value = getattr(entry, name)
        if value is not None and type(value) is not str:
            setattr(entry, name, str(value))
    model = entry.content_type.model_class()
    if not is_registered(model):
        raise AuditError(f"{model} is not registered with audit.registry.register().")
    entry.changes, entry.object_repr = redact(
        model, entry.changes, entry.object_pk, entry.object_repr
    )
    reject_floats(entry.changes, "changes")
    reject_floats(entry.additional_data, "additional data")
    entry.digest = digest_of(entry.chained_values())


class LogEntry(AbstractLogEntry):
    # Log rows outlive what they describe: deleting a user or a content type must not rewrite
    # (SET NULL) or cascade-delete history, so both references are protected.
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Every index is paid on every audited write: keep those the auditors' filters use
    # (see Meta.indexes) and drop django-auditlog's others.
    object_pk = models.CharField(max_length=255)
    object_id = models.BigIntegerField(blank=True, null=True)
    cid = models.CharField(max_length=255, blank=True, null=True)  # noqa: DJ001 (as auditlog: None = no request)
    # The client's own X-Request-ID, kept only when it is 1-64 of [A-Za-z0-9._-] (free text
    # must never reach an append-only log); `cid` is always the server's.
    client_request_id = models.CharField(max_length=64, blank=True, null=True)  # noqa: DJ001
    # Which fields the hash covers (audit.chain): entries written before a field joined the
    # chain keep verifying under their own version.
    chain_version = models.PositiveSmallIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.PositiveSmallIntegerField(choices=Action.choices, db_index=True)
    # Version 3: SHA-256 of the entry's content (audit.chain.digest_of), computed when it is
    # written; its place in the chain is its link (ChainLink), written when it commits.
    digest = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (None: v1/v2)
    # PostgreSQL: the writing transaction's id, set by a trigger; how the commit finds the
    # transaction's entries to chain them.
    txid = models.BigIntegerField(null=True, blank=True, editable=False)

    # Read from the entry's link by the manager (None until chained).
    sequence: int | None = None
    prev_hash: str | None = None
    entry_hash: str | None = None

    objects = LogEntryChainManager()

    class Meta(AbstractLogEntry.Meta):
        ordering = ["-link__sequence"]
        indexes = [
            models.Index(fields=["content_type", "object_pk"], name="audit_entry_object"),
            models.Index(
                fields=["txid"], name="audit_entry_txid", condition=models.Q(txid__isnull=False)
            ),
        ]

    def chained_values(self) -> list:
        return [getattr(self, field) for field in chained_fields(self.chain_version)]

    @property
    def action_name(self) -> str:
        return Action.names.get(self.action, str(self.action))


class ChainLink(models.Model):
    """An entry's place in the chain: its sequence number, the previous entry's hash and its
    own. Insert-only (append-only triggers, `audit.triggers`). Written at commit by the
    database (PostgreSQL) or with the entry (SQLite); for entries of versions 1 and 2, copied
    from the entry when this table was created."""

    sequence = models.BigIntegerField(primary_key=True)
    entry = models.OneToOneField(
        LogEntry, on_delete=models.PROTECT, related_name="link", db_constraint=False
    )
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(sequence__gt=0), name="audit_sequence_gt_0")
        ]

    def __str__(self) -> str:
        return f"link {self.sequence} {self.entry_hash}"


class AccessIndex(models.Model):
    """Which records an ACCESS entry names: one row per record a response revealed, so "who
    read this person, when" is one indexed query although a response writes one entry.
    Written by the database when the entry is inserted (a trigger over the entry's
    `additional_data["read"]`, `audit.triggers`), append-only, and checked against the chained
    entries by `audit_verify`. Entries written before (one per record) are indexed by their
    own content type and object."""

    entry = models.ForeignKey(
        LogEntry, on_delete=models.PROTECT, related_name="reads", db_constraint=False
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    object_pk = models.CharField(max_length=255)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_pk"], name="audit_read_object")]

    def __str__(self) -> str:
        return f"read of {self.object_pk} in entry {self.entry_id}"


class Checkpoint(models.Model):
    """A signed statement of the chain's head (sequence and hash) at a moment. Copies kept
    outside the system prove later that the log still extends what was signed."""

    sequence = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.TextField()

    class Meta:
        ordering = ["-sequence", "-signed_at"]

    def __str__(self) -> str:
        return f"checkpoint {self.sequence} {self.entry_hash} signed {self.signed_at:%Y-%m-%d}"
