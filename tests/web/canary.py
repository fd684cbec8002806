"""The plaintext canary for pages: what a person typed into a page, or a secret the sign-in
made, must not be at rest anywhere but where it belongs.

`at_rest(needles, log_text=...)` searches the whole database (`pg_dump` or SQLite's dump, plus
every session decoded, since session data is stored base64-encoded), the audit entries and the
log output, as text and as the hex of its UTF-8 bytes, and returns where each needle was found.
Later pages (intake, case notes, payees) pass their own canaries.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.sessions.models import Session

from audit.models import LogEntry
from tests.people.test_plaintext_canary import database_dump, occurrences


def at_rest(needles: Iterable[str], *, log_text: str) -> dict[str, dict[str, int]]:
    """{needle: {place: count}} for every needle found somewhere; empty when none leaked."""
    places = {
        "database dump": database_dump(),
        "sessions": "\n".join(str(session.get_decoded()) for session in Session.objects.all()),
        "audit entries": "\n".join(
            f"{entry.object_repr} {entry.changes} {entry.additional_data}"
            for entry in LogEntry.objects.all()
        ),
        "log output": log_text,
    }
    found = {}
    for needle in needles:
        counts = {place: occurrences(text, needle) for place, text in places.items()}
        if any(counts.values()):
            found[needle] = {place: count for place, count in counts.items() if count}
    return found
