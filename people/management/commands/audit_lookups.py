"""`manage.py audit_lookups --phone ... [--full-name ...] [--document-number ...]`: who looked
up these values with a duplicate check, and when, as far back as the look-up keys reach.

For an investigator holding the keys (the server's KEKs). Each duplicate check's audit entry
holds, per criterion, a digest of the normalised value under its day's key; this computes the
same digests for the values given and names every entry they match. Days whose key was
destroyed (`expire_audit_lookups`, after AUDIT_LOOKUP_RETENTION_DAYS) cannot be tested, and the
answer says from which day on it could look. The values given are never printed or logged;
that the test was made is itself an audit entry (`lookups_tested`: which kinds of criteria,
how many entries found).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.events import record_event
from audit.models import Action, LogEntry
from encryption.lookups import lookup_keys_live
from people.lookups import lookup_digests, normalized
from people.models import Person


class Command(BaseCommand):
    help = (
        "Name the duplicate checks that looked up a phone, a full name or a document number "
        "(as far back as the look-up keys reach)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone")
        parser.add_argument("--full-name", dest="full_name")
        parser.add_argument("--document-number", dest="document_number")

    def handle(self, *args, **options) -> None:
        criteria = {
            name: options[name]
            for name in ("phone", "full_name", "document_number")
            if options.get(name)
        }
        if not criteria:
            raise CommandError("Give at least one of --phone, --full-name, --document-number.")
        for name, value in criteria.items():
            try:
                usable = normalized(name, value)
            except ValueError:
                usable = None
            if not usable:
                flag = "--" + name.replace("_", "-")
                raise CommandError(f"{flag} is not a value a duplicate check could look up.")

        keys = lookup_keys_live()
        found = []
        for key in keys:
            digests = lookup_digests(criteria, key)
            entries = LogEntry.objects.filter(
                action=Action.DUPLICATE_CHECK, additional_data__lookup_key=key.period.isoformat()
            ).select_related("actor")
            for entry in entries.order_by("sequence"):
                stored = (entry.additional_data or {}).get("digests") or {}
                matched = sorted(
                    name for name, digest in digests.items() if stored.get(name) == digest
                )
                if matched:
                    found.append((entry, matched))

        with transaction.atomic():
            record_event(
                action=Action.LOOKUPS_TESTED,
                instance=None,
                model=Person,
                actor=None,
                data={"criteria": sorted(criteria), "found": len(found)},
            )
        for entry, matched in found:
            actor = entry.actor.username if entry.actor else "-"
            self.stdout.write(
                f"{entry.timestamp:%Y-%m-%d %H:%M:%S}Z  {actor}  matched on "
                f"{', '.join(matched)}  (audit entry {entry.sequence}, request {entry.cid or '-'})"
            )
        if not keys:
            self.stdout.write("No look-up key is left: no duplicate check can be tested.")
            return
        self.stdout.write(
            f"{len(found)} duplicate check(s) found. Look-ups from {keys[0].period} on were "
            "tested; earlier ones cannot be, their keys are destroyed."
        )
