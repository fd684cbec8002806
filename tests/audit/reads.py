"""Reads as the tests ask about them: one per record a response revealed.

A response writes one ACCESS entry naming every record it revealed (`additional_data["read"]`);
`access_reads` expands those entries into one `Read` per record, in chain order, shaped as the
per-record entries were (`object_pk`, `content_type`, `additional_data["fields"]`, `actor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType

from audit.models import Action, LogEntry


@dataclass
class Read:
    entry: LogEntry
    content_type: ContentType
    object_pk: str
    fields: list[str]

    @property
    def additional_data(self) -> dict[str, list[str]]:
        return {"fields": self.fields}

    def __getattr__(self, name: str) -> Any:  # actor, actor_id, sequence, cid, timestamp ...
        return getattr(self.entry, name)


def _content_type(label: str) -> ContentType:
    app_label, _dot, model = label.partition(".")
    return ContentType.objects.get_by_natural_key(app_label, model)


def reads_of(entry: LogEntry) -> list[Read]:
    data = entry.additional_data or {}
    if "read" not in data:  # one record per entry, as written before
        return [Read(entry, entry.content_type, entry.object_pk, data.get("fields", []))]
    return [Read(entry, _content_type(r["type"]), r["id"], r["fields"]) for r in data["read"]]


def access_reads(
    *, object_pk: str | None = None, object_pk__in: Any = None, **entry_filters: Any
) -> list[Read]:
    """Every record read by the ACCESS entries matching `entry_filters` (e.g. actor=...,
    sequence__gt=...), optionally only those of `object_pk` (or in `object_pk__in`)."""
    entries = LogEntry.objects.filter(action=Action.ACCESS, **entry_filters).order_by("sequence")
    reads = [read for entry in entries for read in reads_of(entry)]
    if object_pk is not None:
        reads = [read for read in reads if read.object_pk == str(object_pk)]
    if object_pk__in is not None:
        wanted = {str(pk) for pk in object_pk__in}
        reads = [read for read in reads if read.object_pk in wanted]
    return reads
