"""Holes a review found in the cases app, each closed and kept closed."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from accounts.roles import Role
from cases.models import Case, CaseMember
from cases.services import Member, case_create, case_member_add, case_shred, case_update
from common.exceptions import InvariantViolation
from people.models import Person
from people.services import person_create, person_shred, person_update
from tests.cases.helpers import CASES_URL, a_case, case_url, open_case, record_person
from tests.concurrency import run_at_once
from tests.erasure import erase_body
from tests.people.helpers import PEOPLE_URL, person_url


@pytest.mark.django_db
def test_a_survivor_of_an_erased_case_is_out_of_its_caseworkers_scope(make_staff, client_for):
    mine, theirs = make_staff(Role.CASEWORKER), make_staff(Role.CASEWORKER)
    lead = client_for(make_staff(Role.COORDINATOR))
    client = client_for(mine)
    shared = record_person(client, full_name="Shared Person")
    erased = open_case(client, members=[(shared, "sibling")])
    other = lead.post(
        CASES_URL,
        a_case(record_person(lead), members=[{"person": shared, "relationship": "sibling"}]),
    )
    lead.post(case_url(other.json()["id"], "assign/"), {"caseworkers": [theirs.user.username]})

    lead.post(case_url(erased["id"], "erase/"), erase_body(lead))

    assert lead.get(person_url(shared)).json()["erased"] is False  # on an open case: kept
    assert client.get(person_url(shared)).status_code == 404
    assert client_for(theirs).get(person_url(shared)).status_code == 200


@pytest.mark.django_db
def test_someone_taken_off_a_household_is_still_erased_with_the_case(make_staff, client_for):
    caseworker = make_staff(Role.CASEWORKER)
    client, lead = client_for(caseworker), client_for(make_staff(Role.COORDINATOR))
    partner = record_person(client, full_name="Taken Off")
    case = open_case(client, members=[(partner, "partner")])

    taken_off = client.post(case_url(case["id"], f"members/{partner}/remove/"), {"reason": "left"})
    assert taken_off.status_code == 200
    assert client.get(person_url(partner)).status_code == 404  # not back in the creator's scope
    lead.post(case_url(case["id"], "erase/"), erase_body(lead))

    assert lead.get(person_url(partner)).json()["erased"] is True


@pytest.mark.django_db
def test_a_new_primary_person_keeps_the_old_one_on_the_household(make_staff, client_for):
    client = client_for(make_staff(Role.CASEWORKER))
    case = open_case(client)
    new_primary = record_person(client, full_name="New Primary")

    updated = client.patch(case_url(case["id"]), {"primary_person": new_primary}).json()

    assert {(m["person"], m["relationship"]) for m in updated["members"]} == {
        (new_primary, "primary"),
        (case["primary_person"], "other"),
    }


@pytest.mark.django_db
def test_a_person_erased_after_validation_is_not_put_on_a_household(make_staff):
    staff = make_staff(Role.CASEWORKER, Role.COORDINATOR).user
    with transaction.atomic():
        case = case_create(
            created_by=staff,
            primary_person=person_create(created_by=staff, full_name="Primary"),
            risk_level="high",
        )
        late = person_create(created_by=staff, full_name="Erased Meanwhile")
        person_shred(person=late, actor=staff)

    with pytest.raises(InvariantViolation, match="erased"):
        case_member_add(case=case, actor=staff, person=late, relationship="child")
    with pytest.raises(InvariantViolation, match="erased"):
        case_update(case=case, actor=staff, primary_person=late)

    assert not CaseMember.objects.filter(person=late).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_cases_erased_at_once_still_erase_the_person_they_share(make_staff):
    lead = make_staff(Role.COORDINATOR).user
    with transaction.atomic():
        shared = person_create(created_by=lead, full_name="On Both Cases")
        cases = [
            case_create(
                created_by=lead,
                primary_person=person_create(created_by=lead, full_name=f"Primary {n}"),
                members=[Member(person=shared, relationship="sibling")],
                risk_level="high",
            )
            for n in range(2)
        ]

    def erase(case: Case):
        return lambda: transaction.atomic()(case_shred)(case=case, actor=lead)

    run_at_once(*(erase(case) for case in cases))

    assert Person.objects.get(pk=shared.pk).erased


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("updated_since", "9999-12-31T23:59:59-23:59"),
        ("updated_since", "0001-01-01T00:00:00+23:59"),
        ("reference", "\x00"),
        ("reference", "EV-0000OO"),
        ("reference", "' OR 1=1 --"),
    ],
)
def test_impossible_filters_are_a_400(name, value, make_staff, client_for):
    response = client_for(make_staff(Role.COORDINATOR)).get(CASES_URL, {name: value})

    assert response.status_code == 400
    assert name in response.json()["fields"]


@pytest.mark.django_db
def test_a_household_is_bounded(make_staff, client_for):
    client = client_for(make_staff(Role.CASEWORKER))
    members = [{"person": str(uuid.uuid4()), "relationship": "other"} for _ in range(51)]

    response = client.post(CASES_URL, a_case(record_person(client), members=members))

    assert response.status_code == 400
    assert "members" in response.json()["fields"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_an_erased_case_no_longer_says_who_was_on_it(make_staff, client_for):
    caseworker = make_staff(Role.CASEWORKER)
    client, lead = client_for(caseworker), client_for(make_staff(Role.COORDINATOR))
    case = open_case(client, members=[(record_person(client), "child")])

    erased = lead.post(case_url(case["id"], "erase/"), erase_body(lead)).json()
    listed = lead.get(CASES_URL, {"erased": "true"}).json()["results"][0]

    assert erased["members"] == []
    assert erased["primary_person"] is None
    assert listed["members"] == []
    assert listed["primary_person"] is None
    assert listed["primary_person_name"] is None
    assert client.get(PEOPLE_URL).json()["count"] == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_erasing_a_case_while_its_person_is_edited_waits_instead_of_deadlocking(make_staff):
    # The person edit holds the person's row and then needs the audit chain; the erasure must
    # not hold the chain while it waits for the person (it did: a deadlock, answered as a 500).
    lead = make_staff(Role.COORDINATOR).user
    with transaction.atomic():
        person = person_create(created_by=lead, full_name="Being Edited")
        case = case_create(created_by=lead, primary_person=person, risk_level="high")
    person_locked = threading.Event()

    def edit() -> None:
        with transaction.atomic():
            locked = Person.objects.select_for_update().get(pk=person.pk)
            person_locked.set()
            time.sleep(0.5)  # long enough for the erasure to be queued behind this lock
            person_update(person=locked, preferred_name="Edited")

    def erase() -> None:
        person_locked.wait()
        case_shred(case=case, actor=lead)

    run_at_once(edit, erase)

    assert Case.objects.get(pk=case.pk).erased
    assert Person.objects.get(pk=person.pk).erased
