"""Wrapped data keys and the per-KEK sentinels. Neither holds a usable key on its own."""

from __future__ import annotations

import uuid

from django.db import models


class DataKey(models.Model):
    """One record's random 256-bit data key, stored only wrapped (AES-256-GCM) by a KEK.

    The owner (a person, a case) is named by label and id, which also bind the wrapping: a
    wrapped key copied to another owner does not unwrap. Destroying the key (crypto-shredding)
    clears `wrapped`; every field sealed under it is then unreadable for good.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_label = models.CharField(max_length=100)
    owner_id = models.UUIDField()
    kek_id = models.CharField(max_length=32, db_index=True)
    wrapped = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True)
    destroyed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner_label", "owner_id"], name="one_key_per_owner"),
            models.CheckConstraint(
                condition=models.Q(wrapped__isnull=True, destroyed_at__isnull=False)
                | models.Q(wrapped__isnull=False, destroyed_at__isnull=True),
                name="destroyed_key_has_no_material",
            ),
        ]

    def __str__(self) -> str:
        return f"data key {self.pk} of {self.owner_label} {self.owner_id}"

    @property
    def destroyed(self) -> bool:
        return self.destroyed_at is not None


class KeySentinel(models.Model):
    """A known constant sealed under one KEK (or, for the index root key, an HMAC of it).

    At start-up every stored sentinel whose key is configured must open, and every KEK that
    wraps a stored data key must be configured: otherwise the server refuses to start rather
    than run with keys that cannot read (or would wrongly write) the data.
    """

    class Kind(models.TextChoices):
        KEK = "kek"
        INDEX = "index"

    key_id = models.CharField(max_length=40, primary_key=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sealed = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sentinel of {self.kind} {self.key_id}"


class LookupKey(models.Model):
    """One day's key for keyed digests of look-ups (what a duplicate check searched for).

    The key itself is a data key (wrapped by the KEK like any other, so key rotation and the
    start-up key check cover it). Whoever holds the keys can test whether a value was looked
    up that day; once the key is destroyed (`manage.py expire_audit_lookups`, after
    `AUDIT_LOOKUP_RETENTION_DAYS`), that day's digests, kept forever in the append-only log,
    match nothing any more.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    period = models.DateField(unique=True)  # the UTC day whose look-ups it keys
    data_key = models.OneToOneField(DataKey, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period"]

    def __str__(self) -> str:
        return f"lookup key of {self.period}"
