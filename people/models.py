"""The people being evacuated. Everything that identifies them is encrypted under the person's
own data key; the row itself says only who recorded it and when."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from encryption.blind_index import BlindIndexField
from encryption.fields import EncryptedDateField, EncryptedJSONField, EncryptedTextField
from encryption.models import DataKey


class DocumentType(models.TextChoices):
    PASSPORT = "passport"
    INTERNAL_PASSPORT = "internal_passport"
    TRAVEL_DOCUMENT = "travel_document"
    ID_CARD = "id_card"
    BIRTH_CERTIFICATE = "birth_certificate"
    OTHER = "other"


PERSONAL_FIELDS = (
    "full_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "messenger",
    "document_type",
    "document_number",
    "nationality",
    "languages",
    "notes",
)


class PersonQuerySet(models.QuerySet["Person"]):
    def with_keys(self) -> PersonQuerySet:
        """The data key comes in the same query, so a page costs the same queries at any size."""
        return self.select_related("data_key")


class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.OneToOneField(DataKey, on_delete=models.PROTECT, related_name="+")

    full_name = EncryptedTextField()
    preferred_name = EncryptedTextField()
    date_of_birth = EncryptedDateField()
    phone = EncryptedTextField()
    messenger = EncryptedTextField()
    document_type = EncryptedTextField()
    document_number = EncryptedTextField()
    nationality = EncryptedTextField()
    languages = EncryptedJSONField()
    notes = EncryptedTextField()

    phone_index = BlindIndexField(source="phone", normalizer="phone", label="person.phone")
    full_name_index = BlindIndexField(
        source="full_name", normalizer="name", label="person.full_name"
    )
    document_number_index = BlindIndexField(
        source="document_number", normalizer="document_number", label="person.document_number"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:  # never a name: this string ends up in logs and audit entries
        return f"person {self.pk}"

    @property
    def erased(self) -> bool:
        return self.erased_at is not None
