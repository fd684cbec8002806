"""The append-only, hash-chained audit log (django-auditlog's swappable LogEntry), the chain's
head, and signed checkpoints.

The database refuses UPDATE, DELETE and TRUNCATE on `audit_logentry` and `audit_checkpoint`
(triggers created by this app's migrations, see `audit/triggers.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audit import context
from audit.chain import (
    CHAIN_VERSION,
    CHAINED_FIELDS,
    GENESIS_HASH,
    canonical_tail,
    chained_fields,
    entry_hash_of,
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
    """One row: the last entry's sequence, hash and parent hash. Locked for as long as the
    transaction that appends to the chain lives, so appends are strictly ordered; every
    append moves it forward in the same transaction."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    entry_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_head")]

    def __str__(self) -> str:
        return f"head {self.sequence} {self.entry_hash}"


# PostgreSQL appends one entry in one round trip: the UPDATE takes the head's row lock (waiting
# for any other appender to commit, then re-reading the row), assigns the next sequence number
# and computes the new hash from the old one, all from the same row version; the INSERT stores
# the entry with them. In an UPDATE every expression sees the old row, so prev_hash is the old
# entry_hash. The hash is the same SHA-256 over prev_hash || "[" || sequence || "," || tail
# that `audit.chain.entry_hash_of` computes.
_PG_APPEND = """
WITH head AS (
    UPDATE audit_chainhead
       SET sequence = sequence + 1,
           prev_hash = entry_hash,
           entry_hash = encode(
               sha256(convert_to(entry_hash || '[' || (sequence + 1)::text || ',', 'UTF8') || %s),
               'hex')
     WHERE id = 1
    RETURNING sequence, prev_hash, entry_hash
)
INSERT INTO audit_logentry ({columns}, sequence, prev_hash, entry_hash)
SELECT {placeholders}, head.sequence, head.prev_hash, head.entry_hash FROM head
RETURNING id, sequence, prev_hash, entry_hash
"""
_PG_COLUMNS = [name for name in CHAINED_FIELDS if name != "sequence"]


class LogEntryChainManager(LogEntryManager):
    def create(self, **kwargs) -> LogEntry:
        return self.append([self.model(**kwargs)])[0]

    def append(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Chain and insert entries, in the caller's transaction.

        Refuses to run outside a transaction: the entry must commit or roll back together with
        the change it records.
        """
        connection = transaction.get_connection(self.db)
        if not connection.in_atomic_block:
            raise AuditError("Audited changes must run inside a transaction (transaction.atomic).")
        bound = context.current()
        now = timezone.now()
        for entry in entries:
            _prepare(entry, bound, now)
        if connection.vendor == "postgresql" and len(entries) == 1:
            return [self._append_one_postgresql(connection, entries[0])]
        # Already inside the caller's transaction: no savepoint, one lock for the whole batch.
        with transaction.atomic(using=self.db, savepoint=False):
            head = ChainHead.objects.using(self.db).select_for_update().get(pk=1)
            for entry in entries:
                entry.sequence = head.sequence + 1
                entry.prev_hash = head.entry_hash
                entry.entry_hash = entry_hash_of(entry.prev_hash, entry.chained_values())
                head.sequence, head.prev_hash, head.entry_hash = (
                    entry.sequence,
                    entry.prev_hash,
                    entry.entry_hash,
                )
            created = self.bulk_create(entries)
            head.save(update_fields=["sequence", "prev_hash", "entry_hash"])
        return created

    def _append_one_postgresql(self, connection, entry: LogEntry) -> LogEntry:
        fields = [entry._meta.get_field(name) for name in _PG_COLUMNS]
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        sql = _PG_APPEND.format(columns=columns, placeholders=", ".join(["%s"] * len(fields)))
        params = [canonical_tail(entry.chained_values())]
        params += [
            field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            entry.id, entry.sequence, entry.prev_hash, entry.entry_hash = cursor.fetchone()
        entry._state.adding, entry._state.db = False, self.db
        return entry


def _prepare(entry: LogEntry, bound: context.AuditContext, now: datetime) -> None:
    if entry.actor_id is None and bound.actor is not None and bound.actor.pk is not None:
        entry.actor = bound.actor
    entry.remote_addr = entry.remote_addr or bound.remote_addr
    entry.cid = entry.cid or bound.cid
    entry.client_request_id = entry.client_request_id or bound.client_request_id
    entry.chain_version = CHAIN_VERSION
    entry.timestamp = now
    entry.serialized_data = None
    # Hash what the database will give back: django-auditlog passes integer keys as ints.
    for name in (
        "object_pk",
        "object_repr",
        "changes_text",
        "cid",
        "client_request_id",
        "actor_email",
    ):
        field = entry._meta.get_field(name)
        setattr(entry, name, field.to_python(getattr(entry, name)))
    model = entry.content_type.model_class()
    if not is_registered(model):
        raise AuditError(f"{model} is not registered with audit.registry.register().")
    entry.changes, entry.object_repr = redact(
        model, entry.changes, entry.object_pk, entry.object_repr
    )
    reject_floats(entry.changes, "changes")
    reject_floats(entry.additional_data, "additional data")


class LogEntry(AbstractLogEntry):
    # Log rows outlive what they describe: deleting a user or a content type must not rewrite
    # (SET NULL) or cascade-delete history, so both references are protected.
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, related_name="+", db_index=False
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
    sequence = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    objects = LogEntryChainManager()

    class Meta(AbstractLogEntry.Meta):
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["content_type", "object_pk"], name="audit_entry_object")]
        constraints = [
            models.CheckConstraint(condition=models.Q(sequence__gt=0), name="audit_sequence_gt_0")
        ]

    def chained_values(self) -> list:
        return [getattr(self, field) for field in chained_fields(self.chain_version)]

    @property
    def action_name(self) -> str:
        return Action.names.get(self.action, str(self.action))


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
