"""Audit entries say which personal fields changed, never their values: not the plaintext, not
the ciphertext, not the blind index (a stable fingerprint of a phone or a name)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from audit.models import Action, LogEntry
from audit.registry import REDACTED
from encryption.fields import EncryptedField
from encryption.services import data_key_destroy
from people.models import Person
from people.services import person_update
from tests.dbdump import dump_database_text
from tests.encryption.helpers import reloaded

pytestmark = pytest.mark.django_db

FIRST = {
    "full_name": "Gulnara Auditable-Sadykova",
    "phone": "+7 928 321-54-76",
    "document_number": "PK 5566-7788",
    "notes": "knows the border guard at the northern crossing",
    "languages": ["chagatai-xx"],
}
CORRECTED = {
    "full_name": "Gulnara Corrected-Sadykova",
    "phone": "+7 928 999-88-77",
    "notes": "moved to the southern crossing",
}
SECRETS = [
    "Auditable",
    "Corrected",
    "9283215476",
    "9289998877",
    "5566-7788",
    "55667788",
    "border guard",
    "southern crossing",
    "chagatai",
]


def person_entries(person: Person, action: int) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Person),
            object_pk=str(person.pk),
            action=action,
        )
    )


def fingerprints(person: Person) -> list[str]:
    """What the database holds for the person that must not reach the log: the ciphertexts
    (hex) and the blind indexes."""
    stored = reloaded(person)
    blobs = Person.objects.filter(pk=person.pk).values_list(*FIRST).get()
    indexes = [stored.phone_index, stored.full_name_index, stored.document_number_index]
    return [sealed.blob.hex() for sealed in blobs if sealed] + [i for i in indexes if i]


def audit_log_text() -> str:
    return "\n".join(
        line for line in dump_database_text().splitlines() if line.startswith("audit_logentry:")
    )


def test_creating_a_person_is_audited_with_every_personal_value_redacted(new_person):
    person = new_person(**FIRST)

    (entry,) = person_entries(person, Action.CREATE)

    for field in [*FIRST, "phone_index", "full_name_index", "document_number_index"]:
        assert entry.changes[field] == [REDACTED, REDACTED], field
    text = audit_log_text()
    for secret in SECRETS + fingerprints(person):
        assert secret not in text


def test_correcting_a_person_is_audited_with_the_changed_values_redacted(new_person):
    person = new_person(**FIRST)
    before = fingerprints(person)

    person_update(person=person, **CORRECTED)

    (entry,) = person_entries(person, Action.UPDATE)
    assert {field: entry.changes.get(field) for field in CORRECTED} == {
        field: [REDACTED, REDACTED] for field in CORRECTED
    }
    assert "document_number" not in entry.changes  # unchanged, so not mentioned
    text = audit_log_text()
    for secret in SECRETS + before + fingerprints(person):
        assert secret not in text


def test_a_correction_records_that_the_blind_indexes_changed(new_person):
    person = new_person(**FIRST)

    person_update(person=person, full_name=CORRECTED["full_name"], phone=CORRECTED["phone"])

    (entry,) = person_entries(person, Action.UPDATE)
    assert entry.changes.get("full_name_index") == [REDACTED, REDACTED]
    assert entry.changes.get("phone_index") == [REDACTED, REDACTED]
    assert "document_number_index" not in entry.changes


def test_the_audit_entry_names_the_person_by_id_only(new_person):
    person = new_person(**FIRST)

    (entry,) = person_entries(person, Action.CREATE)

    assert entry.object_repr == f"Person {person.pk}"


def test_the_audit_diff_never_opens_a_sealed_value(new_person, monkeypatch):
    person = new_person(**FIRST)
    stored = reloaded(person)

    def refuse(*args, **kwargs):
        raise AssertionError("the audit diff opened a sealed value")

    monkeypatch.setattr(EncryptedField, "open", refuse)
    stored.notes = "a new note, sealed on save"
    with transaction.atomic():
        stored.save()  # every field compared: the sealed ones by their stored bytes

    (entry,) = person_entries(person, Action.UPDATE)
    assert entry.changes["notes"] == [REDACTED, REDACTED]
    assert "full_name" not in entry.changes  # same stored bytes: unchanged, not mentioned


def test_a_full_save_of_a_record_whose_key_was_destroyed_is_audited(new_person):
    person = new_person(**FIRST)
    stored = reloaded(person)
    with transaction.atomic():
        data_key_destroy(data_key=stored.data_key)
    after = reloaded(person)

    after.erased_at = timezone.now()
    with transaction.atomic():
        after.save()  # opening any sealed field would raise KeyDestroyed

    (entry,) = person_entries(person, Action.UPDATE)
    assert "erased_at" in entry.changes
    assert "full_name" not in entry.changes
