"""`erase/` crypto-shreds a case and those of its people who are on no other open case.

The case's data key is destroyed, so its fields, its needs' descriptions, its notes' bodies and
its timeline reasons stop opening everywhere (a backup of the rows included). Its people are
erased with it unless they are also on another case that is still open. The rows stay, an
erased case refuses every change (409), and reading it shows its secrets as null.
"""

from __future__ import annotations

import pytest

from audit.models import Action, LogEntry
from cases.models import Case, CaseAssignment, CaseMember, Need, Note, TimelineEntry
from encryption.exceptions import KeyDestroyed
from encryption.models import DataKey
from people.models import PERSONAL_FIELDS, Person
from tests.cases.helpers import (
    CASE_SECRETS,
    CASES_URL,
    case_url,
    listed_cases,
    open_case,
    record_person,
)
from tests.erasure import erase_body
from tests.people.helpers import PEOPLE_URL, person_url

pytestmark = pytest.mark.django_db

# How a coordinator takes a fresh case to each status.
PATHS = {
    "intake": [],
    "rejected": ["rejected"],
    "closed": ["rejected", "closed"],
    "withdrawn": ["withdrawn"],
    "lost_contact": ["lost_contact"],
}


def move(lead, case_id: str, status: str) -> None:
    for step in PATHS[status]:
        response = lead.post(case_url(case_id, "transition/"), {"to": step, "reason": "moved"})
        assert response.status_code == 200, response.json()


def full_case(client) -> dict:
    """A case with a member, two needs, two notes and two transitions."""
    member = record_person(client, full_name="Member Only Here")
    case = open_case(client, members=[(member, "partner")])
    url = case_url(case["id"])
    for description in ("bus tickets for two", "a room in a safe flat"):
        need = client.post(f"{url}needs/", {"category": "travel", "description": description})
        assert need.status_code == 201
    for body in ("called from a neighbour's phone", "the uncle came looking"):
        assert client.post(f"{url}notes/", {"body": body}).status_code == 201
    for to, reason in (("verification", "documents seen"), ("intake", "a page is missing")):
        assert client.post(f"{url}transition/", {"to": to, "reason": reason}).status_code == 200
    return case


def person_blobs(person_id: str) -> tuple:
    return Person.objects.filter(pk=person_id).values_list(*PERSONAL_FIELDS).get()


def reloaded_person(person_id: str) -> Person:
    return Person.objects.with_keys().get(pk=person_id)


# --- what erasure destroys -------------------------------------------------------------------


def test_erasure_destroys_the_case_key_and_nothing_sealed_under_it_opens_again(client, lead):
    case = full_case(client)
    case_blobs = Case.objects.filter(pk=case["id"]).values_list(*CASE_SECRETS).get()
    assert all(blob is not None for blob in case_blobs)
    data_key_id = Case.objects.get(pk=case["id"]).data_key_id

    response = lead.post(case_url(case["id"], "erase/"), erase_body(lead))

    assert response.status_code == 200, response.json()
    data_key = DataKey.objects.get(pk=data_key_id)
    assert data_key.wrapped is None
    assert data_key.destroyed_at is not None
    erased = Case.objects.select_related("data_key").get(pk=case["id"])
    assert erased.erased_at is not None
    assert all(getattr(erased, name) is None for name in CASE_SECRETS)
    for name, sealed in zip(CASE_SECRETS, case_blobs, strict=True):  # a backup of the row
        with pytest.raises(KeyDestroyed):
            Case._meta.get_field(name).open(erased, sealed)
    items = [
        *[(need, "description") for need in Need.objects.filter(case_id=case["id"])],
        *[(note, "body") for note in Note.objects.filter(case_id=case["id"])],
        *[(entry, "reason") for entry in TimelineEntry.objects.filter(case_id=case["id"])],
    ]
    assert len(items) == 6
    for item, field in items:
        fresh = type(item).objects.select_related("case__data_key").get(pk=item.pk)
        with pytest.raises(KeyDestroyed):
            getattr(fresh, field)


