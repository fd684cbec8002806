"""The disclosure layer: what a viewer sees of a record (in clear, masked, absent because
erased), the ACCESS entries each response writes from what it showed, and the refusals when
a view skips the layer or the entries cannot be written."""

from __future__ import annotations

import pytest
from django.apps import apps

from accounts.roles import Role
from audit import disclosure as layer
from audit.disclosure import MASKED, Disclosure, UndisclosedRead, governed_fields
from cases.disclosure import CASE_SECRETS, case_disclosed, note_disclosed
from cases.selectors import cases_visible_to
from cases.services import case_shred, note_create
from encryption.opened import watching
from funds.disclosure import SEALED, disbursement_disclosed
from funds.selectors import disbursements_visible_to
from funds.services.disbursements import disbursement_approve, disbursement_request
from people.disclosure import person_disclosed
from people.models import PERSONAL_FIELDS, Person
from people.selectors import people_visible_to
from people.services import person_create, person_shred
from tests.audit.reads import access_reads
from tests.funds.helpers import funded_case, terms
from tests.web.helpers import signed_in_client

NAME = "Canary Disclosure Magomedov"
PAYEE = "Canary Payee Account 4242"

# Models whose encrypted fields are never shown to anyone, so the layer does not govern them.
INTERNAL = {"accounts.sealedtotpdevice": "second-factor secrets: opened to check a code only"}


def _access() -> list:
    """Each record read (tests/audit/reads.py): a response writes one entry naming them all."""
    return access_reads()


def test_every_model_with_an_encrypted_field_is_governed_or_deliberately_internal():
    ungoverned = [
        model._meta.label_lower
        for model in apps.get_models()
        if any(hasattr(field, "plain_key") for field in model._meta.concrete_fields)
        and not governed_fields(model)
        and model._meta.label_lower not in INTERNAL
    ]

    assert not ungoverned, f"give these a disclosure module (audit.disclosure.govern): {ungoverned}"


# -- what a viewer sees --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_person_is_shown_in_clear_and_every_personal_field_is_collected(make_staff):
    coordinator = make_staff(Role.COORDINATOR).user
    person = person_create(created_by=coordinator, full_name=NAME, phone="+79001234567")
    disclosure = Disclosure(viewer=coordinator)

    shown = person_disclosed(
        people_visible_to(coordinator).get(pk=person.pk), disclosure=disclosure
    )

    assert shown["full_name"] == NAME
    assert shown["phone"] == "+79001234567"
    assert shown["erased"] is False
    [(record, fields)] = disclosure.pending
    assert record.pk == person.pk
    assert fields == frozenset(PERSONAL_FIELDS)


@pytest.mark.django_db
def test_an_erased_person_shows_nothing_opens_nothing_and_collects_nothing(make_staff):
    coordinator = make_staff(Role.COORDINATOR).user
    person = person_create(created_by=coordinator, full_name=NAME)
    person_shred(person=person, actor=coordinator)
    disclosure = Disclosure(viewer=coordinator)

    with watching() as opened:
        shown = person_disclosed(Person.objects.get(pk=person.pk), disclosure=disclosure)

    assert shown["erased"] is True
    assert all(shown[name] is None for name in PERSONAL_FIELDS)
    assert not opened
    assert not disclosure.pending


@pytest.mark.django_db
def test_an_erased_case_shows_no_secrets_no_household_and_collects_nothing(make_staff):
    caseworker = make_staff(Role.CASEWORKER).user
    coordinator = make_staff(Role.COORDINATOR).user
    case, _ = funded_case(caseworker, coordinator, "erased")
    note_create(case=case, author=caseworker, body="Hiding at the cousin's flat")
    case_shred(case=case, actor=coordinator)
    disclosure = Disclosure(viewer=coordinator)
    fresh = cases_visible_to(coordinator).for_display().get(pk=case.pk)

    with watching() as opened:
        shown = case_disclosed(fresh, disclosure=disclosure, with_person_name=True)
        notes = [note_disclosed(note, disclosure=disclosure) for note in fresh.notes.all()]

    assert all(shown[name] is None for name in CASE_SECRETS)
    assert shown["primary_person"] is None
    assert shown["members"] == []
    assert shown["primary_person_name"] is None
    assert [note["body"] for note in notes] == [None]
    assert not opened
    assert not disclosure.pending


