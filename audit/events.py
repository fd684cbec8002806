"""Entries that no model save produces: staff events and reads of personal data.

django-auditlog writes create/update/delete entries from model signals; these helpers write
the rest through the same chained manager, in the caller's transaction when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from audit import writes
from audit.models import Action, LogEntry

_UNSET: Any = object()


def _entry(
    instance: Model | None,
    *,
    model: type[Model] | None = None,
    action: int,
    actor: Any = _UNSET,
    data: dict | None = None,
) -> LogEntry:
    model = model or type(instance)
    pk = "" if instance is None or instance.pk is None else str(instance.pk)
    entry = LogEntry(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=pk,
        object_repr=str(instance) if instance is not None else "",
        action=action,
        changes=None,
        additional_data=data,
    )
    if actor is not _UNSET:
        entry.actor = actor
    return entry


@writes.atomic
def record_event(
    *,
    action: int,
    instance: Model | None,
    model: type[Model] | None = None,
    actor: Any = _UNSET,
    data: dict | None = None,
) -> LogEntry:
    """A staff event (login, token issued or revoked, ...) about `instance`. `instance` may be
    None for a record that does not exist (a failed login for an unknown name): then `model`
    names what it would have been."""
    entry = _entry(instance, model=model, action=action, actor=actor, data=data)
    return LogEntry.objects.append([entry])[0]


@writes.atomic
def record_access(
    *, instances: Sequence[Model], fields: Iterable[str], actor: Any = _UNSET
) -> list[LogEntry]:
    """One ACCESS entry per record whose decrypted `fields` a response reveals: who (`actor`,
    or the bound one), which record, which fields, when. Call it before the response leaves:
    if the entry cannot be written, the data must not be sent either."""
    revealed = sorted(set(fields))
    if not instances or not revealed:
        return []
    entries = [
        _entry(instance, action=Action.ACCESS, actor=actor, data={"fields": revealed})
        for instance in instances
    ]
    return LogEntry.objects.append(entries)


@transaction.atomic
def record_reads(
    *, revealed: Sequence[tuple[Model, Iterable[str]]], actor: Any = _UNSET
) -> list[LogEntry]:
    """What one response revealed, written at once: one ACCESS entry per (record, fields)
    pair, in the order given. The disclosure layer's flush (`audit.disclosure`) is its caller;
    how a response's reads become entries is decided here, once."""
    entries = [
        _entry(instance, action=Action.ACCESS, actor=actor, data={"fields": sorted(set(fields))})
        for instance, fields in revealed
        if fields
    ]
    return LogEntry.objects.append(entries) if entries else []
