"""Keyed digests of look-ups, under per-day keys that are destroyed after a while.

A duplicate check's audit entry must let someone holding the keys later test whether a given
phone, name or document number was looked up, and by whom, while a dump of the log alone
reveals nothing. A plain hash would not do (a phone number has few enough possible values to
try them all), nor would a key kept for ever (whoever holds it can try them all too): each UTC
day's look-ups are digested under that day's own random key, a data key wrapped by the KEK, and
the key is destroyed `AUDIT_LOOKUP_RETENTION_DAYS` after its day ends. From then on that day's
digests, kept in the append-only log, are unlinkable.

    digest = HMAC-SHA256(day key, "safe-passage audit lookup v1" | label | normalised value)

This module knows nothing of what is looked up: callers pass a label ("person.phone") and the
value already normalised.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac

from django.db import IntegrityError, transaction
from django.utils import timezone

from encryption.datakeys import unwrap
from encryption.models import LookupKey
from encryption.services import data_key_destroy, data_key_issue

_DOMAIN = b"safe-passage audit lookup v1"


def _today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


@transaction.atomic
def lookup_key_current() -> LookupKey:
    """Today's key, created on the day's first look-up (two at once: one wins, both use it)."""
    today = _today()
    key = LookupKey.objects.select_related("data_key").filter(period=today).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():  # a savepoint: losing the race undoes only this attempt
            key = LookupKey(period=today)
            key.data_key = data_key_issue(owner=key)
            key.save(force_insert=True)
            return key
    except IntegrityError:
        return LookupKey.objects.select_related("data_key").get(period=today)


def lookup_keys_live() -> list[LookupKey]:
    """The keys not destroyed yet, oldest first: the days whose look-ups can still be tested."""
    return list(
        LookupKey.objects.select_related("data_key")
        .filter(data_key__destroyed_at__isnull=True)
        .order_by("period")
    )


def lookup_digest(key: LookupKey, label: str, normalized: str) -> str:
    """The hex digest of one normalised value under `key` (KeyDestroyed once it is gone)."""
    message = b"|".join([_DOMAIN, label.encode(), normalized.encode("utf-8", "surrogatepass")])
    return hmac.new(unwrap(key.data_key), message, hashlib.sha256).hexdigest()


@transaction.atomic
def lookup_keys_expire(*, retention_days: int, today: datetime.date | None = None) -> int:
    """Destroy every key whose day ended more than `retention_days` ago; how many were."""
    today = today or _today()
    cutoff = today - datetime.timedelta(days=retention_days)
    expired = (
        LookupKey.objects.select_related("data_key")
        .filter(period__lt=cutoff, data_key__destroyed_at__isnull=True)
        .order_by("period")
    )
    count = 0
    for key in expired:
        data_key_destroy(data_key=key.data_key)
        count += 1
    return count
