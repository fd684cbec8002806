"""The people endpoints: who may use them, what they accept, what they answer."""

from __future__ import annotations

import json
import uuid

import pytest

from accounts.roles import Role
from audit.models import Action, LogEntry
from people.models import Person
from tests.erasure import erase_body
from tests.people.helpers import PEOPLE_URL, a_person, person_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def caseworker(make_staff):
    return make_staff(Role.CASEWORKER)


@pytest.fixture
def coordinator(make_staff):
    return make_staff(Role.COORDINATOR)


def create(client, **overrides):
    response = client.post(PEOPLE_URL, a_person(**overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_caseworker_records_a_person_and_reads_them_back(caseworker, client_for):
    client = client_for(caseworker)

    created = create(client)
    read = client.get(person_url(created["id"])).json()

    assert read == created
    assert read["full_name"] == "Иван Петрович Ёлкин"
    assert read["date_of_birth"] == "1994-05-17"
    assert read["languages"] == ["ru", "ce"]
    assert read["erased"] is False
    uuid.UUID(read["id"])


def test_none_and_empty_text_stay_distinct(caseworker, client_for):
    client = client_for(caseworker)

    created = create(client, notes="", messenger=None)
    read = client.get(person_url(created["id"])).json()

    assert read["notes"] == ""
    assert read["messenger"] is None


def test_a_caseworker_sees_only_the_people_they_recorded(make_staff, client_for):
    mine, theirs = make_staff(Role.CASEWORKER), make_staff(Role.CASEWORKER)
    own = create(client_for(mine), full_name="Own Person")
    other = create(client_for(theirs), full_name="Someone Else")
    client = client_for(mine)

    listed = client.get(PEOPLE_URL).json()
    other_read = client.get(person_url(other["id"]))
    other_patch = client.patch(person_url(other["id"]), {"notes": "hijacked"})

    assert [item["id"] for item in listed["results"]] == [own["id"]]
    assert other_read.status_code == 404
    assert other_patch.status_code == 404
    assert other_read.json() == client.get(person_url(uuid.uuid4())).json()


def test_a_coordinator_sees_everyone(make_staff, client_for, coordinator):
    for _ in range(3):
        create(client_for(make_staff(Role.CASEWORKER)))

    listed = client_for(coordinator).get(PEOPLE_URL).json()

    assert listed["count"] == 3


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("post", "", a_person()),
        ("post", "duplicates/", {"phone": "+7 928 000-00-00"}),
        ("get", "{id}/", None),
        ("patch", "{id}/", {"notes": "x"}),
        ("post", "{id}/erase/", {}),
    ],
)
def test_auditors_and_admins_get_no_personal_data(
    role, method, suffix, body, make_staff, client_for, caseworker
):
    person = create(client_for(caseworker))
    client = client_for(make_staff(role))

    response = getattr(client, method)(PEOPLE_URL + suffix.format(id=person["id"]), body)

    assert response.status_code == 403
    assert "Иван" not in json.dumps(response.json(), ensure_ascii=False)


def test_only_coordinators_erase(caseworker, client_for):
    person = create(client_for(caseworker))

    response = client_for(caseworker).post(
        person_url(person["id"], "erase/"), erase_body(caseworker)
    )

    assert response.status_code == 403
    assert Person.objects.get(pk=person["id"]).erased is False


@pytest.mark.parametrize("method", ["put", "delete"])
def test_people_are_never_replaced_or_hard_deleted(method, caseworker, client_for):
    person = create(client_for(caseworker))

    response = getattr(client_for(caseworker), method)(person_url(person["id"]), a_person())

    assert response.status_code == 405
    assert Person.objects.filter(pk=person["id"]).exists()


def test_a_partial_update_changes_only_what_it_names(caseworker, client_for):
    client = client_for(caseworker)
    person = create(client)

    response = client.patch(person_url(person["id"]), {"phone": "8 (928) 111-22-33"})

    assert response.status_code == 200
    assert response.json() == {
        **person,
        "phone": "8 (928) 111-22-33",
        "updated_at": response.json()["updated_at"],
    }


