"""The case pages from a caseworker's and a coordinator's side: intake (record the caller, the
duplicate check's outcome in plain words, open the case), the case page's writes (household,
needs, notes, transitions), the coordinator's assignment and erasure behind the reference and
a fresh code. Each write goes through the same service as the API, so the records it leaves
are the API's."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from audit.models import Action, LogEntry
from cases.models import Case, CaseAssignment, Need, Note, TimelineEntry
from people.models import Person
from tests.erasure import erase_body
from tests.web.helpers import signed_in_client, text_of

pytestmark = pytest.mark.django_db

INTAKE = "/intake/"


def person_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "person-full_name": "Ruslan Test-Caller",
        "person-preferred_name": "Rus",
        "person-phone": "+7 928 555-12-34",
        "person-document_type": "",
        "person-document_number": "",
        "person-date_of_birth": "1994-03-02",
        "person-nationality": "",
        "person-messenger": "",
    }
    fields.update({f"person-{name}": value for name, value in overrides.items()})
    return fields


def case_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "case-risk_level": "high",
        "case-protection_concerns": ["in_hiding", "threatened_by_family"],
        "case-summary": "Threatened after being outed.",
        "case-location": "A friend's flat",
        "case-safe_contact": "Signal, ask for the tailor",
        "case-consent_to_store": "on",
        "case-consent_given_on": "2026-11-20",
    }
    fields.update({f"case-{name}": value for name, value in overrides.items()})
    return fields


def open_through_intake(web, **person) -> Case:
    response = web.post(INTAKE, {"step": "open", **person_fields(**person), **case_fields()})
    assert response.status_code == 302, text_of(response)
    case = Case.objects.get(pk=re.search(r"/cases/([0-9a-f-]{36})/", response["Location"])[1])
    return case


def test_intake_checks_for_duplicates_in_plain_words_then_opens_the_case(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)

    first = web.post(INTAKE, {"step": "check", **person_fields()})
    assert first.status_code == 200
    assert "No existing record matches" in text_of(first)
    case = open_through_intake(web)

    again = web.post(INTAKE, {"step": "check", **person_fields()})
    assert "1 possible match you can open." in text_of(again)
    assert f"/people/{case.primary_person_id}/" in again.content.decode()

    other = signed_in_client(make_staff(Role.CASEWORKER))
    outside = other.post(INTAKE, {"step": "check", **person_fields()})
    assert "A record outside your cases matches: ask a coordinator" in text_of(outside)
    assert "Ruslan" not in text_of(outside)
    assert case.risk_level == "high"
    assert case.protection_concerns == ["in_hiding", "threatened_by_family"]
    assert case.consent_to_store
    assert not case.consent_to_share
    assert CaseAssignment.objects.filter(case=case, user=caseworker.user).exists()
    checks = LogEntry.objects.filter(action=Action.DUPLICATE_CHECK)
    assert checks.count() == 3


def test_intake_refuses_what_the_api_refuses_and_records_nothing(make_staff):
    web = signed_in_client(make_staff(Role.CASEWORKER))

    no_name = web.post(
        INTAKE, {"step": "open", **person_fields(full_name="", preferred_name=""), **case_fields()}
    )
    bad_phone = web.post(
        INTAKE, {"step": "open", **person_fields(phone="call me"), **case_fields()}
    )
    no_risk = web.post(INTAKE, {"step": "open", **person_fields(), **case_fields(risk_level="")})

    assert [no_name.status_code, bad_phone.status_code, no_risk.status_code] == [400, 400, 400]
    assert "Give a full name or a preferred name" in text_of(no_name)
    assert "Enter a phone number" in text_of(bad_phone)
    assert Person.objects.count() == 0
    assert Case.objects.count() == 0


def test_a_caseworker_works_a_case_from_its_page(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = open_through_intake(web)
    url = f"/cases/{case.pk}/"

    member = web.post(
        f"{url}household/",
        {"member-relationship": "partner", "member-full_name": "Partner Person",
         "member-reason": "lives with him"},
    )  # fmt: skip
    need = web.post(
        f"{url}needs/",
        {"need-category": "travel", "need-description": "bus tickets", "need-urgency": "critical",
         "need-estimated_cost": "120.50", "need-currency": "eur"},
    )  # fmt: skip
    note = web.post(f"{url}notes/", {"note-body": "called back at 9"})
    moved = web.post(
        f"{url}transition/", {"move-to": "verification", "move-reason": "documents seen"}
    )
    page = web.get(url)

    assert [r.status_code for r in (member, need, note, moved)] == [302] * 4
    assert page.status_code == 200
    shown = text_of(page)
    for expected in ("Partner Person", "bus tickets", "called back at 9", "documents seen",
                     "Verification", "120.50 EUR"):  # fmt: skip
        assert expected in shown
    stored_need = Need.objects.get(case=case)
    assert (stored_need.urgency, stored_need.currency) == ("critical", "EUR")
    update = web.post(
        f"{url}needs/{stored_need.pk}/",
        {f"need-{stored_need.pk}-status": "met", f"need-{stored_need.pk}-urgency": "low"},
    )
    assert update.status_code == 302
    assert Need.objects.get(pk=stored_need.pk).status == "met"
    partner = case.memberships.get(relationship="partner").person_id
    removed = web.post(f"{url}household/{partner}/remove/", {"remove-reason": "moved out"})
    assert removed.status_code == 302
    assert not case.memberships.current().filter(person_id=partner).exists()
    assert Note.objects.filter(case=case).count() == 1
    assert TimelineEntry.objects.filter(case=case, kind="status").get().reason == "documents seen"


def test_the_case_page_offers_only_the_moves_the_workflow_allows(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = open_through_intake(web)
    web.post(f"/cases/{case.pk}/transition/", {"move-to": "verification", "move-reason": "seen"})

    page = web.get(f"/cases/{case.pk}/").content.decode()
    approve = web.post(f"/cases/{case.pk}/transition/", {"move-to": "approved", "move-reason": "x"})

    assert 'value="intake"' in page
    assert 'value="withdrawn"' in page
    assert 'value="approved"' not in page  # only coordinators approve
    assert approve.status_code == 409
    assert Case.objects.get(pk=case.pk).status == "verification"


def test_a_coordinator_assigns_approves_and_closes(make_staff):
    caseworker, second = make_staff(Role.CASEWORKER), make_staff(Role.CASEWORKER)
    coordinator = make_staff(Role.COORDINATOR)
    case = open_through_intake(signed_in_client(caseworker))
    lead = signed_in_client(coordinator)
    url = f"/cases/{case.pk}/"

    listed = lead.get("/cases/")
    assigned = lead.post(f"{url}assign/", {"assign-caseworkers": [second.user.username]})
    for to in ("verification", "approved"):
        assert (
            lead.post(f"{url}transition/", {"move-to": to, "move-reason": "ok"}).status_code == 302
        )
    page = lead.get(url)

    assert case.reference in text_of(listed)
    assert assigned.status_code == 302
    assert set(
        CaseAssignment.objects.filter(case=case).values_list("user__username", flat=True)
    ) == {second.user.username}
    assert Case.objects.get(pk=case.pk).status == "approved"
    assert "Reject the case" not in text_of(page)  # not from approved
    assert signed_in_client(caseworker).get(url).status_code == 404  # unassigned: out of scope


def test_caseworkers_cannot_assign_or_erase(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = open_through_intake(web)

    assign = web.post(f"/cases/{case.pk}/assign/", {"assign-caseworkers": []})
    erase = web.post(
        f"/cases/{case.pk}/erase/",
        {"erase-reference": case.reference, **{"erase-otp": erase_body(caseworker)["otp"]}},
    )

    assert (assign.status_code, erase.status_code) == (403, 403)
    assert not Case.objects.get(pk=case.pk).erased


def test_erasure_needs_the_reference_in_full_and_a_fresh_code(make_staff):
    coordinator = make_staff(Role.COORDINATOR)
    case = open_through_intake(signed_in_client(make_staff(Role.CASEWORKER)))
    lead = signed_in_client(coordinator)
    url = f"/cases/{case.pk}/erase/"

    partial = lead.post(
        url, {"erase-reference": case.reference[:-1], "erase-otp": coordinator.totp()}
    )
    wrong_code = lead.post(url, {"erase-reference": case.reference, "erase-otp": "000000"})
    assert (partial.status_code, wrong_code.status_code) == (400, 403)
    assert "This is not the reference of this case." in text_of(partial)
    assert not Case.objects.get(pk=case.pk).erased

    done = lead.post(
        url,
        {"erase-reference": case.reference.lower(), "erase-otp": erase_body(coordinator)["otp"]},
    )
    after = lead.get(f"/cases/{case.pk}/")

    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).erased
    assert "This case was erased" in text_of(after)
    assert "Threatened after being outed" not in text_of(after)


def test_a_coordinator_erases_one_person_of_a_household(make_staff):
    coordinator = make_staff(Role.COORDINATOR)
    web = signed_in_client(make_staff(Role.CASEWORKER))
    case = open_through_intake(web)
    web.post(
        f"/cases/{case.pk}/household/",
        {"member-relationship": "child", "member-full_name": "Child Person"},
    )
    child = case.memberships.get(relationship="child").person_id
    lead = signed_in_client(coordinator)

    erased = lead.post(
        f"/cases/{case.pk}/household/{child}/erase/",
        {
            "erase-person-reference": case.reference,
            "erase-person-otp": erase_body(coordinator)["otp"],
        },
    )

    assert erased.status_code == 302
    assert Person.objects.get(pk=child).erased
    assert not Case.objects.get(pk=case.pk).erased


def test_the_list_puts_the_most_urgent_first_and_counts_open_needs(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    low = open_through_intake(web, full_name="Low Person", phone="+7 928 000-00-01")
    web.post(f"/cases/{low.pk}/transition/", {"move-to": "verification", "move-reason": "later"})
    critical = open_through_intake(web, full_name="Critical Person", phone="+7 928 000-00-02")
    Case.objects.filter(pk=low.pk).update(risk_level="low")
    Case.objects.filter(pk=critical.pk).update(risk_level="critical")
    for _ in range(2):
        web.post(f"/cases/{critical.pk}/needs/", {"need-category": "food", "need-urgency": "high"})

    listed = text_of(web.get("/cases/"))
    only_low = text_of(web.get("/cases/?risk_level=low"))
    refused = web.get("/cases/?risk_level=urgent")

    assert listed.index("Critical Person") < listed.index("Low Person")
    assert re.search(rf"{critical.reference} Critical Person Critical Intake 2 ", listed)
    assert "Critical Person" not in only_low
    assert "Low Person" in only_low
    assert refused.status_code == 400


def test_a_coordinator_finds_the_cases_nobody_works_on(make_staff):
    coordinator = make_staff(Role.COORDINATOR)
    lead = signed_in_client(coordinator)
    nobodys = open_through_intake(lead, full_name="Nobody's Caller", phone="+7 928 000-00-03")
    worked = open_through_intake(
        signed_in_client(make_staff(Role.CASEWORKER)), full_name="Worked Caller",
        phone="+7 928 000-00-04",
    )  # fmt: skip

    unassigned = text_of(lead.get("/cases/?assigned_to=none"))
    caseworker_filter = signed_in_client(make_staff(Role.CASEWORKER)).get(
        "/cases/?assigned_to=none"
    )

    assert nobodys.reference in unassigned
    assert worked.reference not in unassigned
    assert caseworker_filter.status_code == 400  # only coordinators filter on others' cases
