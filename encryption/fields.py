"""Encrypted model fields: the database holds only sealed bytes, the model instance plaintext.

Stored format (version 1), as one binary column:

    0x01 | data key id (16 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag

The associated data is the 17-byte header, the field's label (`app.model.field`) and the row's
primary key, so a value copied into another row or column, or under another key, does not
open. `None` is stored as SQL NULL; `""`, `0` and `[]` are encrypted like any other value.

The owning record's data key is found through `key_from` (an attribute path from the instance,
`"data_key"` or `"case.data_key"`). A value is sealed in `pre_save`, once the primary key is
known, and opened lazily the first time the attribute is read; an unchanged value is never
re-encrypted. Opening fails closed: a value that does not authenticate raises, it never comes
back as ciphertext or as None.

Only `isnull` can be queried (the database holds nothing it could compare); exact matches go
through the blind indexes (`encryption.blind_index`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core import checks, exceptions
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from encryption.datakeys import NONCE_BYTES, cipher_for
from encryption.exceptions import DecryptionError, EncryptedLookupError, EncryptionError
from encryption.models import DataKey
from encryption.opened import note_opened

FORMAT_V1 = 1
HEADER_BYTES = 1 + 16
MIN_SEALED_BYTES = HEADER_BYTES + NONCE_BYTES + 16
_FORMAT_V1_BYTE = bytes([FORMAT_V1])


def _aad(header: bytes, label: bytes, pk: Any) -> bytes:
    """`label` ends with a NUL byte, so no label is a prefix of another's associated data."""
    return header + label + str(pk).encode()


def seal_blob(
    *, cipher: AESGCM, data_key_id: uuid.UUID, label: str, pk: Any, plaintext: bytes
) -> bytes:
    """The stored form of `plaintext` for the field `label` (`app.model.field`) of row `pk`,
    under the data key `data_key_id` (whose cipher is `cipher`).

    What a model save does; exposed for data migrations, whose historical models cannot reach
    the encryption through their instances."""
    header = _FORMAT_V1_BYTE + data_key_id.bytes
    nonce = os.urandom(NONCE_BYTES)
    aad = _aad(header, label.encode() + b"\x00", pk)
    return header + nonce + cipher.encrypt(nonce, plaintext, aad)


def open_blob(*, cipher: AESGCM, data_key_id: uuid.UUID, label: str, pk: Any, blob: bytes) -> bytes:
    """The plaintext `seal_blob` sealed; raises DecryptionError (naming only the field and row)
    when the blob is not that field's value of that row under that key."""
    where = f"{label} of row {pk}"
    if len(blob) < MIN_SEALED_BYTES or blob[0] != FORMAT_V1:
        raise DecryptionError(f"{where} is not in a known encrypted format.")
    if blob[1:HEADER_BYTES] != data_key_id.bytes:
        raise DecryptionError(f"{where} was sealed under another record's key.")
    aad = _aad(blob[:HEADER_BYTES], label.encode() + b"\x00", pk)
    try:
        return cipher.decrypt(
            blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES], blob[HEADER_BYTES + NONCE_BYTES :], aad
        )
    except InvalidTag:
        raise DecryptionError(f"{where} does not authenticate: altered or copied.") from None


class Sealed:
    """A value as the database holds it. Its repr says nothing about the plaintext."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def __repr__(self) -> str:
        return f"<sealed {len(self.blob)} bytes>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.blob == self.blob

    def __hash__(self) -> int:
        return hash(self.blob)


class EncryptedAttribute(DeferredAttribute):
    """Opens the sealed value on first read and keeps the plaintext beside it for the instance's
    lifetime; assigning a value replaces both. Each read of a stored value is noted for the
    disclosure layer's guard (`encryption.opened`)."""

    def __get__(self, instance: models.Model | None, cls: type | None = None) -> Any:
        if instance is None:
            return self
        raw = super().__get__(instance, cls)
        if not isinstance(raw, Sealed):
            return raw
        data, plain_key = instance.__dict__, self.field.plain_key
        if plain_key not in data:
            data[plain_key] = self.field.open(instance, raw)
        # Every read, not only the first: a value opened once for a check is still noted
        # when a response later reads it (encryption.opened).
        note_opened(instance, self.field.name)
        return data[plain_key]

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = value
        instance.__dict__.pop(self.field.plain_key, None)


