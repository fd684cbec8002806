"""Errors of the encryption layer. Messages name models, fields, record ids and key ids, never a
value or a key."""

from __future__ import annotations

from django.core.exceptions import FieldError


class EncryptionError(Exception):
    """Something that was encrypted cannot be opened, or cannot be encrypted safely."""


class MissingKey(EncryptionError):
    def __init__(self, kek_id: str) -> None:
        super().__init__(
            f"Key-encryption key {kek_id!r} is not configured (ENCRYPTION_KEKS): data wrapped "
            "under it cannot be opened."
        )
        self.kek_id = kek_id


class DecryptionError(EncryptionError):
    """A ciphertext failed to authenticate: tampered with, moved, or under another key."""


class KeyDestroyed(EncryptionError):
    """The record's data key was destroyed (crypto-shredded): its fields are gone for good."""


class EncryptedLookupError(FieldError):
    """A query compared an encrypted field with a value: only `isnull` (and the blind indexes)
    can be queried, because the database holds nothing it could compare."""
