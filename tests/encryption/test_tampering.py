"""From the side of someone who can write to the database: an altered, moved or swapped
ciphertext never opens, and the error says where, never what."""

from __future__ import annotations

import pytest
from django.db import connection

from encryption.datakeys import NONCE_BYTES
from encryption.exceptions import DecryptionError
from encryption.fields import HEADER_BYTES
from encryption.models import DataKey
from people.models import Person
from tests.encryption.helpers import attacker_writes, reloaded, stored_blob

pytestmark = pytest.mark.django_db

SECRET_NAME = "Fatima Abdullayeva-Secretkeeper"

# The stored layout: version (1) | data key id (16) | nonce (12) | ciphertext | tag (16).
FLIPPED_POSITIONS = {
    "version byte": 0,
    "data key id byte": 7,
    "nonce byte": HEADER_BYTES + 5,
    "ciphertext byte": HEADER_BYTES + NONCE_BYTES + 3,
    "tag byte": -1,
}


def flipped(blob: bytes, position: int) -> bytes:
    tampered = bytearray(blob)
    tampered[position] ^= 0x01
    return bytes(tampered)


def assert_refused_without_plaintext(person: Person, field: str) -> DecryptionError:
    with pytest.raises(DecryptionError) as refused:
        getattr(reloaded(person), field)
    message = str(refused.value)
    assert str(person.pk) in message  # says where
    assert f"people.person.{field}" in message
    for part in SECRET_NAME.split():
        assert part.casefold() not in message.casefold()  # never what
    return refused.value


@pytest.mark.parametrize("position", FLIPPED_POSITIONS.values(), ids=FLIPPED_POSITIONS.keys())
def test_flipped_byte_fails_to_open(new_person, position):
    person = new_person(full_name=SECRET_NAME)
    attacker_writes(person, "full_name", flipped(stored_blob(person, "full_name"), position))

    assert_refused_without_plaintext(person, "full_name")


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda blob: b"", id="empty"),
        pytest.param(lambda blob: blob[:HEADER_BYTES], id="header only"),
        pytest.param(lambda blob: blob[:-1], id="last byte cut"),
        pytest.param(lambda blob: blob + b"\x00", id="byte appended"),
    ],
)
def test_truncated_or_extended_ciphertext_fails_to_open(new_person, cut):
    person = new_person(full_name=SECRET_NAME)
    attacker_writes(person, "full_name", cut(stored_blob(person, "full_name")))

    assert_refused_without_plaintext(person, "full_name")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(SECRET_NAME.encode(), id="bytes"),
        pytest.param(SECRET_NAME, id="text"),  # SQLite keeps a text value as text
    ],
)
def test_plaintext_written_into_the_column_fails_to_open(new_person, value):
    person = new_person(full_name="placeholder")
    attacker_writes(person, "full_name", value)

    assert_refused_without_plaintext(person, "full_name")


def test_ciphertext_copied_to_another_person_fails_to_open(new_person):
    victim = new_person(full_name=SECRET_NAME)
    other = new_person(full_name="Someone Else")

    attacker_writes(other, "full_name", stored_blob(victim, "full_name"))

    assert_refused_without_plaintext(other, "full_name")


def test_ciphertext_copied_into_another_field_of_the_same_person_fails_to_open(new_person):
    person = new_person(full_name=SECRET_NAME, preferred_name="Fatima")

    attacker_writes(person, "preferred_name", stored_blob(person, "full_name"))

    assert_refused_without_plaintext(person, "preferred_name")
    assert reloaded(person).full_name == SECRET_NAME  # the original still opens


def test_ciphertext_moved_together_with_its_data_key_fails_to_open(new_person):
    victim = new_person(full_name=SECRET_NAME)
    other = new_person(full_name="Someone Else")
    victim_blob = stored_blob(victim, "full_name")

    # The victim's row goes, and the other row takes over its data key and its ciphertext:
    # the header and the key now agree, but the ciphertext is bound to the victim's row.
    table = connection.ops.quote_name(Person._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [db_pk(Person, victim.pk)])
    attacker_writes(other, "data_key_id", db_pk(DataKey, victim.data_key_id))
    attacker_writes(other, "full_name", victim_blob)

    assert reloaded(other).data_key_id == victim.data_key_id
    assert_refused_without_plaintext(other, "full_name")


def db_pk(model, value):
    return model._meta.pk.get_db_prep_value(value, connection)


def test_wrapped_data_key_copied_to_another_owner_fails_to_unwrap(new_person):
    victim = new_person(full_name=SECRET_NAME)
    other = new_person(full_name="Someone Else")

    DataKey.objects.filter(pk=other.data_key_id).update(
        wrapped=DataKey.objects.get(pk=victim.data_key_id).wrapped
    )

    with pytest.raises(DecryptionError, match=str(other.data_key_id)):
        _ = reloaded(other).full_name