class EncryptedField(models.BinaryField):
    """Base class: subclasses say how a value becomes bytes (`encode`) and back (`decode`)."""

    descriptor_class = EncryptedAttribute
    audit_sensitive = True  # audit entries record that the field changed, never its value
    empty_values = [None]

    def __init__(self, *args: Any, key_from: str = "data_key", **kwargs: Any) -> None:
        self.key_from = key_from
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)
        self.editable = True

    def deconstruct(self) -> tuple[str, str, list, dict]:
        name, path, args, kwargs = super().deconstruct()
        if self.key_from != "data_key":
            kwargs["key_from"] = self.key_from
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique or self.db_index or self.primary_key:
            errors.append(
                checks.Error(
                    "Encrypted fields cannot be unique, indexed or keys: use a blind index.",
                    obj=self,
                    id="encryption.E001",
                )
            )
        pk = self.model._meta.pk
        if not isinstance(pk, models.UUIDField) or not callable(pk.default):
            errors.append(
                checks.Error(
                    "A model with encrypted fields needs a UUID primary key generated in Python.",
                    obj=self,
                    id="encryption.E002",
                )
            )
        return errors

    # -- values ---------------------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    @property
    def plain_key(self) -> str:
        """Where the instance keeps the opened value, beside the sealed one."""
        return f"{self.attname}\x00plain"

    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    @cached_property
    def _aad_label(self) -> bytes:
        return self.label().encode() + b"\x00"

    @cached_property
    def _key_path(self) -> tuple[str, ...]:
        return tuple(self.key_from.split("."))

    def _where(self, instance: models.Model) -> str:
        return f"{self.label()} of {self.model.__name__} {instance.pk}"

    def data_key_of(self, instance: models.Model) -> DataKey:
        owner: Any = instance
        for part in self._key_path:
            owner = getattr(owner, part)
        if not isinstance(owner, DataKey):
            raise EncryptionError(f"{self._where(instance)} has no data key.")
        return owner

    def aad(self, header: bytes, instance: models.Model) -> bytes:
        return _aad(header, self._aad_label, instance.pk)

    def seal(self, instance: models.Model, value: Any) -> Sealed:
        data_key = self.data_key_of(instance)
        return Sealed(
            seal_blob(
                cipher=cipher_for(data_key),
                data_key_id=data_key.pk,
                label=self.label(),
                pk=instance.pk,
                plaintext=self.encode(value),
            )
        )

    def open(self, instance: models.Model, sealed: Sealed) -> Any:
        # The hot path of every list page: messages are built only when something is wrong.
        blob = sealed.blob
        if len(blob) < MIN_SEALED_BYTES or blob[0] != FORMAT_V1:
            raise DecryptionError(f"{self._where(instance)} is not in a known encrypted format.")
        data_key = self.data_key_of(instance)
        if blob[1:HEADER_BYTES] != data_key.pk.bytes:
            raise DecryptionError(f"{self._where(instance)} was sealed under another record's key.")
        try:
            data = cipher_for(data_key).decrypt(
                blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES],
                blob[HEADER_BYTES + NONCE_BYTES :],
                self.aad(blob[:HEADER_BYTES], instance),
            )
        except InvalidTag:
            raise DecryptionError(
                f"{self._where(instance)} does not authenticate: it was altered or copied "
                "from elsewhere."
            ) from None
        return self.decode(data)

    # -- Django plumbing --------------------------------------------------------------------

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Sealed | None:
        if value is None:
            return None
        if isinstance(value, str):  # text where bytes belong (SQLite): it fails to open later
            value = value.encode("utf-8", "surrogatepass")
        return Sealed(bytes(value))

    def to_python(self, value: Any) -> Any:
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> Sealed | None:
        raw = model_instance.__dict__.get(self.attname)
        if raw is None or isinstance(raw, Sealed):
            return raw
        value = self.to_python(raw)
        sealed = self.seal(model_instance, value)
        setattr(model_instance, self.attname, sealed)
        model_instance.__dict__[self.plain_key] = value
        return sealed

    def get_prep_value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.blob
        # Plaintext must never reach the database: only a model save seals values.
        raise EncryptionError(
            f"{self.label()} can only be written through a model save, which encrypts it."
        )

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        # QuerySet.update(field=Value(...)) sends an expression straight into the SQL,
        # past get_prep_value: refuse it the same way.
        if hasattr(value, "resolve_expression"):
            raise EncryptionError(
                f"{self.label()} can only be written through a model save, which encrypts it."
            )
        return "%s"

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise EncryptedLookupError(
            f"{self.label()} is encrypted: only 'isnull' can be queried "
            f"(not {lookup_name!r}); use its blind index for exact matches."
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise EncryptedLookupError(f"{self.label()} is encrypted and cannot be transformed.")

    def audit_token(self, instance: models.Model) -> str | None:
        """What the audit log compares to tell whether the value changed, without opening it:
        a digest of the stored bytes, or a marker for a value assigned but not sealed yet. The
        log records only *that* the field changed, never this token."""
        raw = instance.__dict__.get(self.attname)
        if raw is None:
            return None
        if isinstance(raw, Sealed):
            return "sealed:" + hashlib.sha256(raw.blob).hexdigest()
        return "assigned"

    def value_to_string(self, obj: models.Model) -> str:
        raise EncryptionError(f"{self.label()} is never serialised outside the API.")


class EncryptedTextField(EncryptedField):
    def to_python(self, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        raise exceptions.ValidationError(_("Enter text."), code="invalid")

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8", "surrogatepass")

    def decode(self, data: bytes) -> str:
        return data.decode("utf-8", "surrogatepass")


class EncryptedDateField(EncryptedField):
    def to_python(self, value: Any) -> datetime.date | None:
        if value is None:
            return None
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        raise exceptions.ValidationError(_("Enter a date (YYYY-MM-DD)."), code="invalid")

    def encode(self, value: datetime.date) -> bytes:
        return value.isoformat().encode("ascii")

    def decode(self, data: bytes) -> datetime.date:
        return datetime.date.fromisoformat(data.decode("ascii"))


class EncryptedJSONField(EncryptedField):
    """Any JSON value but null (None is the field's NULL). ASCII-escaped, so every string,
    lone surrogates included, comes back exactly."""

    def to_python(self, value: Any) -> Any:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise exceptions.ValidationError(_("Enter a JSON value."), code="invalid") from None
        return value

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode("ascii")

    def decode(self, data: bytes) -> Any:
        return json.loads(data)
