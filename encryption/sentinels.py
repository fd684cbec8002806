"""Can the configured keys open the data already stored? Asked at start-up and by `/readyz`.

Each KEK leaves a sentinel in the database the first time it wraps a data key: a constant
sealed under it. The configured keys are wrong when a KEK that wraps stored data keys is not
configured, when a configured KEK's sentinel (or one of its data keys) does not open, or when
the blind-index key is not the one the stored indexes were made with. The server then refuses
to start, naming the key id, and nothing is written: a wrong key never seals or overwrites.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from encryption.datakeys import NONCE_BYTES, unwrap
from encryption.exceptions import EncryptionError
from encryption.keyring import INDEX_SENTINEL_ID, Keyring, keyring
from encryption.models import DataKey, KeySentinel
from encryption.opened import unshown

SENTINEL_PLAINTEXT = b"safe-passage key sentinel v1"
INDEX_KEY_REFUSAL = (
    "ENCRYPTION_INDEX_KEY is not the key the stored blind indexes were made with: refusing to "
    "write indexes under it."
)


def _kek_aad(kek_id: str) -> bytes:
    return b"safe-passage kek sentinel v1|" + kek_id.encode()


def _index_fingerprint(ring: Keyring) -> bytes:
    return hmac.new(ring.index_key_for("sentinel"), SENTINEL_PLAINTEXT, hashlib.sha256).digest()


def _kek_opens(ring: Keyring, sentinel: KeySentinel) -> bool:
    blob = bytes(sentinel.sealed)
    try:
        opened = ring.kek(sentinel.key_id).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _kek_aad(sentinel.key_id)
        )
    except InvalidTag:
        return False
    return opened == SENTINEL_PLAINTEXT


def _tables_exist() -> bool:
    names = connection.introspection.table_names()
    return DataKey._meta.db_table in names and KeySentinel._meta.db_table in names


def key_problems(ring: Keyring | None = None) -> list[str]:
    """What is wrong with the configured keys for the stored data; empty when all is well."""
    ring = ring or keyring()
    if not _tables_exist():
        return []
    problems: list[str] = []
    in_use = set(
        DataKey.objects.filter(destroyed_at__isnull=True)
        .order_by()
        .values_list("kek_id", flat=True)
        .distinct()
    )
    for kek_id in sorted(in_use - set(ring.keks)):
        problems.append(f"key-encryption key {kek_id!r} wraps stored data keys but is not loaded")
    for sentinel in KeySentinel.objects.order_by("key_id"):
        if sentinel.kind == KeySentinel.Kind.KEK and sentinel.key_id in ring.keks:
            if not _kek_opens(ring, sentinel):
                problems.append(f"key-encryption key {sentinel.key_id!r} is not the stored one")
        elif sentinel.kind == KeySentinel.Kind.INDEX and not hmac.compare_digest(
            bytes(sentinel.sealed), _index_fingerprint(ring)
        ):
            problems.append("ENCRYPTION_INDEX_KEY is not the key the blind indexes use")
    problems += _index_sample_problems(ring)
    for kek_id in sorted(in_use & set(ring.keks)):
        sample = DataKey.objects.filter(kek_id=kek_id, destroyed_at__isnull=True).first()
        try:
            if sample is not None:
                unwrap(sample, ring=ring)
        except EncryptionError:
            problems.append(
                f"key-encryption key {kek_id!r} does not open its data keys "
                f"(data key {sample.pk} fails)"
            )
    return list(dict.fromkeys(problems))


def _index_sample_problems(ring: Keyring) -> list[str]:
    """Recompute one stored index per indexed field from its decrypted source: catches a wrong
    index key (or phone region) even where no sentinel was stored, e.g. after a partial
    restore."""
    from django.apps import apps

    from encryption.blind_index import BlindIndexField

    problems = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, BlindIndexField):
                continue
            row = (
                model._default_manager.filter(**{f"{field.attname}__isnull": False})
                .order_by()
                .first()
            )
            if row is None:
                continue
            try:
                with unshown():  # compared with the stored index, never shown
                    expected = field.index_of(getattr(row, field.source), ring=ring)
            except EncryptionError:
                continue  # the KEK checks report keys that cannot open the source
            except ValueError:
                expected = None
            if expected != getattr(row, field.attname):
                problems.append(
                    f"ENCRYPTION_INDEX_KEY (or PHONE_DEFAULT_REGION) does not reproduce the "
                    f"stored {field.label()} index"
                )
    return problems


@transaction.atomic
def ensure_sentinels(ring: Keyring | None = None) -> None:
    """Store the sentinels the configured keys do not have yet; never replace one."""
    ring = ring or keyring()
    existing = set(KeySentinel.objects.values_list("key_id", flat=True))
    for kek_id in ring.keks:
        if kek_id not in existing:
            nonce = os.urandom(NONCE_BYTES)
            sealed = nonce + ring.kek(kek_id).encrypt(nonce, SENTINEL_PLAINTEXT, _kek_aad(kek_id))
            KeySentinel.objects.get_or_create(
                key_id=kek_id, defaults={"kind": KeySentinel.Kind.KEK, "sealed": sealed}
            )
    if INDEX_SENTINEL_ID not in existing:
        KeySentinel.objects.get_or_create(
            key_id=INDEX_SENTINEL_ID,
            defaults={"kind": KeySentinel.Kind.INDEX, "sealed": _index_fingerprint(ring)},
        )


def require_usable_keys(ring: Keyring | None = None) -> None:
    """Raise ImproperlyConfigured, naming the key ids, unless the keys open the stored data;
    then record sentinels for keys that have none. Before any write, so wrong keys write
    nothing."""
    ring = ring or keyring()
    problems = key_problems(ring)
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start: the configured encryption keys cannot open the stored data: "
            + "; ".join(problems)
            + ". Load the missing or correct keys (ENCRYPTION_KEKS, ENCRYPTION_INDEX_KEY)."
        )
    if _tables_exist():
        ensure_sentinels(ring)


def require_index_sentinel(ring: Keyring) -> None:
    """Before a blind index is written: the index key must be the stored indexes' key."""
    if INDEX_SENTINEL_ID in ring.verified:
        return
    sentinel = KeySentinel.objects.filter(pk=INDEX_SENTINEL_ID).first()
    if sentinel is None:
        if _index_sample_problems(ring):
            raise EncryptionError(INDEX_KEY_REFUSAL)
        ensure_sentinels(ring)
    elif not hmac.compare_digest(bytes(sentinel.sealed), _index_fingerprint(ring)):
        raise EncryptionError(INDEX_KEY_REFUSAL)
    ring.verified.add(INDEX_SENTINEL_ID)


def require_active_kek_sentinel(ring: Keyring) -> None:
    """Before the active KEK wraps anything: its sentinel must open (or be created now)."""
    sentinel = KeySentinel.objects.filter(pk=ring.active_kek_id).first()
    if sentinel is None:
        ensure_sentinels(ring)
    elif not _kek_opens(ring, sentinel):
        raise EncryptionError(
            f"Key-encryption key {ring.active_kek_id!r} is not the stored one: refusing to "
            "wrap data keys under it."
        )


def readiness_check() -> str | None:
    try:
        problems = key_problems()
    except ImproperlyConfigured as exc:
        return str(exc)
    return "; ".join(problems) or None
