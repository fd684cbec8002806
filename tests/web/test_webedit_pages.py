"""The edit pages from a caseworker's and a coordinator's side: a case's details and a
person's record changed through the same services as PATCH cases/{id}/ and PATCH people/{id}/
(so the records and audit entries they leave are the API's), refused where the API refuses
(another's case or person: 404, a bad body: 400, an erased record: 409), the current values
shown through the disclosure layer (ACCESS entries written); and the open needs of my cases."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from audit.models import Action, LogEntry
from cases.disclosure import CASE_SECRETS
from cases.models import Case, Need, TimelineEntry
from cases.services import case_shred, need_create, need_update
from people.disclosure import PERSONAL_FIELDS
from people.models import Person
from people.services import person_shred
from tests.audit.reads import access_reads
from tests.web.helpers import controls_of, signed_in_client, text_of
from tests.web.webcases_examples import example_case

pytestmark = pytest.mark.django_db


def last_sequence() -> int:
    entry = LogEntry.objects.order_by("-sequence").first()
    return entry.sequence if entry else 0


def entries_since(since: int, action: int, model: str, pk) -> list:
    """The entries of `action` on one record since `since`; for ACCESS, one read per record a
    response revealed (tests/audit/reads.py), each with `additional_data["fields"]`."""
    if action == Action.ACCESS:
        reads = access_reads(sequence__gt=since, object_pk=pk)
        return [read for read in reads if read.content_type.model == model]
    return list(
        LogEntry.objects.filter(
            sequence__gt=since,
            action=action,
            content_type__model=model,
            object_pk=str(pk),
        ).select_related("actor")
    )


def case_body(**overrides) -> dict:
    body = {
        "case-risk_level": "critical",
        "case-protection_concerns": ["in_hiding"],
        "case-summary": "Moved to a second flat after a visit.",
        "case-location": "A second flat",
        "case-safe_contact": "Signal only",
        "case-consent_to_store": "on",
        "case-consent_given_on": "2026-11-21",
    }
    body.update({f"case-{name}": value for name, value in overrides.items()})
    return body


def person_body(**overrides) -> dict:
    body = {
        "person-full_name": "Example Person",
        "person-preferred_name": "Ex",
        "person-phone": "+7 928 999-00-11",
        "person-messenger": "",
        "person-date_of_birth": "1990-05-06",
        "person-document_type": "",
        "person-document_number": "",
        "person-nationality": "",
        "person-languages": "Chechen, Russian",
        "person-notes": "Prefers evening calls.",
    }
    body.update({f"person-{name}": value for name, value in overrides.items()})
    return body


def test_a_caseworker_changes_a_case_and_the_change_is_audited(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = example_case(caseworker.user)
    url = f"/cases/{case.pk}/edit/"

    since = last_sequence()
    form = web.get(url)
    assert form.status_code == 200
    assert "Example summary" in form.content.decode()
    shown = entries_since(since, Action.ACCESS, "case", case.pk)
    assert [set(e.additional_data["fields"]) for e in shown] == [set(CASE_SECRETS)]
    assert f'href="{url}"' in web.get(f"/cases/{case.pk}/").content.decode()

    since = last_sequence()
    saved = web.post(url, case_body())

    assert saved.status_code == 302
    assert saved["Location"] == f"/cases/{case.pk}/"
    stored = Case.objects.get(pk=case.pk)
    assert (stored.summary, stored.location, stored.risk_level) == (
        "Moved to a second flat after a visit.",
        "A second flat",
        "critical",
    )
    assert stored.consent_to_store
    assert not stored.consent_to_share
    assert stored.protection_concerns == ["in_hiding"]
    updates = entries_since(since, Action.UPDATE, "case", case.pk)
    assert updates
    assert {e.actor_id for e in updates} == {caseworker.user.pk}
    # No access entry for the write: a redirect shows nothing.
    assert entries_since(since, Action.ACCESS, "case", case.pk) == []
    assert "Moved to a second flat after a visit." in text_of(web.get(f"/cases/{case.pk}/"))


def test_a_changed_risk_goes_on_the_timeline_and_empty_fields_clear(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = example_case(caseworker.user)

    web.post(f"/cases/{case.pk}/edit/", case_body(risk_level="low", location="", summary=""))

    stored = Case.objects.get(pk=case.pk)
    assert (stored.location, stored.summary) == (None, None)
    entry = TimelineEntry.objects.get(case=case, kind="risk")
    assert (entry.from_value, entry.to_value) == ("critical", "low")


def test_a_caseworker_cannot_change_another_caseworkers_case(make_staff):
    owner = make_staff(Role.CASEWORKER)
    case = example_case(owner.user)
    intruder = signed_in_client(make_staff(Role.CASEWORKER))
    since = last_sequence()

    seen = intruder.get(f"/cases/{case.pk}/edit/")
    sent = intruder.post(f"/cases/{case.pk}/edit/", case_body(summary="overwritten"))

    assert (seen.status_code, sent.status_code) == (404, 404)
    assert "Example summary" not in seen.content.decode()
    assert Case.objects.get(pk=case.pk).summary == "Example summary"
    assert entries_since(since, Action.UPDATE, "case", case.pk) == []
    assert entries_since(since, Action.ACCESS, "case", case.pk) == []


def test_a_coordinator_changes_any_case(make_staff):
    case = example_case(make_staff(Role.CASEWORKER).user)
    coordinator = signed_in_client(make_staff(Role.COORDINATOR))

    sent = coordinator.post(f"/cases/{case.pk}/edit/", case_body(summary="Checked by phone."))

    assert sent.status_code == 302
    assert Case.objects.get(pk=case.pk).summary == "Checked by phone."


def test_a_case_edit_refuses_what_the_api_refuses(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = example_case(caseworker.user)
    url = f"/cases/{case.pk}/edit/"

    no_risk = web.post(url, case_body(risk_level=""))
    bad_concern = web.post(url, case_body(protection_concerns=["made_up"]))
    too_long = web.post(url, case_body(location="x" * 2001))

    assert [r.status_code for r in (no_risk, bad_concern, too_long)] == [400, 400, 400]
    assert Case.objects.get(pk=case.pk).summary == "Example summary"

    coordinator = make_staff(Role.COORDINATOR)
    case_shred(case=Case.objects.get(pk=case.pk), actor=coordinator.user)
    web = signed_in_client(coordinator)  # an erased case stays in a coordinator's scope only
    erased = web.post(url, case_body())
    assert erased.status_code == 409
    assert "This case was erased; it cannot be changed." in text_of(erased)
    assert "case-summary" not in web.get(url).content.decode()  # no form for an erased case


def test_a_caseworker_changes_a_persons_record_and_the_change_is_audited(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    person = example_case(caseworker.user).primary_person_id
    url = f"/people/{person}/edit/"

    since = last_sequence()
    form = web.get(url)
    assert form.status_code == 200
    assert "+7 928 111-22-33" in form.content.decode() or "+79281112233" in form.content.decode()
    shown = entries_since(since, Action.ACCESS, "person", person)
    assert shown
    assert set(shown[0].additional_data["fields"]) == set(PERSONAL_FIELDS)
    assert f'href="{url}"' in web.get(f"/people/{person}/").content.decode()

    since = last_sequence()
    saved = web.post(url, person_body())

    assert saved.status_code == 302
    assert saved["Location"] == f"/people/{person}/"
    stored = Person.objects.with_keys().get(pk=person)
    assert stored.preferred_name == "Ex"
    assert stored.languages == ["Chechen", "Russian"]
    assert stored.notes == "Prefers evening calls."
    assert "999" in stored.phone
    updates = entries_since(since, Action.UPDATE, "person", person)
    assert updates
    assert {e.actor_id for e in updates} == {caseworker.user.pk}


def test_a_person_edit_refuses_what_the_api_refuses(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    person = example_case(caseworker.user).primary_person_id
    url = f"/people/{person}/edit/"

    nameless = web.post(url, person_body(full_name="", preferred_name=""))
    bad_phone = web.post(url, person_body(phone="call me"))
    future = web.post(url, person_body(date_of_birth="2999-01-01"))
    outsider = signed_in_client(make_staff(Role.CASEWORKER))
    elsewhere = outsider.post(url, person_body(preferred_name="taken over"))

    assert [r.status_code for r in (nameless, bad_phone, future)] == [400, 400, 400]
    assert elsewhere.status_code == 404
    assert outsider.get(url).status_code == 404
    assert Person.objects.with_keys().get(pk=person).full_name == "Example Person"


def test_personal_fields_keep_nothing_typed(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = example_case(caseworker.user)

    for url in (f"/cases/{case.pk}/edit/", f"/people/{case.primary_person_id}/edit/"):
        page = controls_of(web.get(url))
        typed = [c for c in page.controls if c["tag"] in ("input", "textarea", "select")]
        typed = [c for c in typed if c.get("type") not in ("hidden", "checkbox")]
        assert typed, url
        assert all(c.get("autocomplete") == "off" for c in typed), url


def test_my_open_needs_lists_my_cases_needs_and_a_coordinator_sees_all(make_staff):
    mine = make_staff(Role.CASEWORKER)
    theirs = make_staff(Role.CASEWORKER)
    own_case = example_case(mine.user)
    other_case = example_case(theirs.user)
    done = need_create(case=own_case, created_by=mine.user, category="food", description="done")
    need_update(need=Need.objects.get(pk=done.pk), status="met")
    own_need = own_case.needs.exclude(pk=done.pk).get()

    since = last_sequence()
    page = signed_in_client(mine).get("/needs/")

    shown = text_of(page)
    assert page.status_code == 200
    assert "My open needs" in shown
    assert "1 open need on your cases" in shown
    assert own_case.reference in shown
    assert other_case.reference not in shown
    assert f'href="/cases/{own_case.pk}/#needs"' in page.content.decode()
    assert "Example need" in shown
    assert "done" not in shown.split("oldest first.")[1]
    access = entries_since(since, Action.ACCESS, "need", own_need.pk)
    assert [set(e.additional_data["fields"]) for e in access] == [{"description"}]

    coordinator = text_of(signed_in_client(make_staff(Role.COORDINATOR)).get("/needs/"))
    assert "All open needs" in coordinator
    assert own_case.reference in coordinator
    assert other_case.reference in coordinator


def test_the_needs_page_is_in_the_navigation_of_case_staff_only(make_staff):
    caseworker = signed_in_client(make_staff(Role.CASEWORKER)).get("/cases/")
    auditor = signed_in_client(make_staff(Role.AUDITOR)).get("/reports/")

    assert 'href="/needs/"' in caseworker.content.decode()
    assert 'href="/needs/"' not in auditor.content.decode()


def test_an_erased_person_cannot_be_changed(make_staff):
    case = example_case(make_staff(Role.CASEWORKER).user)
    coordinator = make_staff(Role.COORDINATOR)
    person = Person.objects.with_keys().get(pk=case.primary_person_id)
    person_shred(person=person, actor=coordinator.user)
    web = signed_in_client(coordinator)
    url = f"/people/{person.pk}/edit/"

    form = web.get(url)
    sent = web.post(url, person_body())

    assert form.status_code == 200
    assert "person-full_name" not in form.content.decode()
    assert sent.status_code == 409
    assert "This person was erased; their record cannot be changed." in text_of(sent)
