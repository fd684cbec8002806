"""The hash chain: a canonical serialisation of an entry and its SHA-256 link.

    entry_hash = SHA-256( prev_hash || canonical(entry) )

canonical(entry) is the UTF-8 JSON array of the entry's chained fields in order, with no
whitespace, object keys sorted, the timestamp in UTC as ISO 8601 with microseconds, UUIDs in
their hyphenated form, addresses fully expanded, and no floats anywhere (a float's text is not
stable across databases and languages). The writer, the PostgreSQL fast path and the verifier
all go through `canonical_tail`, so they cannot drift apart; values may arrive as Python
objects (when written) or as the database's raw text (when verified).

Which fields are chained is versioned, and every entry records its version (`chain_version`),
so a log written before a field joined the chain still verifies:

- version 1: the sixteen fields of `CHAINED_FIELDS_V1`;
- version 2: version 1's fields, then `client_request_id` and the version number itself, so
  an entry cannot be passed off as version 1 to drop a field from its hash. The arrays have
  different lengths, so no entry of one version reads as the other.
- version 3 (every entry written now): the chain is built at commit. The entry carries the
  digest of its own content, computed when it is written,

      digest = SHA-256( canonical(entry without its sequence) )

  over version 2's fields but the sequence (not known until commit), and its chain link,
  written at commit into the insert-only link table, is

      entry_hash = SHA-256( prev_hash || "[" || sequence || ',"' || digest || '"]' )

  Versions 1 and 2 hash their content with the sequence, as above; their links were copied
  unchanged into the link table when it was created.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS_HASH = "0" * 64

CHAINED_FIELDS_V1 = (
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
CHAINED_FIELDS_V2 = (*CHAINED_FIELDS_V1, "client_request_id", "chain_version")
CHAINED_FIELDS_V3 = CHAINED_FIELDS_V2[1:]  # the sequence is the link's, no longer the entry's
CHAIN_VERSION = 3  # what every entry is written with
DIGEST_FROM = 3  # versions from this one chain a digest of the content, linked at commit
CHAINED_FIELDS = CHAINED_FIELDS_V2  # every column any version chains, in order
_BY_VERSION = {1: CHAINED_FIELDS_V1, 2: CHAINED_FIELDS_V2, 3: CHAINED_FIELDS_V3}
# Version 2 only appends fields, so these positions hold in every version.
_TIMESTAMP = CHAINED_FIELDS.index("timestamp")
_ACTOR = CHAINED_FIELDS.index("actor_id")
_REMOTE_ADDR = CHAINED_FIELDS.index("remote_addr")
_JSON = tuple(
    CHAINED_FIELDS.index(name) for name in ("changes", "serialized_data", "additional_data")
)


def chained_fields(version: int) -> tuple[str, ...]:
    """The fields an entry of `version` chains, in order (ValueError for an unknown one)."""
    try:
        return _BY_VERSION[version]
    except (KeyError, TypeError):
        raise ValueError(f"unknown chain version {version!r}") from None


def _timestamp(value: datetime | str) -> str:
    if isinstance(value, str):
        if value.endswith("+00:00"):  # already canonical (the verifier asks PostgreSQL for it)
            return value
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite hands back the naive UTC time Django stored
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _actor(value: uuid.UUID | str) -> str:
    """The hyphenated form (SQLite stores a UUID as 32 hex digits)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return str(uuid.UUID(value))
    raise TypeError("actor_id must be a UUID.")


@functools.lru_cache(maxsize=4096)  # a log holds few distinct addresses, each many times
def _address(value: str) -> str:
    return ipaddress.ip_address(value).exploded


def canonical_tail(values: Sequence[Any]) -> bytes:
    """canonical(entry) without its opening `[sequence,`: what follows the sequence number.

    Split this way so PostgreSQL can prepend the sequence number it assigns under its lock.
    """
    rest = list(values[1:])
    rest[_TIMESTAMP - 1] = _timestamp(values[_TIMESTAMP])
    actor = values[_ACTOR]
    if actor is not None and (type(actor) is not str or len(actor) != 36):
        rest[_ACTOR - 1] = _actor(actor)
    if values[_REMOTE_ADDR]:
        rest[_REMOTE_ADDR - 1] = _address(values[_REMOTE_ADDR])
    for index in _JSON:
        if type(values[index]) is str:  # raw JSON text from the database
            rest[index - 1] = orjson.loads(values[index])
    return orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)[1:]


def canonical(values: Sequence[Any]) -> bytes:
    return b"[%d," % values[0] + canonical_tail(values)


def entry_hash_of(prev_hash: str, values: Sequence[Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(values)).hexdigest()


def digest_of(values: Sequence[Any]) -> str:
    """SHA-256 (hex) of canonical(entry) without its sequence: `values` are an entry's
    `CHAINED_FIELDS_V3`, as Python objects or as the database's raw text."""
    return hashlib.sha256(b"[" + canonical_tail([None, *values])).hexdigest()


def link_hash_of(prev_hash: str, sequence: int, digest: str) -> str:
    """A version 3 entry's chain hash (hex). The PostgreSQL function `audit_chain_commit`
    computes the same bytes (see `audit.triggers`)."""
    return hashlib.sha256(
        b'%s[%d,"%s"]' % (prev_hash.encode("ascii"), sequence, digest.encode("ascii"))
    ).hexdigest()


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