@pytest.mark.django_db
def test_a_case_shows_its_secrets_and_the_name_that_tells_it_apart(make_staff):
    caseworker = make_staff(Role.CASEWORKER).user
    coordinator = make_staff(Role.COORDINATOR).user
    case, _ = funded_case(caseworker, coordinator, "shown")
    disclosure = Disclosure(viewer=caseworker)
    fresh = cases_visible_to(caseworker).for_display().get(pk=case.pk)

    shown = case_disclosed(fresh, disclosure=disclosure, with_person_name=True)

    assert shown["primary_person_name"] == "Person shown"
    assert {(type(r).__name__, fields) for r, fields in disclosure.pending} == {
        ("Case", frozenset(CASE_SECRETS)),
        ("Person", frozenset({"full_name", "preferred_name"})),
    }


@pytest.fixture
def payment(make_staff):
    """A paid-for request on a case of `caseworker`'s, approved with a comment."""
    caseworker = make_staff(Role.CASEWORKER).user
    coordinator = make_staff(Role.COORDINATOR).user
    case, allocation = funded_case(caseworker, coordinator, "money")
    item = disbursement_request(allocation=allocation, requested_by=caseworker, terms=terms(PAYEE))
    disbursement_approve(disbursement=item, approver=coordinator, comment="Checked the route")
    return {"caseworker": caseworker, "coordinator": coordinator, "case": case, "item": item}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["coordinator", "caseworker"])
def test_who_may_read_a_payee_sees_it_in_clear_and_it_is_collected(payment, role):
    viewer = payment[role]
    disclosure = Disclosure(viewer=viewer)
    item = disbursements_visible_to(viewer).get(pk=payment["item"].pk)

    shown = disbursement_disclosed(item, disclosure=disclosure)

    assert shown["payee"] == PAYEE
    assert shown["approvals"][0]["comment"] == "Checked the route"
    assert {(type(r).__name__, fields) for r, fields in disclosure.pending} == {
        ("Disbursement", frozenset({"payee"})),
        ("Approval", frozenset({"comment"})),
    }


@pytest.mark.django_db
def test_an_auditor_sees_a_payee_masked_and_it_is_never_opened(payment, make_staff):
    auditor = make_staff(Role.AUDITOR).user
    disclosure = Disclosure(viewer=auditor)
    item = disbursements_visible_to(auditor).get(pk=payment["item"].pk)

    with watching() as opened:
        shown = disbursement_disclosed(item, disclosure=disclosure)

    assert shown["payee"] == MASKED
    assert shown["approvals"][0]["comment"] == MASKED
    assert shown["receipt_reference"] is None  # nothing there: nothing to mask
    assert not opened
    assert not disclosure.pending


@pytest.mark.django_db
def test_on_an_erased_case_payment_details_are_absent_for_everyone(payment, make_staff):
    coordinator = payment["coordinator"]
    case_shred(case=payment["case"], actor=coordinator)
    for viewer in (coordinator, make_staff(Role.AUDITOR).user):
        disclosure = Disclosure(viewer=viewer)
        item = disbursements_visible_to(viewer).get(pk=payment["item"].pk)

        with watching() as opened:
            shown = disbursement_disclosed(item, disclosure=disclosure)

        assert all(shown[name] is None for name in SEALED)
        assert [approval["comment"] for approval in shown["approvals"]] == [None]
        assert not opened
        assert not disclosure.pending


# -- what each response writes ---------------------------------------------------------------


