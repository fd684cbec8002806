"""Writes on data keys: issue one for a new record, destroy one (crypto-shredding), rewrap all of
them under the active KEK (rotation)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from audit import writes
from audit.events import record_event
from audit.models import Action
from encryption.datakeys import CIPHER_ATTR, owner_label_of, unwrap, wrap
from encryption.keyring import KEY_BYTES, Keyring, keyring
from encryption.models import DataKey
from encryption.sentinels import require_active_kek_sentinel, require_usable_keys


@writes.atomic
def data_key_issue(*, owner: Model) -> DataKey:
    """A new data key for `owner`, whose UUID primary key is set before its insert."""
    ring = keyring()
    require_active_kek_sentinel(ring)
    key = secrets.token_bytes(KEY_BYTES)
    label = owner_label_of(owner)
    kek_id, wrapped = wrap(key, owner_label=label, owner_id=owner.pk, ring=ring)
    data_key = DataKey.objects.create(
        owner_label=label, owner_id=owner.pk, kek_id=kek_id, wrapped=wrapped
    )
    data_key.__dict__[CIPHER_ATTR] = AESGCM(key)
    return data_key


@writes.atomic
def data_key_destroy(*, data_key: DataKey) -> DataKey:
    """Crypto-shred: the wrapped key becomes NULL, and nothing sealed under it opens again."""
    data_key = DataKey.objects.select_for_update().get(pk=data_key.pk)
    if data_key.destroyed:
        return data_key
    data_key.wrapped = None
    data_key.destroyed_at = timezone.now()
    data_key.save(update_fields=["wrapped", "destroyed_at"])
    if connection.vendor == "sqlite":
        transaction.on_commit(_checkpoint_sqlite_wal)
    return data_key


def _checkpoint_sqlite_wal() -> None:
    """SQLite's write-ahead log still holds the page the wrapped key was written in: fold it
    into the database file (whose freed bytes `secure_delete` zeroes) and empty it. Best
    effort: with other readers active, the next checkpoint finishes the job."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def data_keys_to_rotate(ring: Keyring) -> int:
    live = DataKey.objects.filter(destroyed_at__isnull=True)
    return live.exclude(kek_id=ring.active_kek_id).count()


def data_keys_rotate(
    *,
    batch_size: int = 2000,
    on_batch: Callable[[int, int], None] | None = None,
    ring: Keyring | None = None,
) -> int:
    """Rewrap every live data key not under the active KEK; returns how many were rewrapped.

    Each batch is one transaction (rows locked, rewrapped, one audit event), so a run that is
    killed loses at most its current batch, which was never committed: running it again
    finishes the job. The keys are checked first, so wrong keys rewrap nothing.
    """
    ring = ring or keyring()
    require_usable_keys(ring)
    active = ring.active_kek_id
    total, done, after = data_keys_to_rotate(ring), 0, None
    while True:
        with transaction.atomic():
            pending = (
                DataKey.objects.select_for_update()
                .filter(destroyed_at__isnull=True)
                .exclude(kek_id=active)
                .order_by("id")
            )
            if after is not None:  # keyset paging: never rescan what this run rewrapped
                pending = pending.filter(id__gt=after)
            batch = list(pending[:batch_size])
            if not batch:
                break
            rows, previous = [], set()
            for data_key in batch:
                key = unwrap(data_key, ring=ring)
                previous.add(data_key.kek_id)
                _, wrapped = wrap(
                    key, owner_label=data_key.owner_label, owner_id=data_key.owner_id, ring=ring
                )
                rows.append((data_key.pk, wrapped))
            _write_rewrapped(rows, kek_id=active)
            # The rows are rewritten in one statement, not saved one by one, so the batch's
            # audit entry is written here: which KEKs, which new one, how many keys.
            record_event(
                action=Action.KEYS_REWRAPPED,
                instance=None,
                model=DataKey,
                data={"from": sorted(previous), "to": active, "count": len(batch)},
            )
        done, after = done + len(batch), batch[-1].pk
        if on_batch:
            on_batch(done, total)
    return done


def _write_rewrapped(rows: list[tuple[uuid.UUID, bytes]], *, kek_id: str) -> None:
    table = connection.ops.quote_name(DataKey._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement per batch: psycopg2's executemany is one round trip per row.
            from psycopg2.extras import execute_values

            execute_values(
                cursor.cursor,
                f"UPDATE {table} AS d SET kek_id = v.kek_id, wrapped = v.wrapped, "  # noqa: S608
                "rewrapped_at = v.at FROM (VALUES %s) AS v(id, kek_id, wrapped, at) "
                "WHERE d.id = v.id",
                [(str(pk), kek_id, wrapped, now) for pk, wrapped in rows],
                template="(%s::uuid, %s, %s::bytea, %s::timestamptz)",
                page_size=len(rows),
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET kek_id = %s, wrapped = %s, rewrapped_at = %s "  # noqa: S608
                "WHERE id = %s",
                [
                    (kek_id, wrapped, connection.ops.adapt_datetimefield_value(now), pk.hex)
                    for pk, wrapped in rows
                ],
            )
