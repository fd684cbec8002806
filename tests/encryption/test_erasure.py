"""Erasure crypto-shreds a person: the row stays, the data key is destroyed, and no copy of the
old ciphertext (a replica, a backup of the row, a captured value) opens again."""

from __future__ import annotations

import pytest

from audit.models import Action, LogEntry
from common.exceptions import InvariantViolation
from encryption.blind_index import blind_index_for
from encryption.exceptions import KeyDestroyed
from encryption.models import DataKey
from people.models import PERSONAL_FIELDS, Person
from people.services import person_shred, person_update
from tests.dbdump import dump_database_text
from tests.encryption.helpers import attacker_writes, reloaded

pytestmark = pytest.mark.django_db

DETAILS = {
    "full_name": "Marat Erasable-Tulegenov",
    "phone": "+7 928 555-44-33",
    "document_number": "QZ 9081-7263",
    "notes": "sheltering with relatives in the mountains",
}
INDEXES = ("phone_index", "full_name_index", "document_number_index")


@pytest.fixture
def person(new_person) -> Person:
    return new_person(**DETAILS)


def test_erasure_keeps_the_row_and_clears_every_field_and_index(person, recorder):
    person_shred(person=person, actor=recorder)

    erased = reloaded(person)
    assert erased.erased_at is not None
    assert all(getattr(erased, field) is None for field in PERSONAL_FIELDS)
    assert all(getattr(erased, index) is None for index in INDEXES)
    assert not Person.objects.filter(
        phone_index=blind_index_for(Person, "phone_index", DETAILS["phone"])
    ).exists()


def test_erasure_destroys_the_data_key(person, recorder):
    wrapped = bytes(DataKey.objects.get(pk=person.data_key_id).wrapped)

    person_shred(person=person, actor=recorder)

    data_key = DataKey.objects.get(pk=person.data_key_id)
    assert data_key.wrapped is None
    assert data_key.destroyed_at is not None
    dump = dump_database_text()  # no copy anywhere, the append-only audit log included
    assert wrapped.decode("latin-1") not in dump
    assert wrapped.hex() not in dump


def test_a_ciphertext_captured_before_erasure_no_longer_opens(person, recorder):
    captured = Person.objects.filter(pk=person.pk).values_list(*DETAILS).get()

    person_shred(person=person, actor=recorder)

    for field, sealed in zip(DETAILS, captured, strict=True):
        with pytest.raises(KeyDestroyed):
            Person._meta.get_field(field).open(reloaded(person), sealed)


def test_a_row_restored_from_before_erasure_no_longer_opens(person, recorder):
    backup = Person.objects.filter(pk=person.pk).values(*DETAILS).get()

    person_shred(person=person, actor=recorder)
    for field, sealed in backup.items():  # the old ciphertexts put back from a backup
        attacker_writes(person, field, sealed.blob)

    restored = reloaded(person)
    for field in DETAILS:
        with pytest.raises(KeyDestroyed, match=str(person.data_key_id)):
            getattr(restored, field)


def test_an_erased_person_cannot_be_changed_or_erased_again(person, recorder):
    person_shred(person=person, actor=recorder)

    with pytest.raises(InvariantViolation):
        person_update(person=person, full_name="Back Again")
    with pytest.raises(InvariantViolation):
        person_shred(person=person, actor=recorder)
    assert reloaded(person).full_name is None


def test_erasure_is_audited_without_personal_data(person, recorder):
    blobs_before = Person.objects.filter(pk=person.pk).values_list(*DETAILS).get()
    indexes_before = [getattr(person, index) for index in INDEXES]

    person_shred(person=person, actor=recorder)

    erasures = LogEntry.objects.filter(action=Action.ERASED, object_pk=str(person.pk))
    assert [entry.actor_id for entry in erasures] == [recorder.pk]
    audit_text = "\n".join(
        line for line in dump_database_text().splitlines() if line.startswith("audit_logentry:")
    )
    for secret in [*DETAILS.values(), "Erasable", "9285554433", "9081-7263", *indexes_before]:
        assert secret not in audit_text
    for sealed in blobs_before:
        assert sealed.blob.hex() not in audit_text
