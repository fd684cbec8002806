"""The database holds nothing it could compare: only `isnull` can be asked of an encrypted field,
exact matches go through the blind indexes, and plaintext cannot be written around the model."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Value

from encryption.blind_index import blind_index_for
from encryption.exceptions import EncryptedLookupError, EncryptionError
from encryption.fields import Sealed
from people.models import Person
from tests.encryption.helpers import reloaded, stored_blob, table_rows

pytestmark = pytest.mark.django_db

NAME = "Ruslan Gadzhiev"


@pytest.mark.parametrize(
    ("lookup", "value"),
    [
        ("exact", NAME),
        ("iexact", NAME),
        ("icontains", "Ruslan"),
        ("contains", "Ruslan"),
        ("startswith", "Rus"),
        ("endswith", "ev"),
        ("in", [NAME]),
        ("gt", "A"),
        ("lt", "Z"),
        ("range", ("A", "Z")),
        ("regex", "^R"),
    ],
)
def test_comparing_an_encrypted_field_is_refused(new_person, lookup, value):
    new_person(full_name=NAME)

    with pytest.raises(EncryptedLookupError, match="only 'isnull'"):
        list(Person.objects.filter(**{f"full_name__{lookup}": value}))


def test_a_transform_of_an_encrypted_field_is_refused(new_person):
    new_person(full_name=NAME)

    with pytest.raises(EncryptedLookupError):
        list(Person.objects.filter(full_name__lower__exact=NAME.lower()))


def test_isnull_works_on_encrypted_fields(new_person):
    with_notes = new_person(full_name=NAME, notes="")
    without_notes = new_person(full_name=NAME)

    assert list(Person.objects.filter(notes__isnull=True)) == [without_notes]
    assert list(Person.objects.filter(notes__isnull=False)) == [with_notes]


def test_blind_indexes_find_exact_matches(new_person):
    person = new_person(full_name=NAME, phone="+7 928 000-00-00", document_number="AB 12-34 56")
    new_person(full_name="Someone Else", phone="+7 928 111-11-11", document_number="CD 99")

    by_phone = Person.objects.filter(
        phone_index=blind_index_for(Person, "phone_index", "8 (928) 000-00-00")
    )
    by_name = Person.objects.filter(
        full_name_index=blind_index_for(Person, "full_name_index", "  ruslan  GADZHIEV ")
    )
    by_document = Person.objects.filter(
        document_number_index__in=[blind_index_for(Person, "document_number_index", "ab123456")]
    )

    assert list(by_phone) == [person]
    assert list(by_name) == [person]
    assert list(by_document) == [person]


@pytest.mark.parametrize("lookup", ["icontains", "startswith", "gt", "regex"])
def test_a_blind_index_answers_only_exact_matches(new_person, lookup):
    new_person(full_name=NAME)

    with pytest.raises(EncryptedLookupError, match="exact matches"):
        list(Person.objects.filter(**{f"full_name_index__{lookup}": "0"}))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a plaintext name", id="text"),
        pytest.param(b"a plaintext name", id="bytes"),
        pytest.param(Value("a plaintext name"), id="Value(text)"),
        pytest.param(Value(b"a plaintext name"), id="Value(bytes)"),
    ],
)
def test_queryset_update_cannot_write_plaintext(new_person, value):
    person = new_person(full_name=NAME)
    before = table_rows(Person)

    with pytest.raises(EncryptionError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(full_name=value)

    assert table_rows(Person) == before
    assert reloaded(person).full_name == NAME


def test_queryset_update_can_only_move_sealed_values_or_null(new_person):
    person = new_person(full_name=NAME, notes="a note")
    sealed = Sealed(stored_blob(person, "full_name"))

    Person.objects.filter(pk=person.pk).update(full_name=sealed, notes=None)

    again = reloaded(person)
    assert again.full_name == NAME
    assert again.notes is None


def test_loaded_values_and_reprs_show_no_plaintext(new_person):
    person = new_person(full_name=NAME)

    raw = Person.objects.filter(pk=person.pk).values_list("full_name", flat=True).get()

    assert isinstance(raw, Sealed)
    assert "Ruslan" not in repr(raw)
    assert "Ruslan" not in str(reloaded(person))
    assert "Ruslan" not in repr(reloaded(person))
