"""`manage.py expire_audit_lookups`: destroy the look-up keys older than the retention period.

Run it daily (cron, a systemd timer). Each day's duplicate checks are digested under that day's
key (encryption/lookups.py); once the key is destroyed, whether a phone, name or document
number was looked up that day can no longer be tested by anyone, key holders included.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from encryption.lookups import lookup_keys_expire, lookup_keys_live


class Command(BaseCommand):
    help = (
        "Destroy the keys of duplicate-check look-ups older than AUDIT_LOOKUP_RETENTION_DAYS "
        "(run daily): those look-ups can then no longer be tested."
    )

    def handle(self, *args, **options) -> None:
        days = settings.AUDIT_LOOKUP_RETENTION_DAYS
        destroyed = lookup_keys_expire(retention_days=days)
        live = lookup_keys_live()
        oldest = f", the oldest of {live[0].period}" if live else ""
        self.stdout.write(
            f"Destroyed {destroyed} look-up key(s) older than {days} day(s); "
            f"{len(live)} remain{oldest}."
        )
