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
    """`record_reads` for records that each revealed the same `fields`."""
    fields = list(fields)
    return record_reads(revealed=[(instance, fields) for instance in instances], actor=actor)


@writes.atomic
def record_reads(
    *, revealed: Sequence[tuple[Model, Iterable[str]]], actor: Any = _UNSET
) -> list[LogEntry]:
    """What one response revealed, written at once as ONE ACCESS entry: who (`actor`, or the
    bound one), when, and every record and field it showed, in the order given, as
    `additional_data = {"read": [{"type": "app.model", "id": "<pk>", "fields": [...]}, ...]}`
    (the fields sorted; pairs without fields are left out; one record twice is merged).

    The entry's own content type is the first record's, and its object that record when it is
    the only one (otherwise "", and its repr says how many). The database indexes each record
    read (`AccessIndex`) as the entry is inserted, so "who read this record" stays one indexed
    query. The disclosure layer's flush (`audit.disclosure`) is the caller; call it before the
    response leaves: if the entry cannot be written, the data must not be sent either.
    Returns [] (nothing written) or [the entry]."""
    merged: dict[tuple[str, str], tuple[Model, set[str]]] = {}
    for instance, fields in revealed:
        fields = set(fields)
        if not fields:
            continue
        key = (instance._meta.label_lower, str(instance.pk))
        merged.setdefault(key, (instance, set()))[1].update(fields)
    if not merged:
        return []
    reads = [
        {"type": label, "id": pk, "fields": sorted(fields)}
        for (label, pk), (_instance, fields) in merged.items()
    ]
    instances = [instance for instance, _fields in merged.values()]
    if len(instances) == 1:
        entry = _entry(instances[0], action=Action.ACCESS, actor=actor, data={"read": reads})
    else:
        entry = _entry(
            None, model=type(instances[0]), action=Action.ACCESS, actor=actor, data={"read": reads}
        )
        entry.object_repr = f"{len(instances)} records"
    return LogEntry.objects.append([entry])
