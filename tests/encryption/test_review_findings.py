"""Holes a review found around the encryption layer, each closed and kept closed."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.views.debug import get_default_exception_reporter_filter

from common.exceptions import InvariantViolation
from encryption.blind_index import blind_index_for
from encryption.exceptions import EncryptionError
from encryption.keyring import parse_keks
from encryption.models import DataKey
from people.models import Person
from people.services import person_create, person_shred, person_update


def a_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.mark.django_db
def test_saving_a_source_without_its_blind_index_is_refused(new_person):
    person = new_person(full_name="Index Stays Fresh", phone="+7 928 000-00-00")
    person.phone = "+7 928 999-99-99"

    with pytest.raises(EncryptionError, match="phone_index"), transaction.atomic():
        person.save(update_fields=["phone"])

    stored = Person.objects.get(pk=person.pk)
    assert stored.phone_index == blind_index_for(Person, "phone_index", "+7 928 000-00-00")


@pytest.mark.django_db
def test_saving_a_source_with_its_blind_index_keeps_them_in_step(new_person):
    person = new_person(full_name="Index Stays Fresh", phone="+7 928 000-00-00")
    person.phone = "+7 928 999-99-99"

    with transaction.atomic():
        person.save(update_fields=["phone", "phone_index"])

    stored = Person.objects.get(pk=person.pk)
    assert stored.phone_index == blind_index_for(Person, "phone_index", "8 928 999 99 99")


@pytest.mark.django_db
def test_a_correction_cannot_leave_a_person_without_any_name(new_person):
    person = new_person(full_name="Only Name")

    with pytest.raises(InvariantViolation, match="name"):
        person_update(person=person, full_name=None)

    assert Person.objects.with_keys().get(pk=person.pk).full_name == "Only Name"


def test_the_exception_reporter_hides_the_keys():
    safe = get_default_exception_reporter_filter().get_safe_settings()

    assert set(safe["ENCRYPTION_KEKS"]) == {"*"}
    assert set(safe["ENCRYPTION_INDEX_KEY"]) == {"*"}


def test_the_index_sentinel_id_cannot_name_a_kek():
    with pytest.raises(ImproperlyConfigured, match="reserved"):
        parse_keks(f"blind-index:{a_key()}")


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="reads SQLite's files; PostgreSQL's are not ours"
)
@pytest.mark.django_db(transaction=True)
def test_an_erased_key_is_not_left_readable_in_the_sqlite_files(make_staff):
    # On SQLite, a replaced value stays in the freed page and in the write-ahead log until
    # secure_delete zeroes it and a checkpoint folds the log back.
    with transaction.atomic():
        person = person_create(created_by=make_staff().user, full_name="Shredded Entirely")
    wrapped = bytes(DataKey.objects.get(pk=person.data_key_id).wrapped)
    database = Path(connection.settings_dict["NAME"])

    with transaction.atomic():
        person_shred(person=person, actor=None)

    files = [database, database.with_name(database.name + "-wal")]
    contents = b"".join(path.read_bytes() for path in files if path.exists())
    assert wrapped not in contents
