"""The keys: key-encryption keys (KEKs) and the blind-index root key, read from settings.

KEKs come from `ENCRYPTION_KEKS` (or the file `ENCRYPTION_KEKS_FILE`): entries `id:base64-key`
separated by commas or newlines, the first one active. Every configured KEK can unwrap; only the
active one wraps. They never touch the database and are not derived from `SECRET_KEY`. The
blind-index root key (`ENCRYPTION_INDEX_KEY`) is separate, so an index leak says nothing about
the KEKs and the other way round; each indexed field gets its own key derived from it.

Nothing here logs or repeats a key: error messages name key ids only.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from encryption.exceptions import MissingKey

KEY_BYTES = 32
KEK_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}\Z")
# The blind-index key's sentinel is stored under this id, beside the KEKs' sentinels.
INDEX_SENTINEL_ID = "blind-index"


@dataclass(frozen=True)
class Keyring:
    keks: dict[str, bytes]
    active_kek_id: str
    index_key: bytes = field(repr=False)
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)
    # Which write-time key checks this keyring has passed (see encryption.sentinels).
    verified: set[str] = field(default_factory=set, repr=False, compare=False)

    def __repr__(self) -> str:  # never show key material, only which ids are loaded
        return f"Keyring(active={self.active_kek_id!r}, loaded={sorted(self.keks)!r})"

    def kek(self, kek_id: str) -> AESGCM:
        cipher = self._ciphers.get(kek_id)
        if cipher is None:
            if kek_id not in self.keks:
                raise MissingKey(kek_id)
            cipher = self._ciphers[kek_id] = AESGCM(self.keks[kek_id])
        return cipher

    def index_key_for(self, label: str) -> bytes:
        """The blind-index key of one field: HKDF-SHA256 of the root key, bound to the label."""
        return _derive_index_key(self.index_key, label)


@cache
def _derive_index_key(root: bytes, label: str) -> bytes:
    info = f"safe-passage blind index v1|{label}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(root)


def decode_key(text: str, *, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must be {KEY_BYTES} bytes (base64), not {len(key)}.")
    return key


def parse_keks(text: str) -> tuple[dict[str, bytes], str]:
    """`id:base64,id:base64` (or one per line) -> ({id: key}, active id)."""
    keks: dict[str, bytes] = {}
    entries = [entry.strip() for entry in re.split(r"[,\n]", text) if entry.strip()]
    for entry in entries:
        kek_id, sep, encoded = entry.partition(":")
        kek_id = kek_id.strip()
        if not sep or not KEK_ID_PATTERN.match(kek_id):
            raise ImproperlyConfigured(
                "ENCRYPTION_KEKS entries must look like 'id:base64-key' with an id of letters, "
                "digits, '.', '_' or '-' (at most 32)."
            )
        if kek_id in keks:
            raise ImproperlyConfigured(f"ENCRYPTION_KEKS names key {kek_id!r} twice.")
        if kek_id == INDEX_SENTINEL_ID:
            raise ImproperlyConfigured(
                f"{INDEX_SENTINEL_ID!r} is reserved; name the key otherwise."
            )
        keks[kek_id] = decode_key(encoded, name=f"ENCRYPTION_KEKS key {kek_id!r}")
    if not keks:
        raise ImproperlyConfigured("ENCRYPTION_KEKS holds no key.")
    return keks, entries[0].partition(":")[0].strip()


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


@cache
def keyring() -> Keyring:
    """The process's keyring, built once from settings (and again after a settings change)."""
    keks, active = parse_keks(settings.ENCRYPTION_KEKS)
    index_key = decode_key(settings.ENCRYPTION_INDEX_KEY, name="ENCRYPTION_INDEX_KEY")
    if any(index_key == kek for kek in keks.values()):
        raise ImproperlyConfigured("ENCRYPTION_INDEX_KEY must differ from every KEK.")
    return Keyring(keks=keks, active_kek_id=active, index_key=index_key)


def _reset(*, setting: str, **kwargs: object) -> None:
    if setting in {"ENCRYPTION_KEKS", "ENCRYPTION_INDEX_KEY"}:
        keyring.cache_clear()


setting_changed.connect(_reset, dispatch_uid="encryption-keyring-reset")