def test_erasure_erases_the_people_who_are_on_no_other_case(client, lead):
    case = full_case(client)
    people = [m["person"] for m in case["members"]]
    blobs = {person_id: person_blobs(person_id) for person_id in people}

    lead.post(case_url(case["id"], "erase/"), erase_body(lead))

    for person_id in people:
        person = reloaded_person(person_id)
        assert person.erased_at is not None
        assert person.data_key.destroyed_at is not None
        assert all(getattr(person, name) is None for name in PERSONAL_FIELDS)
        for name, sealed in zip(PERSONAL_FIELDS, blobs[person_id], strict=True):
            if sealed is not None:
                with pytest.raises(KeyDestroyed):
                    Person._meta.get_field(name).open(person, sealed)
        shown = lead.get(person_url(person_id)).json()
        assert shown["erased"] is True
        assert shown["full_name"] is None


def test_a_person_also_on_another_open_case_survives_and_still_decrypts(client, lead):
    survivor = record_person(client, full_name="Still Being Helped")
    erased_case = open_case(client, members=[(survivor, "sibling")])
    open_case(client, primary=survivor)

    lead.post(case_url(erased_case["id"], "erase/"), erase_body(lead))

    person = reloaded_person(survivor)
    assert person.erased_at is None
    assert person.data_key.destroyed_at is None
    assert person.full_name == "Still Being Helped"
    assert lead.get(person_url(survivor)).json()["full_name"] == "Still Being Helped"
    assert reloaded_person(erased_case["primary_person"]).erased_at is not None


@pytest.mark.parametrize(
    ("other_status", "survives"),
    [
        ("intake", True),
        ("lost_contact", True),
        ("closed", False),
        ("rejected", False),
        ("withdrawn", False),
    ],
)
def test_a_person_whose_other_case_has_ended_is_erased_too(other_status, survives, client, lead):
    person = record_person(client, full_name="On Two Cases")
    erased_case = open_case(client, primary=person)
    other_case = open_case(client, members=[(person, "partner")])
    move(lead, other_case["id"], other_status)

    lead.post(case_url(erased_case["id"], "erase/"), erase_body(lead))

    assert (reloaded_person(person).erased_at is None) is survives


def test_a_person_whose_other_case_was_erased_before_is_erased_too(client, lead):
    person = record_person(client, full_name="On Two Cases")
    first = open_case(client, primary=person)
    second = open_case(client, members=[(person, "child")])

    lead.post(case_url(first["id"], "erase/"), erase_body(lead))
    assert reloaded_person(person).erased_at is None  # still on the second, open case
    lead.post(case_url(second["id"], "erase/"), erase_body(lead))

    assert reloaded_person(person).erased_at is not None


def test_a_member_erased_earlier_does_not_stop_the_case_erasure(client, lead):
    member = record_person(client, full_name="Erased Already")
    case = open_case(client, members=[(member, "parent")])
    assert lead.post(person_url(member, "erase/"), erase_body(lead)).status_code == 200

    response = lead.post(case_url(case["id"], "erase/"), erase_body(lead))

    assert response.status_code == 200
    assert LogEntry.objects.filter(action=Action.ERASED, object_pk=member).count() == 1


def test_erasure_keeps_the_rows_money_records_will_point_to(client, lead):
    case = full_case(client)

    lead.post(case_url(case["id"], "erase/"), erase_body(lead))

    assert Case.objects.get(pk=case["id"]).reference == case["reference"]
    assert CaseMember.objects.filter(case_id=case["id"]).count() == 2
    assert Need.objects.filter(case_id=case["id"], category="travel").count() == 2
    assert Note.objects.filter(case_id=case["id"]).count() == 2
    assert TimelineEntry.objects.filter(case_id=case["id"]).count() == 2
    assert Person.objects.filter(pk__in=[m["person"] for m in case["members"]]).count() == 2


def test_erasure_is_audited_for_the_case_and_each_person_erased(client, lead, coordinator):
    survivor = record_person(client, full_name="Survivor")
    case = open_case(client, members=[(survivor, "sibling")])
    open_case(client, primary=survivor)

    lead.post(case_url(case["id"], "erase/"), erase_body(lead))

    erased = LogEntry.objects.filter(action=Action.ERASED)
    assert sorted(entry.object_pk for entry in erased) == sorted(
        [case["id"], case["primary_person"]]
    )
    assert {entry.actor_id for entry in erased} == {coordinator.user.pk}


