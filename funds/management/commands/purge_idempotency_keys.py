"""`manage.py purge_idempotency_keys`: forget Idempotency-Keys older than
FUNDS_IDEMPOTENCY_TTL_HOURS (they would no longer be replayed anyway). Run it daily (cron)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from funds.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than FUNDS_IDEMPOTENCY_TTL_HOURS."

    def handle(self, *args, **options) -> None:
        cutoff = timezone.now() - settings.FUNDS_IDEMPOTENCY_TTL
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Forgot {deleted} expired Idempotency-Key record(s).")
