"""Reads of the audit log (auditors see all of it: it holds no personal data)."""

from __future__ import annotations

from django.db.models import QuerySet

from audit.models import Checkpoint, LogEntry


def entries_all() -> QuerySet[LogEntry]:
    return LogEntry.objects.select_related("actor", "content_type")


def checkpoints_all() -> QuerySet[Checkpoint]:
    return Checkpoint.objects.order_by("-sequence", "-signed_at")
