"""The hash chain: a canonical serialisation of an entry and its SHA-256 link.

entry_hash = SHA-256( prev_hash || canonical(entry) ), where canonical(entry) is the UTF-8 JSON
array of the fields in `CHAINED_FIELDS` order: no whitespace, object keys sorted, timestamps as
UTC ISO 8601 with microseconds, UUIDs as strings, and no floats anywhere (a float's text form is
not stable across databases and languages). Both the writer and the verifier go through
`entry_hash_of`, so they cannot drift apart.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

CHAINED_FIELDS = (
    "sequence",
    "timestamp",
    "action",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "changes",
    "changes_text",
    "serialized_data",
    "additional_data",
    "actor_id",
    "actor_email",
    "cid",
    "remote_addr",
    "remote_port",
)

_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("Audit timestamps must be timezone-aware.")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


_REMOTE_ADDR = CHAINED_FIELDS.index("remote_addr")


def canonical(values: Sequence[Any]) -> bytes:
    normalised = [_normalise(value) for value in values]
    if normalised[_REMOTE_ADDR]:
        # Databases print addresses differently (PostgreSQL's inet keeps ::ffff:1.2.3.4).
        normalised[_REMOTE_ADDR] = ipaddress.ip_address(normalised[_REMOTE_ADDR]).exploded
    return _encoder.encode(normalised).encode("utf-8")


def entry_hash_of(prev_hash: str, values: Sequence[Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(values)).hexdigest()


def reject_floats(value: Any, where: str) -> None:
    """Floats would make the serialisation depend on how a database prints them."""
    if isinstance(value, float):
        raise TypeError(f"Audit {where} may not contain floats; use strings or integers.")
    if isinstance(value, dict):
        for item in value.values():
            reject_floats(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            reject_floats(item, where)