@pytest.mark.parametrize(
    "body",
    [
        {"id": str(uuid.uuid4())},
        {"erased": True},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"phone_index": "00"},
        {"created_by": "someone"},
    ],
)
def test_fields_a_client_may_not_write_are_refused_not_ignored(body, caseworker, client_for):
    client = client_for(caseworker)
    person = create(client)

    response = client.patch(person_url(person["id"]), body)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(body)
    assert client.get(person_url(person["id"])).json() == person


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "+7 12"}, "phone"),
        ({"date_of_birth": "1994-13-40"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"document_type": "library card"}, "document_type"),
        ({"languages": "ru"}, "languages"),
        ({"full_name": "x" * 301}, "full_name"),
        ({"full_name": None, "preferred_name": None}, "full_name"),
        ({"full_name": 42}, "full_name"),
    ],
)
def test_bad_input_is_a_400_with_the_field_named(overrides, field, caseworker, client_for):
    response = client_for(caseworker).post(PEOPLE_URL, a_person(**overrides))

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "russian"),
    [
        ({"phone": "call me maybe"}, "phone", "Введите номер телефона"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "Введите дату рождения"),
    ],
)
def test_a_refusal_is_in_the_language_the_client_reads(
    overrides, field, russian, caseworker, client_for
):
    response = client_for(caseworker).post(
        PEOPLE_URL, a_person(**overrides), HTTP_ACCEPT_LANGUAGE="ru"
    )

    assert response.status_code == 400
    assert any(russian in message for message in response.json()["fields"][field])


def test_a_patch_cannot_leave_a_person_without_any_name(caseworker, client_for):
    client = client_for(caseworker)
    person = create(client, preferred_name=None)

    response = client.patch(person_url(person["id"]), {"full_name": None})

    assert response.status_code == 400


def test_erasure_keeps_the_row_and_answers_erased(caseworker, coordinator, client_for):
    person = create(client_for(caseworker))
    client = client_for(coordinator)

    response = client.post(person_url(person["id"], "erase/"), erase_body(client))
    read = client.get(person_url(person["id"])).json()

    assert response.status_code == 200
    assert read["erased"] is True
    assert all(read[name] is None for name in a_person())
    assert client.post(person_url(person["id"], "erase/"), erase_body(client)).status_code == 409
    assert client.patch(person_url(person["id"]), {"notes": "x"}).status_code == 409
    erased = LogEntry.objects.get(action=Action.ERASED)
    assert erased.object_pk == person["id"]
    assert erased.actor == coordinator.user


def test_list_pages_are_bounded(caseworker, client_for):
    client = client_for(caseworker)
    for number in range(3):
        create(client, full_name=f"Person {number}")

    page = client.get(PEOPLE_URL, {"page_size": 2}).json()

    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]


@pytest.mark.parametrize(
    "body",
    [
        a_person(document_type="\ud800"),
        {**a_person(), "\udfff": 1},
        {"full_name": "x", "notes": "\u0000"},
    ],
)
def test_odd_unicode_is_answered_not_a_500(body, caseworker, client_for):
    response = client_for(caseworker).post(
        PEOPLE_URL, json.dumps(body), content_type="application/json"
    )

    assert response.status_code in (201, 400)
    response.json()


def test_json_nested_too_deeply_is_a_400(caseworker, client_for):
    body = '{"full_name": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = client_for(caseworker).post(PEOPLE_URL, body, content_type="application/json")

    assert response.status_code == 400


def test_errors_never_repeat_a_personal_value(caseworker, client_for):
    client = client_for(caseworker)
    person = create(client)

    bad_choice = client.patch(person_url(person["id"]), {"document_type": "AB 123456"})
    odd_key = client.patch(person_url(person["id"]), {"AB 123456": "x"})

    assert bad_choice.status_code == odd_key.status_code == 400
    assert "123456" not in bad_choice.content.decode() + odd_key.content.decode()