# --- an erased case --------------------------------------------------------------------------


@pytest.fixture
def erased_case(client, lead) -> dict:
    case = full_case(client)
    assert lead.post(case_url(case["id"], "erase/"), erase_body(lead)).status_code == 200
    return case


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"summary": "back again"}),
        ("patch", "", {"risk_level": "low"}),
        ("post", "transition/", {"to": "withdrawn", "reason": "gone"}),
        ("post", "needs/", {"category": "food", "description": "bread"}),
        ("post", "notes/", {"body": "one more thing"}),
        ("post", "assign/", {"caseworkers": []}),
        ("post", "erase/", None),  # None: a fresh code, the erasure's own body
    ],
)
def test_an_erased_case_refuses_every_change(method, suffix, body, erased_case, lead):
    url = case_url(erased_case["id"], suffix)
    before = Case.objects.get(pk=erased_case["id"]).updated_at

    response = getattr(lead, method)(url, erase_body(lead) if body is None else body)

    assert response.status_code == 409, response.json()
    assert Case.objects.get(pk=erased_case["id"]).updated_at == before


def test_an_erased_cases_need_cannot_be_corrected(erased_case, lead):
    need = Need.objects.filter(case_id=erased_case["id"]).first()

    response = lead.patch(case_url(erased_case["id"], f"needs/{need.pk}/"), {"status": "met"})

    assert response.status_code == 409
    assert Need.objects.get(pk=need.pk).status == "open"


def test_an_erased_case_reads_with_its_secrets_null(erased_case, lead):
    url = case_url(erased_case["id"])

    for reader in (lead,):
        shown = reader.get(url).json()
        assert shown["erased"] is True
        assert {name: shown[name] for name in CASE_SECRETS} == dict.fromkeys(CASE_SECRETS)
        assert shown["reference"] == erased_case["reference"]
        needs = reader.get(f"{url}needs/").json()["results"]
        assert [(n["category"], n["description"]) for n in needs] == [("travel", None)] * 2
        notes = reader.get(f"{url}notes/").json()["results"]
        assert [n["body"] for n in notes] == [None, None]
        assert all(n["author"] for n in notes)
        timeline = reader.get(f"{url}timeline/").json()["results"]
        assert [(e["to_value"], e["reason"]) for e in timeline] == [
            ("verification", None),
            ("intake", None),
        ]
        listed = reader.get(
            CASES_URL, {"reference": erased_case["reference"], "erased": "true"}
        ).json()
        assert listed["results"][0]["primary_person_name"] is None


def test_an_erased_case_ends_its_assignments_and_leaves_the_working_lists(
    erased_case, client, lead
):
    url = case_url(erased_case["id"])

    assert lead.get(url).json()["assigned_to"] == []
    assert not CaseAssignment.objects.filter(case_id=erased_case["id"]).exists()
    for suffix in ("", "needs/", "notes/", "timeline/"):
        assert client.get(f"{url}{suffix}").status_code == 404
    assert erased_case["id"] not in {row["id"] for row in listed_cases(client)}
    assert erased_case["id"] not in {row["id"] for row in listed_cases(lead)}
    assert erased_case["id"] not in {
        row["id"] for row in listed_cases(lead, status=erased_case["status"])
    }
    assert erased_case["id"] in {row["id"] for row in listed_cases(lead, erased="true")}


@pytest.mark.parametrize("value", ["true", "false"])
def test_only_coordinators_may_list_erased_records(client, value):
    for url in (CASES_URL, PEOPLE_URL):
        response = client.get(url, {"erased": value})

        assert response.status_code == 400
        assert "erased" in response.json()["fields"]


def test_erased_people_leave_the_people_list_unless_a_coordinator_asks(erased_case, lead):
    erased = {
        str(pk)
        for pk in Person.objects.filter(erased_at__isnull=False).values_list("pk", flat=True)
    }
    assert erased  # the case's people went with it

    def listed(**params) -> set[str]:
        return {
            row["id"]
            for row in lead.get(PEOPLE_URL, {**params, "page_size": 200}).json()["results"]
        }

    assert not listed() & erased
    assert erased <= listed(erased="true")
    assert listed(erased="false") == listed()
