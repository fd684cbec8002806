"""The one way a model joins the audit log, and what its entries may never contain.

`register(Model, sensitive_fields=[...])` registers the model with django-auditlog and notes
which fields are personal or secret. For those, entries record only that the field changed:
the values are replaced before the entry is written (never masked: django-auditlog's masking
keeps half the value). Fields that declare `audit_sensitive = True` (the encrypted fields) are
sensitive without being listed, so a new encrypted field cannot be forgotten. Entries for a
model with sensitive fields name the record by its primary key only, never by `str()`, unless
it is registered with `safe_repr=True`: its `str()` is written to name the record by what is
not personal (a case by its reference), and reads better to an investigator than an id.

An entry's changes hold the model's own fields only (and the many-to-many fields registered):
django-auditlog lists every relation pointing at the record too (`auth_token_set`, a case's
`needs`), whose "values" say nothing but that the relation exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditlog.registry import auditlog
from django.db import transaction
from django.db.models import Model, signals

from audit.exceptions import AuditError

REDACTED = "[redacted]"

_sensitive: dict[type[Model], frozenset[str]] = {}
_recorded: dict[type[Model], frozenset[str]] = {}  # the fields an entry's changes may name
_safe_repr: set[type[Model]] = set()


def register(
    model: type[Model],
    *,
    sensitive_fields: Iterable[str] = (),
    exclude_fields: Iterable[str] = (),
    m2m_fields: Iterable[str] = (),
    safe_repr: bool = False,
) -> None:
    declared = {
        field.name
        for field in model._meta.concrete_fields
        if getattr(field, "audit_sensitive", False)
    }
    names = {field.name for field in model._meta.get_fields()}
    unknown = (set(sensitive_fields) | set(exclude_fields) | set(m2m_fields)) - names
    if unknown:
        raise ValueError(f"{model.__name__} has no field(s) {sorted(unknown)}.")
    _sensitive[model] = frozenset(declared | set(sensitive_fields))
    _recorded[model] = frozenset(
        {field.name for field in model._meta.concrete_fields} | set(m2m_fields)
    )
    if safe_repr:
        _safe_repr.add(model)
    auditlog.register(model, exclude_fields=list(exclude_fields), m2m_fields=set(m2m_fields))
    # django-auditlog logs a creation after the fact (post_save): a save outside a transaction
    # would be committed before its entry could be refused, so the save itself is refused.
    # (Django runs deletions and m2m changes in a transaction of their own.)
    uid = f"audit-requires-transaction-{model._meta.label_lower}"
    signals.pre_save.connect(_require_transaction, sender=model, dispatch_uid=uid)


def _require_transaction(sender: type[Model], using: str | None = None, **kwargs: Any) -> None:
    if not transaction.get_connection(using).in_atomic_block:
        raise AuditError("Audited changes must run inside a transaction (transaction.atomic).")


def is_registered(model: type[Model]) -> bool:
    return model in _sensitive and auditlog.contains(model)


def registered_models() -> list[type[Model]]:
    """Every model that has entries in the log, in a stable order."""
    return sorted(_sensitive, key=lambda model: model._meta.label_lower)


def sensitive_fields_of(model: type[Model]) -> frozenset[str]:
    return _sensitive.get(model, frozenset())


def redact(
    model: type[Model] | None, changes: Any, object_pk: str, object_repr: str
) -> tuple[Any, str]:
    """The entry's changes (the model's own fields only) and representation, with every
    sensitive value removed."""
    recorded = _recorded.get(model) if model else None
    if isinstance(changes, dict) and recorded is not None:
        changes = {name: value for name, value in changes.items() if name in recorded}
    sensitive = _sensitive.get(model, frozenset()) if model else frozenset()
    if not sensitive:
        return changes, object_repr
    if isinstance(changes, dict):
        changes = {
            name: _redacted(value) if name in sensitive else value
            for name, value in changes.items()
        }
    if model in _safe_repr:
        return changes, object_repr
    return changes, f"{model.__name__} {object_pk}"


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):  # an m2m change: keep the operation, not the objects
        return {**value, "objects": [REDACTED] * len(value.get("objects", []))}
    return [REDACTED, REDACTED]
