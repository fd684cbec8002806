"""`POST people/duplicates/`: exact matches by blind index, and only a count outside one's scope."""

from __future__ import annotations

import datetime
import re
import unicodedata

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, LogEntry
from tests.erasure import erase_body
from tests.people.helpers import PEOPLE_URL, a_person, person_url

pytestmark = pytest.mark.django_db

DUPLICATES_URL = f"{PEOPLE_URL}duplicates/"


@pytest.fixture
def caseworker(make_staff):
    return make_staff(Role.CASEWORKER)


def record(client, **overrides):
    response = client.post(PEOPLE_URL, a_person(**overrides))
    assert response.status_code == 201
    return response.json()


@pytest.mark.parametrize(
    ("stored", "asked"),
    [
        ("+7 928 000-00-00", "8 (928) 000-00-00"),
        ("8 (928) 000-00-00", "+79280000000"),
        ("+7 (928) 000 00 00", "89280000000"),
    ],
)
def test_the_same_phone_written_two_ways_matches(stored, asked, caseworker, client_for):
    client = client_for(caseworker)
    person = record(client, phone=stored)

    found = client.post(DUPLICATES_URL, {"phone": asked}).json()

    assert [match["id"] for match in found["matches"]] == [person["id"]]
    assert found["matches"][0]["matched_on"] == ["phone"]
    assert found["outside_scope"] == 0


def test_a_different_phone_does_not_match(caseworker, client_for):
    client = client_for(caseworker)
    record(client, phone="+7 928 000-00-00")

    found = client.post(DUPLICATES_URL, {"phone": "+7 928 000-00-01"}).json()

    assert found == {"matches": [], "outside_scope": 0}


@pytest.mark.parametrize(
    "asked",
    [
        "иван петрович ёлкин",
        "ИВАН ПЕТРОВИЧ ЁЛКИН",
        "  Иван   Петрович Ёлкин ",
        unicodedata.normalize("NFD", "Иван Петрович Ёлкин"),
    ],
)
def test_names_match_across_case_spacing_and_unicode_forms(asked, caseworker, client_for):
    client = client_for(caseworker)
    person = record(client, full_name="Иван Петрович Ёлкин")

    found = client.post(DUPLICATES_URL, {"full_name": asked}).json()

    assert [match["id"] for match in found["matches"]] == [person["id"]]


def test_full_width_and_composed_latin_names_match(caseworker, client_for):
    client = client_for(caseworker)
    person = record(client, full_name="José \uff2dartínez")  # a full-width M

    found = client.post(DUPLICATES_URL, {"full_name": "JOSE\u0301 MARTI\u0301NEZ"}).json()

    assert [match["id"] for match in found["matches"]] == [person["id"]]


def test_document_numbers_match_without_spaces_and_punctuation(caseworker, client_for):
    client = client_for(caseworker)
    person = record(client, document_number="96 04 123456")

    found = client.post(DUPLICATES_URL, {"document_number": "9604-123-456"}).json()

    assert [match["id"] for match in found["matches"]] == [person["id"]]


def test_other_caseworkers_people_are_only_counted(make_staff, client_for):
    mine, theirs = make_staff(Role.CASEWORKER), make_staff(Role.CASEWORKER)
    own = record(client_for(mine))
    record(client_for(theirs))
    record(client_for(theirs), phone="+7 999 000-00-00", full_name="Other Name")

    found = client_for(mine).post(DUPLICATES_URL, {"phone": "89280000000"})

    assert found.status_code == 200
    assert [match["id"] for match in found.json()["matches"]] == [own["id"]]
    assert found.json()["outside_scope"] == 1
    assert "Other Name" not in found.content.decode()


def test_a_coordinator_sees_every_match(make_staff, client_for):
    for _ in range(2):
        record(client_for(make_staff(Role.CASEWORKER)))

    found = client_for(make_staff(Role.COORDINATOR)).post(
        DUPLICATES_URL, {"full_name": "иван петрович ёлкин", "phone": "+79280000000"}
    )

    assert len(found.json()["matches"]) == 2
    assert found.json()["matches"][0]["matched_on"] == ["phone", "full_name"]
    assert found.json()["outside_scope"] == 0


def test_erased_people_no_longer_match(make_staff, client_for, caseworker):
    person = record(client_for(caseworker))
    lead = client_for(make_staff(Role.COORDINATOR))
    lead.post(person_url(person["id"], "erase/"), erase_body(lead))

    found = client_for(caseworker).post(DUPLICATES_URL, {"phone": "+7 928 000-00-00"}).json()

    assert found == {"matches": [], "outside_scope": 0}


@pytest.mark.parametrize(
    "body",
    [{}, {"phone": "not a phone"}, {"address": "Grozny"}, {"full_name": ["a"]}],
)
def test_a_duplicate_check_needs_something_usable_to_look_for(body, caseworker, client_for):
    response = client_for(caseworker).post(DUPLICATES_URL, body)

    assert response.status_code == 400


def test_every_check_is_audited_without_the_values_looked_for(caseworker, client_for):
    client = client_for(caseworker)
    record(client)

    client.post(DUPLICATES_URL, {"phone": "+7 928 000-00-00", "full_name": "Nobody Known"})

    entry = LogEntry.objects.get(action=Action.DUPLICATE_CHECK)
    assert entry.actor == caseworker.user
    data = dict(entry.additional_data)
    digests = data.pop("digests")
    assert data == {
        "criteria": ["full_name", "phone"],
        "matches": 1,
        "outside_scope": 0,
        "lookup_key": timezone.now().astimezone(datetime.UTC).date().isoformat(),
    }
    assert set(digests) == {"full_name", "phone"}  # keyed digests (tests/people/test_lookups.py)
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in digests.values())
    assert "Nobody" not in str(entry.changes) + str(entry.additional_data) + entry.object_repr
    assert "9280000000" not in str(entry.additional_data)


def test_duplicate_checks_have_their_own_low_rate(caseworker, client_for, settings):
    settings.DUPLICATE_CHECK_RATE = "3/hour"
    client = client_for(caseworker)

    codes = [client.post(DUPLICATES_URL, {"phone": "+79280000000"}).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert client.get(PEOPLE_URL).status_code == 200
