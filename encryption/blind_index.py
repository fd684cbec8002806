"""Blind indexes: exact-match look-ups over encrypted values without decrypting anything.

A blind index is HMAC-SHA256, under a key of its own derived from `ENCRYPTION_INDEX_KEY`, over a
normalised value: two spellings of the same phone number, name or document number give the same
index, and the index reveals nothing without the key. `BlindIndexField(source="phone",
normalizer="phone")` keeps it up to date on every save; `blind_index_for(Model, "phone_index",
value)` computes what to look for.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import models
from django.db.models import signals

from encryption.exceptions import EncryptedLookupError, EncryptionError
from encryption.fields import Sealed
from encryption.keyring import Keyring, keyring
from encryption.opened import unshown
from encryption.sentinels import require_index_sentinel

_SPACES = re.compile(r"\s+")


def normalize_name(value: str) -> str:
    """Unicode-normalised (NFKC), case-folded, whitespace collapsed: 'ЁЛКИН  Иван' matches
    'ёлкин иван', and full-width or composed letters match their plain forms."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return _SPACES.sub(" ", folded).strip()


def normalize_phone(value: str) -> str:
    """E.164. A number without a country code is read as one of `PHONE_DEFAULT_REGION`, so
    '8 (928) 000-00-00' and '+7 928 000-00-00' are the same number in Russia."""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_document_number(value: str) -> str:
    """Letters and digits only, case-folded: 'AB 12-34/56' matches 'ab123456'."""
    text = unicodedata.normalize("NFKC", value).casefold()
    return "".join(char for char in text if char.isalnum())


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "name": normalize_name,
    "phone": normalize_phone,
    "document_number": normalize_document_number,
}


def blind_index(label: str, normalized: str, *, ring: Keyring | None = None) -> str:
    key = (ring or keyring()).index_key_for(label)
    return hmac.new(key, normalized.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


class BlindIndexField(models.CharField):
    """The HMAC of `source`'s normalised value; None when the source is None or blank."""

    audit_sensitive = True  # an index is a stable fingerprint of a phone or name: not for logs
    allowed_lookups = frozenset({"exact", "in", "isnull"})

    def __init__(
        self, *args: Any, source: str, normalizer: str, label: str | None = None, **kwargs: Any
    ) -> None:
        if normalizer not in NORMALIZERS:
            raise ValueError(f"Unknown normalizer {normalizer!r}.")
        self.source, self.normalizer, self.index_label = source, normalizer, label
        kwargs.update(max_length=64, null=True, blank=True, editable=False, db_index=True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list, dict]:
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_length", "null", "blank", "editable", "db_index"):
            kwargs.pop(key, None)
        kwargs.update(source=self.source, normalizer=self.normalizer)
        if self.index_label:
            kwargs["label"] = self.index_label
        return name, path, args, kwargs

    def label(self) -> str:
        """Names the derived key. Fixed once data exists: a new label means new indexes."""
        return self.index_label or f"{self.model._meta.label_lower}.{self.source}"

    def contribute_to_class(self, cls: type[models.Model], name: str, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, **kwargs)
        if not cls._meta.abstract:
            # Computed again in a pre_save receiver connected now, as the model class is built,
            # so it runs before django-auditlog's (connected later, in ready()): the audit
            # entry of a correction then records that the index changed too.
            signals.pre_save.connect(
                _refresh_index, sender=cls, weak=False, dispatch_uid=f"blind-index-{name}"
            )

    def index_of(self, value: str | None, *, ring: Keyring | None = None) -> str | None:
        if value is None or not value.strip():
            return None
        normalized = NORMALIZERS[self.normalizer](value)
        return blind_index(self.label(), normalized, ring=ring) if normalized else None

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        source = model_instance._meta.get_field(self.source)
        data = model_instance.__dict__
        if isinstance(data.get(source.attname), Sealed) and source.plain_key not in data:
            return getattr(model_instance, self.attname)  # never opened, so never changed
        require_index_sentinel(keyring())  # a wrong index key must write nothing
        with unshown():  # read into a keyed digest, never shown
            value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in self.allowed_lookups:
            raise EncryptedLookupError(
                f"A blind index answers only exact matches, not {lookup_name!r}."
            )
        return super().get_lookup(lookup_name)


def _refresh_index(
    sender: type[models.Model],
    instance: models.Model,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    for field in sender._meta.concrete_fields:
        if not isinstance(field, BlindIndexField):
            continue
        # save(update_fields=...) (or a save of a partly loaded row) that writes the source
        # but not its index would leave a stale index matching the old value: refused.
        saved = update_fields
        if saved is not None and field.source in saved and field.name not in saved:
            raise EncryptionError(
                f"Saving {field.source} without {field.name} would leave its blind index "
                f"stale: add {field.name!r} to update_fields."
            )
        field.pre_save(instance, instance._state.adding)


def blind_index_for(model: type[models.Model], field_name: str, value: str) -> str | None:
    """What `model.field_name` holds for `value` (raises ValueError for an unusable phone)."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, BlindIndexField):
        raise TypeError(f"{model.__name__}.{field_name} is not a blind index.")
    return field.index_of(value)
