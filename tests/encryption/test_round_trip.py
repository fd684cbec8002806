"""Every value an encrypted field accepts comes back exactly, after a real save and reload, and
the database holds none of it in the clear."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from people.models import PERSONAL_FIELDS, Person
from people.services import person_update
from tests.dbdump import dump_database_text
from tests.encryption.helpers import reloaded, stored_blob

pytestmark = pytest.mark.django_db

WITH_DB = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Any code point at all, lone surrogates included: the text fields encode with surrogatepass.
ANY_CODE_POINT = st.characters(blacklist_categories=())

JSON_SCALARS = (
    st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(ANY_CODE_POINT)
)
JSON_VALUES = st.recursive(
    st.none() | JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(ANY_CODE_POINT), children, max_size=4)
    ),
    max_leaves=12,
)


def json_text(value: object) -> str:
    """Tells apart what == does not: True from 1, 1.0 from 1, -0.0 from 0.0."""
    return json.dumps(value, allow_nan=False)


@WITH_DB
@given(text=st.none() | st.text())
def test_any_text_or_none_round_trips(new_person, text):
    person = new_person(full_name=text, notes=text)

    again = reloaded(person)

    assert again.full_name == text
    assert again.notes == text
    assert (stored_blob(person, "notes") is None) == (text is None)


@WITH_DB
@given(text=st.text(ANY_CODE_POINT, min_size=1))
@example(text="\ud800 lone surrogates \udfff")
def test_text_with_lone_surrogates_round_trips(new_person, text):
    person = new_person(full_name=text, notes=text, document_number=text)

    again = reloaded(person)

    assert again.full_name == text
    assert again.notes == text
    assert again.document_number == text


@WITH_DB
@given(day=st.none() | st.dates())
def test_any_date_or_none_round_trips(new_person, day):
    person = new_person(date_of_birth=day)

    assert reloaded(person).date_of_birth == day
    assert (stored_blob(person, "date_of_birth") is None) == (day is None)


@WITH_DB
@given(value=JSON_VALUES)
def test_any_json_value_round_trips(new_person, value):
    person = new_person(languages=value)

    stored = reloaded(person).languages

    assert json_text(stored) == json_text(value)
    assert (stored_blob(person, "languages") is None) == (value is None)


@pytest.mark.parametrize(
    ("field", "empty"),
    [
        ("full_name", ""),
        ("notes", ""),
        ("languages", []),
        ("languages", {}),
        ("languages", 0),
        ("languages", ""),
        ("languages", False),
    ],
)
def test_none_stays_distinct_from_empty_values(new_person, field, empty):
    empty_one = new_person(**{field: empty})
    none_one = new_person(**{field: None})

    assert json_text(getattr(reloaded(empty_one), field)) == json_text(empty)
    assert getattr(reloaded(none_one), field) is None
    assert stored_blob(empty_one, field) is not None  # an empty value is still encrypted
    assert stored_blob(none_one, field) is None  # None is SQL NULL
    nulls = Person.objects.filter(**{f"{field}__isnull": True})
    assert list(nulls.filter(pk__in=[empty_one.pk, none_one.pk])) == [none_one]


def test_a_value_set_to_none_is_stored_as_null(new_person):
    person = new_person(full_name="Анна Петрова", notes="note")

    person_update(person=person, notes=None)

    assert reloaded(person).notes is None
    assert stored_blob(person, "notes") is None
    assert reloaded(person).full_name == "Анна Петрова"


def test_a_blank_phone_is_stored_without_an_index(new_person):
    # BlindIndexField: "None when the source is None or blank".
    person = new_person(full_name="Someone", phone="")

    again = reloaded(person)

    assert again.phone == ""
    assert again.phone_index is None


def test_updating_one_field_never_reencrypts_the_others(new_person):
    person = new_person(full_name="Olena Kovalenko", phone="+380 67 123 45 67", notes="first")
    before = {field: stored_blob(person, field) for field in PERSONAL_FIELDS}

    person_update(person=reloaded(person), notes="second")

    after = {field: stored_blob(person, field) for field in PERSONAL_FIELDS}
    assert after["notes"] != before["notes"]
    assert {k: v for k, v in after.items() if k != "notes"} == {
        k: v for k, v in before.items() if k != "notes"
    }
    assert reloaded(person).notes == "second"


def test_equal_values_never_look_equal_in_the_database(new_person):
    first = new_person(full_name="Ivan Petrov")
    second = new_person(full_name="Ivan Petrov")

    assert stored_blob(first, "full_name") != stored_blob(second, "full_name")
    assert first.full_name_index == second.full_name_index  # only the blind index matches


def test_no_personal_value_is_stored_in_the_clear_anywhere(new_person):
    values = {
        "full_name": "Zhanna Quixotic-Brightwater",
        "preferred_name": "Zhannochka",
        "date_of_birth": datetime.date(1987, 3, 14),
        "phone": "+7 912 345-67-89",
        "messenger": "@zhanna_secret_handle",
        "document_type": "passport",
        "document_number": "XQ 7734-1192",
        "nationality": "Kyrgyzstani",
        "languages": ["kyrgyz-dialect-zz", "uzbek-dialect-qq"],
        "notes": "hiding at the orchard on Lenina street",
    }
    person = new_person(**values)
    person_update(person=person, notes="moved to the safe flat near the river")

    dump = dump_database_text()

    for secret in [
        "Quixotic",
        "Zhannochka",
        "1987-03-14",
        "9123456789",
        "zhanna_secret",
        "7734-1192",
        "Kyrgyzstani",
        "dialect",
        "orchard",
        "safe flat",
        "zhanna quixotic",  # the normalised forms the blind indexes hash
        "+79123456789",
        "xq77341192",
    ]:
        assert secret.casefold() not in dump.casefold(), secret


def test_a_deferred_encrypted_field_opens_when_first_read(new_person):
    person = new_person(full_name="Aliya Deferred", phone="+7 928 000-00-00")

    deferred = Person.objects.only("id").get(pk=person.pk)

    assert deferred.full_name == "Aliya Deferred"
    assert deferred.phone == "+7 928 000-00-00"


def test_refresh_from_db_shows_the_stored_value_not_the_one_opened_before(new_person):
    person = new_person(full_name="Before Correction")
    stale = reloaded(person)
    assert stale.full_name == "Before Correction"

    person_update(person=person, full_name="After Correction")
    stale.refresh_from_db()

    assert stale.full_name == "After Correction"