@pytest.fixture
def shown_person(make_staff):
    coordinator = make_staff(Role.COORDINATOR)
    person = person_create(created_by=coordinator.user, full_name=NAME)
    return coordinator, person


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
@pytest.mark.parametrize("view", ["layer", "own"])
def test_a_page_writes_one_access_entry_per_record_it_showed(shown_person, view):
    coordinator, person = shown_person

    response = signed_in_client(coordinator).get(f"/t/{view}/{person.pk}/")

    assert response.status_code == 200
    assert response.json() == {"full_name": NAME}
    [entry] = _access()
    assert entry.object_pk == str(person.pk)
    assert entry.actor == coordinator.user
    assert entry.additional_data == {"fields": sorted(PERSONAL_FIELDS)}


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
def test_a_page_shown_again_with_form_errors_still_writes_its_entry(shown_person):
    coordinator, person = shown_person

    response = signed_in_client(coordinator).get(f"/t/form-error/{person.pk}/")

    assert response.status_code == 400
    assert NAME in response.content.decode()
    assert [entry.object_pk for entry in _access()] == [str(person.pk)]


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
def test_a_response_that_ends_in_an_error_carries_and_writes_nothing(shown_person):
    coordinator, person = shown_person

    response = signed_in_client(coordinator).get(f"/t/refused/{person.pk}/")

    assert response.status_code == 404
    assert NAME not in response.content.decode()
    assert _access() == []


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
def test_a_view_that_reads_personal_data_past_the_layer_fails_loudly(shown_person):
    coordinator, person = shown_person

    with pytest.raises(UndisclosedRead, match=r"people\.person\.full_name"):
        signed_in_client(coordinator).get(f"/t/forgetful/{person.pk}/")
    response = signed_in_client(coordinator, raise_request_exception=False).get(
        f"/t/forgetful/{person.pk}/"
    )

    assert response.status_code == 500
    assert NAME not in response.content.decode()
    assert _access() == []


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
def test_an_api_view_that_reads_personal_data_past_the_layer_fails_loudly(shown_person, client_for):
    coordinator, person = shown_person
    api = client_for(coordinator)
    api.raise_request_exception = False

    response = api.get(f"/t/api-forgetful/{person.pk}/")

    assert response.status_code == 500
    assert NAME not in response.content.decode()
    assert _access() == []


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
def test_a_value_opened_unshown_for_a_check_is_caught_when_a_view_later_sends_it(shown_person):
    coordinator, person = shown_person

    response = signed_in_client(coordinator, raise_request_exception=False).get(
        f"/t/leaked/{person.pk}/"
    )

    assert response.status_code == 500
    assert NAME not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
def test_a_service_that_checks_a_name_and_a_redirect_that_shows_nothing_pass(shown_person):
    coordinator, person = shown_person

    response = signed_in_client(coordinator).post(f"/t/corrected/{person.pk}/")

    assert response.status_code == 302
    assert _access() == []


@pytest.fixture
def entries_cannot_be_written(monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(layer, "record_reads", refuse)


@pytest.mark.django_db
@pytest.mark.urls("tests.audit.disclosure_urls")
def test_a_page_whose_entries_cannot_be_written_sends_no_data(
    shown_person, entries_cannot_be_written
):
    coordinator, person = shown_person

    response = signed_in_client(coordinator, raise_request_exception=False).get(
        f"/t/layer/{person.pk}/"
    )

    assert response.status_code == 500
    assert NAME not in response.content.decode()


@pytest.mark.django_db
def test_an_api_response_whose_entries_cannot_be_written_sends_no_data(
    shown_person, entries_cannot_be_written, client_for
):
    coordinator, person = shown_person
    api = client_for(coordinator)
    api.raise_request_exception = False

    response = api.get(f"/api/v1/people/{person.pk}/")

    assert response.status_code == 500
    assert NAME not in response.content.decode()
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_an_api_list_writes_one_entry_per_record_and_a_refusal_writes_none(make_staff, client_for):
    coordinator = make_staff(Role.COORDINATOR)
    people = [person_create(created_by=coordinator.user, full_name=f"P{i}") for i in range(3)]
    api = client_for(coordinator)

    listed = api.get("/api/v1/people/?page_size=2")
    missing = api.get("/api/v1/people/00000000-0000-4000-8000-000000000000/")

    assert listed.status_code == 200
    assert missing.status_code == 404
    shown = [row["id"] for row in listed.json()["results"]]
    assert len(shown) == 2
    assert set(shown) <= {str(p.pk) for p in people}
    assert [entry.object_pk for entry in _access()] == shown
