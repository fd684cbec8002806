"""Envelope encryption: issue, unwrap, rewrap and destroy the per-record data keys.

A data key is 32 random bytes, stored only as `nonce || AES-256-GCM(KEK, key)` with the
associated data binding it to its owner and to the KEK that wrapped it. Unwrapped keys live on
the `DataKey` instance that was loaded (so for one request at most) and are never logged.
"""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db.models import Model

from encryption.exceptions import DecryptionError, KeyDestroyed
from encryption.keyring import KEY_BYTES, Keyring, keyring
from encryption.models import DataKey

NONCE_BYTES = 12
CIPHER_ATTR = "_unwrapped_cipher"


def owner_label_of(owner: Model | type[Model]) -> str:
    return owner._meta.label_lower


def wrap_aad(*, owner_label: str, owner_id: uuid.UUID, kek_id: str) -> bytes:
    return b"|".join(
        [b"safe-passage data key v1", owner_label.encode(), owner_id.bytes, kek_id.encode()]
    )


def wrap(key: bytes, *, owner_label: str, owner_id: uuid.UUID, ring: Keyring) -> tuple[str, bytes]:
    """(kek id, wrapped key) under the active KEK."""
    kek_id = ring.active_kek_id
    nonce = os.urandom(NONCE_BYTES)
    aad = wrap_aad(owner_label=owner_label, owner_id=owner_id, kek_id=kek_id)
    return kek_id, nonce + ring.kek(kek_id).encrypt(nonce, key, aad)


def unwrap(data_key: DataKey, *, ring: Keyring | None = None) -> bytes:
    if data_key.destroyed or data_key.wrapped is None:
        raise KeyDestroyed(f"Data key {data_key.pk} was destroyed; what it sealed is gone.")
    return unwrap_key(
        wrapped=bytes(data_key.wrapped),
        key_id=data_key.pk,
        owner_label=data_key.owner_label,
        owner_id=data_key.owner_id,
        kek_id=data_key.kek_id,
        ring=ring or keyring(),
    )


def unwrap_key(
    *,
    wrapped: bytes,
    key_id: uuid.UUID,
    owner_label: str,
    owner_id: uuid.UUID,
    kek_id: str,
    ring: Keyring,
) -> bytes:
    """The data key in `wrapped`, from a row's values (`key_id` only names it in errors): what
    `unwrap` does for a `DataKey`, and what a data migration's historical rows need."""
    aad = wrap_aad(owner_label=owner_label, owner_id=owner_id, kek_id=kek_id)
    try:
        key = ring.kek(kek_id).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionError(
            f"Data key {key_id} does not open with key-encryption key "
            f"{kek_id!r}: the configured key is wrong or the row was altered."
        ) from None
    if len(key) != KEY_BYTES:
        raise DecryptionError(f"Data key {key_id} has the wrong length.")
    return key


def cipher_for(data_key: DataKey) -> AESGCM:
    """The data key's cipher, unwrapped once per loaded `DataKey` instance."""
    cipher = data_key.__dict__.get(CIPHER_ATTR)
    if cipher is None:
        cipher = data_key.__dict__[CIPHER_ATTR] = AESGCM(unwrap(data_key))
    return cipher
