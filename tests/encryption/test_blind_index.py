"""Blind indexes: two spellings of the same phone, name or document give the same index, and
an index is useless to anyone without the index key."""

from __future__ import annotations

import hashlib
import string
import unicodedata

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from encryption.blind_index import blind_index_for, normalize_name
from encryption.keyring import new_key_text
from people.models import Person

PHONE, NAME, DOCUMENT = "phone_index", "full_name_index", "document_number_index"
PROPERTY = settings(max_examples=100, deadline=None)
CYRILLIC_LOWERCASE = "".join(map(chr, range(0x0430, 0x0450))) + "\u0451"  # the Russian alphabet


def full_width(text: str) -> str:
    """'JOHN' as the full-width letters East Asian keyboards type."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


def index(field: str, value: str) -> str | None:
    return blind_index_for(Person, field, value)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("+7 928 000-00-00", "8 (928) 000-00-00"),
        ("+7 928 000-00-00", "+79280000000"),
        ("+7 928 000-00-00", "8-928-000-00-00"),
        ("+7 928 000-00-00", "(928) 000 00 00"),
    ],
)
def test_spellings_of_one_phone_number_share_an_index(one, other):
    assert django_settings.PHONE_DEFAULT_REGION == "RU"

    assert index(PHONE, one) == index(PHONE, other)


def test_a_different_phone_number_has_a_different_index():
    assert index(PHONE, "+7 928 000-00-00") != index(PHONE, "+7 928 000-00-01")
    assert index(PHONE, "+7 928 000-00-00") != index(PHONE, "+380 92 800 0000")


@pytest.mark.parametrize("not_a_phone", ["call me", "12", "+7"])
def test_something_that_is_not_a_phone_number_is_refused(not_a_phone):
    with pytest.raises(ValueError, match="phone"):
        index(PHONE, not_a_phone)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ИВАН ЁЛКИН", "иван ёлкин"),
        ("José Núñez", unicodedata.normalize("NFD", "José Núñez")),
        (full_width("JOHN SMITH"), "john smith"),
        ("  Ivan \t  Petrov \n", "ivan petrov"),
        ("Straße", "STRASSE"),
    ],
)
def test_spellings_of_one_name_share_an_index(one, other):
    assert index(NAME, one) == index(NAME, other)


def test_a_different_name_has_a_different_index():
    assert index(NAME, "Иван Ёлкин") != index(NAME, "Иван Елкин")
    assert index(NAME, "Ivan Petrov") != index(NAME, "Petrov Ivan")


@pytest.mark.parametrize("other", ["ab123456", "AB123456", "ab 12 34 56", "A-B/12.34.56"])
def test_spellings_of_one_document_number_share_an_index(other):
    assert index(DOCUMENT, "AB 12-34 56") == index(DOCUMENT, other)


def test_a_different_document_number_has_a_different_index():
    assert index(DOCUMENT, "AB 12-34 56") != index(DOCUMENT, "AB 12-34 57")


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_blank_name_has_no_index(blank):
    assert index(NAME, blank) is None
    assert index(DOCUMENT, blank) is None


def test_each_field_has_its_own_index_key():
    # "ab123456" normalises to itself as a name and as a document number.
    assert index(NAME, "ab123456") != index(DOCUMENT, "ab123456")


def test_the_index_changes_with_the_index_key():
    before = index(NAME, "Ivan Petrov")

    with override_settings(ENCRYPTION_INDEX_KEY=new_key_text()):
        after = index(NAME, "Ivan Petrov")

    assert after != before
    assert index(NAME, "Ivan Petrov") == before  # and comes back with the key


@pytest.mark.parametrize(
    ("field", "value", "normalised"),
    [
        (PHONE, "+7 928 000-00-00", "+79280000000"),
        (NAME, "Ivan Petrov", "ivan petrov"),
        (DOCUMENT, "AB 12-34 56", "ab123456"),
    ],
)
def test_an_index_is_not_a_plain_hash_of_the_value(field, value, normalised):
    # Without the key, a dictionary of phone numbers or names must not reverse an index.
    stored = index(field, value)

    for guess in (value, normalised):
        for hash_function in (hashlib.sha256, hashlib.sha3_256, hashlib.blake2s):
            assert stored != hash_function(guess.encode()).hexdigest()


@PROPERTY
@given(text=st.text())
def test_composed_and_decomposed_text_share_an_index(text):
    assert index(NAME, unicodedata.normalize("NFC", text)) == index(
        NAME, unicodedata.normalize("NFD", text)
    )


@PROPERTY
@given(text=st.text(), before=st.sampled_from([" ", "  ", "\t", "\n "]), after=st.just("  "))
def test_surrounding_whitespace_does_not_change_an_index(text, before, after):
    assert index(NAME, before + text + after) == index(NAME, text)
    assert index(DOCUMENT, before + text + after) == index(DOCUMENT, text)


@PROPERTY
@given(text=st.text())
def test_a_name_typed_in_its_normal_form_matches(text):
    assert index(NAME, normalize_name(text)) == index(NAME, text)


@PROPERTY
@given(text=st.text(alphabet=string.ascii_lowercase + CYRILLIC_LOWERCASE + " -'"))
def test_letter_case_does_not_change_an_index(text):
    assert index(NAME, text.upper()) == index(NAME, text)
    assert index(NAME, text.title()) == index(NAME, text)


@PROPERTY
@given(digits=st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_international_and_domestic_russian_mobile_numbers_share_an_index(digits):
    subscriber = f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"

    assert index(PHONE, f"+7 912 {subscriber}") == index(PHONE, f"8 (912) {subscriber}")
    assert index(PHONE, f"+7 912 {subscriber}") == index(PHONE, f"+7912{digits}")
