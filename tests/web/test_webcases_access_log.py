"""Every case page that shows personal data leaves one ACCESS entry naming each record shown and
the fields it revealed, and the reader; a page showing nothing personal (an erased case) leaves
none. The same entries as the API's for the same data."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from audit.models import Action, LogEntry
from cases.disclosure import CASE_SECRETS
from cases.models import Case
from cases.services import case_shred, case_transition
from people.disclosure import NAME_FIELDS as PERSON_NAME_FIELDS
from tests.audit.reads import access_reads
from tests.web.helpers import signed_in_client
from tests.web.test_webcases_flows import INTAKE, person_fields
from tests.web.webcases_examples import example_case

pytestmark = pytest.mark.django_db


def last_sequence() -> int:
    entry = LogEntry.objects.order_by("-sequence").first()
    return entry.sequence if entry else 0


def read_during(client, path: str, method: str = "get", data=None) -> dict[tuple[str, str], set]:
    """{(model, object id): fields} of the records the request's ACCESS entry read, and who
    read them; the request wrote at most one ACCESS entry (one per response)."""
    since = last_sequence()
    response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    assert response.status_code == 200
    assert LogEntry.objects.filter(action=Action.ACCESS, sequence__gt=since).count() <= 1
    found = {}
    for read in access_reads(sequence__gt=since):
        found[(read.content_type.model, read.object_pk)] = set(read.fields)
        found.setdefault("actors", set()).add(read.actor.username)
    return found


def test_the_case_page_logs_every_record_it_shows(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    case = example_case(caseworker.user)
    case_transition(case=case, actor=caseworker.user, to="verification", reason="why")
    members = list(case.memberships.values_list("person_id", flat=True))

    found = read_during(signed_in_client(caseworker), f"/cases/{case.pk}/")

    assert found[("case", str(case.pk))] == set(CASE_SECRETS)
    for person in members:
        assert found[("person", str(person))] == set(PERSON_NAME_FIELDS)
    assert found[("need", str(case.needs.get().pk))] == {"description"}
    assert found[("note", str(case.notes.get().pk))] == {"body"}
    assert found[("timelineentry", str(case.timeline.get().pk))] == {"reason"}
    assert found["actors"] == {caseworker.user.username}


def test_the_list_logs_the_names_it_shows(make_staff):
    coordinator = make_staff(Role.COORDINATOR)
    cases = [example_case(make_staff(Role.CASEWORKER).user) for _ in range(3)]

    found = read_during(signed_in_client(coordinator), "/cases/")

    for case in cases:
        assert found[("person", str(case.primary_person_id))] == set(PERSON_NAME_FIELDS)
    assert ("case", str(cases[0].pk)) not in found  # the list shows no case secret


def test_the_person_page_logs_the_fields_it_shows(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    case = example_case(caseworker.user)

    found = read_during(signed_in_client(caseworker), f"/people/{case.primary_person_id}/")

    assert {"full_name", "phone", "notes", "document_number"} <= found[
        ("person", str(case.primary_person_id))
    ]


def test_the_duplicate_check_logs_the_names_of_the_matches_it_shows(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = example_case(caseworker.user)

    found = read_during(
        web, INTAKE, "post",
        {"step": "check", **person_fields(full_name="Example Person", phone="+7 928 111-22-33")},
    )  # fmt: skip

    assert found[("person", str(case.primary_person_id))] == set(PERSON_NAME_FIELDS)


def test_an_erased_case_page_shows_nothing_personal_and_logs_nothing(make_staff):
    coordinator = make_staff(Role.COORDINATOR)
    case = example_case(make_staff(Role.CASEWORKER).user)
    case_shred(case=Case.objects.get(pk=case.pk), actor=coordinator.user)

    found = read_during(signed_in_client(coordinator), f"/cases/{case.pk}/")

    assert found == {}
