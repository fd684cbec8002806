"""Ed25519 checkpoints of the chain's head, signed with a key held outside the database.

The signing key is `AUDIT_SIGNING_KEY` (a PEM PKCS#8 Ed25519 private key, or `_FILE`); in
development one is generated under `var/`. Verifying needs only the public key: give auditors
and the board a copy (`manage.py audit_checkpoint --public-key`) together with checkpoints.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORMAT = "safe-passage-audit-checkpoint/1"
SIGNED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class SignedCheckpoint:
    sequence: int
    entry_hash: str
    signed_at: str
    key_id: str
    signature: str
    format: str = FORMAT

    def payload(self) -> bytes:
        body = {
            "format": self.format,
            "sequence": self.sequence,
            "entry_hash": self.entry_hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SignedCheckpoint:
        try:
            data = json.loads(text)
            checkpoint = cls(**{key: data[key] for key in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError, RecursionError) as exc:  # nested too deep
            raise ValueError(f"Not a checkpoint document ({type(exc).__name__}).") from None
        if checkpoint.format != FORMAT or not isinstance(checkpoint.sequence, int):
            raise ValueError(f"Not a {FORMAT} document.")
        return checkpoint


def signed_document_of(stored: object) -> SignedCheckpoint:
    """The signed document of a stored checkpoint (an `audit.models.Checkpoint`)."""
    return SignedCheckpoint(
        sequence=stored.sequence,
        entry_hash=stored.entry_hash,
        signed_at=stored.signed_at.strftime(SIGNED_AT_FORMAT),
        key_id=stored.key_id,
        signature=stored.signature,
    )


def _load_private_key() -> Ed25519PrivateKey:
    pem = settings.AUDIT_SIGNING_KEY
    if not pem:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY (or AUDIT_SIGNING_KEY_FILE) is not set.")
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be an Ed25519 private key.")
    return key


def load_public_key(pem: str | None = None) -> Ed25519PublicKey:
    """The given PEM public key, else AUDIT_CHECKPOINT_PUBLIC_KEY, else the signing key's."""
    pem = pem or settings.AUDIT_CHECKPOINT_PUBLIC_KEY
    if pem:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ImproperlyConfigured("The checkpoint public key must be an Ed25519 key.")
        return key
    return _load_private_key().public_key()


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id_of(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_head(*, sequence: int, entry_hash: str) -> SignedCheckpoint:
    key = _load_private_key()
    unsigned = SignedCheckpoint(
        sequence=sequence,
        entry_hash=entry_hash,
        signed_at=datetime.now(UTC).strftime(SIGNED_AT_FORMAT),
        key_id=key_id_of(key.public_key()),
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.payload())).decode("ascii")
    return SignedCheckpoint(**{**asdict(unsigned), "signature": signature})


def signature_is_valid(checkpoint: SignedCheckpoint, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.payload())
    except (InvalidSignature, ValueError):
        return False
    return True
