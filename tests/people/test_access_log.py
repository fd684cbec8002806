"""Every response that reveals a person's decrypted fields writes an ACCESS entry first."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.audit.reads import access_reads
from tests.erasure import erase_body
from tests.people.helpers import PEOPLE_URL, a_person, person_url

pytestmark = pytest.mark.django_db


def access_entries() -> list:
    return access_reads()


@pytest.fixture
def caseworker(make_staff):
    return make_staff(Role.CASEWORKER)


def test_create_read_list_and_update_each_log_who_saw_which_fields(caseworker, client_for):
    client = client_for(caseworker)
    person = client.post(PEOPLE_URL, a_person()).json()
    client.get(person_url(person["id"]))
    client.get(PEOPLE_URL)
    client.patch(person_url(person["id"]), {"notes": "moved"})

    entries = access_entries()

    assert len(entries) == 4
    assert {entry.object_pk for entry in entries} == {person["id"]}
    assert {entry.actor_id for entry in entries} == {caseworker.user.pk}
    assert "full_name" in entries[0].additional_data["fields"]
    assert "phone" in entries[0].additional_data["fields"]


def test_a_list_logs_one_entry_per_person_shown(caseworker, client_for):
    client = client_for(caseworker)
    for _ in range(3):
        client.post(PEOPLE_URL, a_person())
    before = len(access_entries())

    client.get(PEOPLE_URL, {"page_size": 2})

    assert len(access_entries()) - before == 2


def test_duplicate_matches_are_logged(caseworker, client_for):
    client = client_for(caseworker)
    person = client.post(PEOPLE_URL, a_person()).json()
    before = len(access_entries())

    client.post(f"{PEOPLE_URL}duplicates/", {"phone": "+79280000000"})

    new = access_entries()[before:]
    assert [entry.object_pk for entry in new] == [person["id"]]
    assert "full_name" in new[0].additional_data["fields"]


def test_refused_and_empty_answers_log_nothing(caseworker, make_staff, client_for):
    person = client_for(caseworker).post(PEOPLE_URL, a_person()).json()
    before = len(access_entries())

    client_for(make_staff(Role.AUDITOR)).get(person_url(person["id"]))
    client_for(make_staff(Role.CASEWORKER)).get(person_url(person["id"]))
    client_for(caseworker).post(f"{PEOPLE_URL}duplicates/", {"phone": "+79990000000"})

    assert len(access_entries()) == before


def test_an_erased_person_reveals_nothing_and_is_not_logged_as_read(
    caseworker, make_staff, client_for
):
    person = client_for(caseworker).post(PEOPLE_URL, a_person()).json()
    coordinator = client_for(make_staff(Role.COORDINATOR))
    coordinator.post(person_url(person["id"], "erase/"), erase_body(coordinator))
    before = len(access_entries())

    coordinator.get(person_url(person["id"]))

    assert len(access_entries()) == before
