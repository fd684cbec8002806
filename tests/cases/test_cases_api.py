"""`/api/v1/cases/` and its needs and notes: what is accepted, what is refused, and how.

Opening a case (validation, references, the opener's assignment), the list filters, corrections
(PATCH refuses what has an endpoint of its own), needs (costs and currencies) and notes
(append-only).
"""

from __future__ import annotations

import random
import re
import secrets
import types
import uuid
from decimal import Decimal

import pytest

import cases.models
from accounts.roles import Role
from cases.models import REFERENCE_ALPHABET, Case, Need, Note, new_reference
from tests.cases.helpers import (
    CASES_URL,
    REFERENCE_PATTERN,
    a_case,
    case_url,
    error_fields,
    open_case,
    record_person,
)
from tests.erasure import erase_body
from tests.people.helpers import person_url

pytestmark = pytest.mark.django_db


# --- opening a case --------------------------------------------------------------------------


def test_opening_a_case_assigns_the_caseworker_and_answers_every_field(caseworker, client):
    primary, partner = record_person(client), record_person(client, full_name="Partner")

    response = client.post(
        CASES_URL, {**a_case(primary), "members": [{"person": partner, "relationship": "partner"}]}
    )

    assert response.status_code == 201, response.json()
    case = response.json()
    assert re.match(REFERENCE_PATTERN, case["reference"])
    assert case["status"] == "intake"
    assert case["risk_level"] == "high"
    assert case["assigned_to"] == [caseworker.user.username]
    assert case["primary_person"] == primary
    assert sorted((m["person"], m["relationship"]) for m in case["members"]) == sorted(
        [(primary, "primary"), (partner, "partner")]
    )
    assert case["protection_concerns"] == ["in_hiding", "threatened_by_family"]
    assert case["summary"].startswith("Threatened by an uncle")
    assert case["location"] == "A friend's flat, Nazran"
    assert case["safe_contact"] == "Signal, ask for 'the tailor'"
    assert (case["consent_to_store"], case["consent_to_share"]) == (True, False)
    assert case["consent_given_on"] == "2026-11-20"
    assert case["erased"] is False
    assert client.get(case_url(case["id"])).json() == case


def test_a_coordinator_who_opens_a_case_is_not_assigned_to_it(lead):
    case = open_case(lead)

    assert case["assigned_to"] == []


def test_consent_defaults_to_not_given(client):
    body = a_case(record_person(client))
    for name in ("consent_to_store", "consent_to_share", "consent_given_on"):
        body.pop(name)

    case = client.post(CASES_URL, body).json()

    assert (case["consent_to_store"], case["consent_to_share"]) == (False, False)
    assert case["consent_given_on"] is None


@pytest.mark.parametrize("where", ["primary_person", "member"])
def test_a_person_outside_scope_is_refused_exactly_like_one_that_does_not_exist(
    where, client, make_staff, client_for
):
    other = client_for(make_staff(Role.CASEWORKER))
    orphan_of_other = record_person(other)
    on_others_case = open_case(other)["primary_person"]
    mine = record_person(client)

    def attempt(person_id: str) -> dict:
        body = a_case(person_id if where == "primary_person" else mine)
        if where == "member":
            body["members"] = [{"person": person_id, "relationship": "sibling"}]
        response = client.post(CASES_URL, body)
        assert response.status_code == 400
        return response.json()

    missing = attempt(str(uuid.uuid4()))

    assert attempt(orphan_of_other) == missing
    assert attempt(on_others_case) == missing
    assert "No such person." in str(missing["fields"])
    assert Case.objects.count() == 1  # only the other caseworker's


def test_an_erased_person_cannot_be_put_on_a_new_case(client, lead):
    person = record_person(client)
    assert lead.post(person_url(person, "erase/"), erase_body(lead)).status_code == 200

    response = client.post(CASES_URL, a_case(person))

    assert response.status_code == 400
    assert "primary_person" in error_fields(response)


def test_a_person_listed_twice_among_the_members_is_refused(client):
    primary, child = record_person(client), record_person(client, full_name="Child")
    members = [
        {"person": child, "relationship": "child"},
        {"person": child, "relationship": "sibling"},
    ]

    response = client.post(CASES_URL, {**a_case(primary), "members": members})

    assert response.status_code == 400
    assert "members" in error_fields(response)
    assert not Case.objects.exists()


@pytest.mark.parametrize("when", ["opening", "correcting"])
def test_the_primary_person_listed_again_as_a_member_is_refused(when, client):
    primary = record_person(client)
    members = [{"person": primary, "relationship": "partner"}]

    if when == "opening":
        response = client.post(CASES_URL, {**a_case(primary), "members": members})
        assert not Case.objects.exists()
        field = "members"
    else:
        case = open_case(client, primary=primary)
        response = client.post(case_url(case["id"], "members/"), members[0])
        assert client.get(case_url(case["id"])).json() == case
        field = None

    # Accepting it would silently drop the relationship the client sent.
    assert response.status_code == (400 if field else 409), response.json()
    if field:
        assert field in error_fields(response)


def test_primary_is_not_a_relationship_a_member_can_have(client):
    primary, other = record_person(client), record_person(client, full_name="Other")

    response = client.post(
        CASES_URL, {**a_case(primary), "members": [{"person": other, "relationship": "primary"}]}
    )

    assert response.status_code == 400
    assert "members" in error_fields(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("risk_level", "extreme"),
        ("risk_level", None),
        ("risk_level", 1),
        ("summary", 42),
        ("location", True),
        ("safe_contact", ["Signal"]),
        ("summary", "x" * 20001),
        ("protection_concerns", ["kidnapped_by_aliens"]),
        ("protection_concerns", "detained"),
        ("protection_concerns", ["detained", "detained"]),
        ("consent_to_store", "maybe"),
        ("consent_to_share", None),
        ("consent_given_on", "2026-13-01"),
        ("consent_given_on", 20261120),
        ("members", "everyone"),
        ("members", [{"person": "not-a-uuid", "relationship": "child"}]),
        ("primary_person", None),
        ("primary_person", 7),
    ],
)
def test_a_case_with_a_bad_field_is_refused(field, value, client):
    body = a_case(record_person(client))
    body[field] = value

    response = client.post(CASES_URL, body)

    assert response.status_code == 400
    assert field in error_fields(response)
    assert not Case.objects.exists()


@pytest.mark.parametrize("field", ["risk_level", "primary_person"])
def test_a_case_without_a_required_field_is_refused(field, client):
    body = a_case(record_person(client))
    body.pop(field)

    response = client.post(CASES_URL, body)

    assert response.status_code == 400
    assert field in error_fields(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "approved"),
        ("assigned_to", ["someone"]),
        ("reference", "EV-AAAAAA"),
        ("id", str(uuid.uuid4())),
        ("erased", False),
        ("created_by", "someone"),
    ],
)
def test_opening_a_case_refuses_fields_the_client_does_not_set(field, value, client):
    response = client.post(CASES_URL, {**a_case(record_person(client)), field: value})

    assert response.status_code == 400
    assert field in error_fields(response)
    assert not Case.objects.exists()


# --- references ------------------------------------------------------------------------------


def test_references_are_distinct_well_formed_and_use_the_whole_alphabet():
    references = [new_reference() for _ in range(200)]

    assert len(set(references)) == 200
    assert all(re.match(REFERENCE_PATTERN, reference) for reference in references)
    assert set("".join(ref[3:] for ref in references)) == set(REFERENCE_ALPHABET)


def test_references_do_not_come_from_the_seedable_random_module():
    state = random.getstate()
    try:
        random.seed(1234)
        first = [new_reference() for _ in range(5)]
        random.seed(1234)
        second = [new_reference() for _ in range(5)]
    finally:
        random.setstate(state)

    assert first != second


def test_opened_cases_get_random_references_that_say_nothing_about_the_person(client):
    person = record_person(client, full_name="Zaur Kadyrov", preferred_name="Zaur")
    references = [open_case(client, primary=None)["reference"] for _ in range(12)]
    references.append(open_case(client, primary=person)["reference"])

    assert len(set(references)) == len(references)
    assert all(re.match(REFERENCE_PATTERN, reference) for reference in references)
    assert references != sorted(references)  # not issued in order (1 in 13! by chance)
    assert "ZAUR" not in references[-1]


def test_a_reference_collision_is_retried_not_answered_with_a_server_error(client, monkeypatch):
    taken = open_case(client)["reference"][3:]
    # The next reference drawn collides with the existing one; later draws are random again.
    forced = iter(taken)

    def choice(alphabet: str) -> str:
        return next(forced, None) or secrets.choice(alphabet)

    monkeypatch.setattr(cases.models, "secrets", types.SimpleNamespace(choice=choice))

    response = client.post(CASES_URL, a_case(record_person(client)))

    assert response.status_code == 201
    assert response.json()["reference"] != f"EV-{taken}"
    assert Case.objects.count() == 2


# --- the list and its filters ----------------------------------------------------------------


@pytest.fixture
def three_cases(client, make_staff, client_for):
    """A caseworker's high and low cases, another caseworker's critical one; the low one
    moved on last."""
    other = client_for(make_staff(Role.CASEWORKER))
    high = open_case(client, risk_level="high")
    low = open_case(client, risk_level="low")
    critical = open_case(other, risk_level="critical")
    moved = client.post(case_url(low["id"], "transition/"), {"to": "verification", "reason": ""})
    assert moved.status_code == 200
    return {"high": high, "low": low, "critical": critical}


def listed(client, **params) -> set[str]:
    response = client.get(CASES_URL, params)
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_the_list_filters_by_status(three_cases, lead):
    assert listed(lead, status="verification") == {three_cases["low"]["id"]}
    assert listed(lead, status="intake") == {
        three_cases["high"]["id"],
        three_cases["critical"]["id"],
    }


def test_the_list_filters_by_risk_level(three_cases, lead):
    assert listed(lead, risk_level="critical") == {three_cases["critical"]["id"]}


def test_the_list_filters_by_reference_whatever_its_case_or_spacing(three_cases, lead):
    reference = three_cases["high"]["reference"]

    assert listed(lead, reference=reference) == {three_cases["high"]["id"]}
    assert listed(lead, reference=f"  {reference.lower()} ") == {three_cases["high"]["id"]}
    assert listed(lead, reference="EV-222222") == set()


def test_filtering_by_the_reference_of_someone_elses_case_finds_nothing(three_cases, client):
    assert listed(client, reference=three_cases["critical"]["reference"]) == set()


def test_the_list_filters_by_updated_since(three_cases, lead):
    since = three_cases["critical"]["updated_at"]

    assert listed(lead, updated_since=since) == {
        three_cases["critical"]["id"],
        three_cases["low"]["id"],  # its transition came later
    }
    assert listed(lead, updated_since="2999-01-01T00:00:00Z") == set()


def test_assigned_to_me_narrows_the_list_to_the_callers_cases(
    three_cases, make_staff, client_for, lead
):
    both = client_for(make_staff(Role.COORDINATOR, Role.CASEWORKER))
    own = open_case(both)

    assert len(listed(both)) == 4
    assert listed(both, assigned_to="me") == {own["id"]}
    assert listed(lead, assigned_to="me") == set()


def test_filters_combine(three_cases, lead):
    assert listed(lead, status="intake", risk_level="high") == {three_cases["high"]["id"]}
    assert listed(lead, status="verification", risk_level="high") == set()


def test_a_caseworker_lists_only_assigned_cases(three_cases, client):
    assert listed(client) == {three_cases["high"]["id"], three_cases["low"]["id"]}


def test_the_list_names_the_primary_person(client):
    open_case(client, primary=record_person(client, full_name="Аслан Мусаев"))

    row = client.get(CASES_URL).json()["results"][0]

    assert row["primary_person_name"] == "Аслан Мусаев"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "open"),
        ("risk_level", "urgent"),
        ("assigned_to", "someone-else"),
        ("updated_since", "yesterday"),
        ("updated_since", "2026-02-30T09:00:00Z"),
        ("updated_since", "2026-11-24T25:00:00Z"),
    ],
)
def test_a_bad_filter_value_is_a_client_error(name, value, client):
    response = client.get(CASES_URL, {name: value})

    assert response.status_code == 400
    assert name in error_fields(response)


def test_updated_since_without_a_time_zone_is_not_a_server_error(three_cases, lead):
    since = three_cases["critical"]["updated_at"]  # "...Z"

    response = lead.get(CASES_URL, {"updated_since": since.removesuffix("Z")})

    assert response.status_code in (200, 400)
    if response.status_code == 200:  # read as UTC, the only zone the API speaks
        assert {row["id"] for row in response.json()["results"]} == listed(
            lead, updated_since=since
        )


# --- corrections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "closed"),
        ("assigned_to", ["someone"]),
        ("reference", "EV-AAAAAA"),
        ("id", str(uuid.uuid4())),
        ("erased", True),
        ("created_at", "2020-01-01T00:00:00Z"),
    ],
)
def test_patch_refuses_fields_with_their_own_endpoint_and_changes_nothing(field, value, client):
    case = open_case(client)

    response = client.patch(case_url(case["id"]), {field: value, "summary": "changed"})

    assert response.status_code == 400
    assert field in error_fields(response)
    assert client.get(case_url(case["id"])).json() == case


def test_patch_corrects_fields_and_records_a_risk_change_on_the_timeline(client):
    case = open_case(client, risk_level="medium")

    response = client.patch(
        case_url(case["id"]),
        {"risk_level": "critical", "location": "Moved to Vladikavkaz", "consent_to_share": True},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["location"] == "Moved to Vladikavkaz"
    assert response.json()["consent_to_share"] is True
    assert response.json()["summary"] == case["summary"]
    timeline = client.get(case_url(case["id"], "timeline/")).json()["results"]
    assert [(e["kind"], e["from_value"], e["to_value"]) for e in timeline] == [
        ("risk", "medium", "critical")
    ]


def test_patch_refuses_to_replace_the_household_and_changes_nothing(client):
    # It used to replace the whole household: a partner left out of the list vanished.
    child, partner = (record_person(client, full_name=n) for n in ("C", "P"))
    case = open_case(client, members=[(child, "child"), (partner, "partner")])
    url = case_url(case["id"])

    response = client.patch(url, {"members": [{"person": child, "relationship": "child"}]})

    assert response.status_code == 400
    assert "members" in error_fields(response)
    assert client.get(url).json() == case


def test_patch_can_make_a_member_the_primary_person(client):
    partner = record_person(client, full_name="Partner")
    case = open_case(client, members=[(partner, "partner")])

    response = client.patch(case_url(case["id"]), {"primary_person": partner})

    assert response.status_code == 200, response.json()
    assert response.json()["primary_person"] == partner
    primaries = [m["person"] for m in response.json()["members"] if m["relationship"] == "primary"]
    assert primaries == [partner]


def test_people_outside_scope_are_unknown_to_the_household(client, make_staff, client_for):
    theirs = record_person(client_for(make_staff(Role.CASEWORKER)))
    case = open_case(client)
    url = case_url(case["id"])

    outside = client.post(f"{url}members/", {"person": theirs, "relationship": "child"})
    elsewhere = client.patch(url, {"primary_person": theirs})

    assert outside.status_code == elsewhere.status_code == 400
    assert "No such person." in str(outside.json())
    assert "No such person." in str(elsewhere.json())
    assert client.get(url).json() == case


@pytest.mark.parametrize("method", ["put", "delete"])
def test_cases_are_neither_replaced_nor_deleted(method, client):
    case = open_case(client)

    response = getattr(client, method)(case_url(case["id"]), a_case(case["primary_person"]))

    assert response.status_code == 405
    assert Case.objects.filter(pk=case["id"]).exists()


# --- needs -----------------------------------------------------------------------------------


DROP = object()  # in a need's overrides: leave the field out of the body


def a_need(**overrides):
    body = {
        "category": "travel",
        "description": "Bus to Vladikavkaz, then train",
        "urgency": "high",
        "estimated_cost": "1500.00",
        "currency": "RUB",
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not DROP}


def test_a_need_is_recorded_with_its_cost_as_a_decimal_string(client):
    case = open_case(client)

    response = client.post(case_url(case["id"], "needs/"), a_need())

    assert response.status_code == 201, response.json()
    need = response.json()
    assert need["estimated_cost"] == "1500.00"
    assert (need["category"], need["urgency"], need["status"]) == ("travel", "high", "open")
    assert need["description"] == "Bus to Vladikavkaz, then train"
    listed_needs = client.get(case_url(case["id"], "needs/")).json()["results"]
    assert [n["id"] for n in listed_needs] == [need["id"]]


@pytest.mark.parametrize(
    ("cost", "currency", "shown"),
    [("1500", "JPY", "1500"), ("10.125", "KWD", "10.125"), ("7.5", "EUR", "7.50")],
)
def test_a_need_cost_is_shown_with_its_currency_precision(client, cost, currency, shown):
    case = open_case(client)

    response = client.post(
        case_url(case["id"], "needs/"), a_need(estimated_cost=cost, currency=currency)
    )

    assert response.status_code == 201, response.json()
    assert response.json()["estimated_cost"] == shown
    assert Need.objects.get().estimated_cost == Decimal(cost)


def test_a_need_without_cost_or_urgency_takes_the_defaults(client):
    case = open_case(client)

    need = client.post(case_url(case["id"], "needs/"), {"category": "food"}).json()

    assert (need["urgency"], need["status"], need["estimated_cost"]) == ("medium", "open", None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"estimated_cost": "-1.00"}, "estimated_cost"),
        ({"estimated_cost": "10.001"}, "estimated_cost"),
        ({"estimated_cost": "NaN"}, "estimated_cost"),
        ({"estimated_cost": "Infinity"}, "estimated_cost"),
        ({"estimated_cost": "1e30"}, "estimated_cost"),
        ({"estimated_cost": "lots"}, "estimated_cost"),
        ({"estimated_cost": 1500}, "estimated_cost"),  # a JSON number went through a float
        ({"estimated_cost": "0"}, "estimated_cost"),
        ({"estimated_cost": "10.5", "currency": "JPY"}, "estimated_cost"),  # yen have no minor unit
        ({"currency": "XYZ"}, "currency"),  # shaped like a code, but no currency
        ({"currency": "DEM"}, "currency"),  # no longer legal tender
        ({"currency": DROP}, "currency"),
        ({"currency": ""}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "€"}, "currency"),
        ({"currency": 978}, "currency"),
        ({"category": "weapons"}, "category"),
        ({"urgency": "whenever"}, "urgency"),
        ({"status": "done"}, "status"),
        ({"description": 42}, "description"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"created_by": "x"}, "created_by"),
    ],
)
def test_a_bad_need_is_refused(overrides, field, client):
    case = open_case(client)
    response = client.post(case_url(case["id"], "needs/"), a_need(**overrides))

    assert response.status_code == 400
    assert field in error_fields(response)
    assert not Need.objects.exists()


@pytest.mark.parametrize("status", ["open", "in_progress", "met", "cancelled"])
def test_a_need_moves_to_any_of_its_statuses(status, client):
    case = open_case(client)
    need = client.post(case_url(case["id"], "needs/"), a_need()).json()

    response = client.patch(case_url(case["id"], f"needs/{need['id']}/"), {"status": status})

    assert response.status_code == 200
    assert response.json()["status"] == status


@pytest.mark.parametrize(
    ("start", "patch", "field"),
    [
        ({}, {"estimated_cost": "-5.00"}, "estimated_cost"),
        ({}, {"estimated_cost": "5.005"}, "estimated_cost"),
        ({}, {"currency": ""}, "currency"),  # a cost left without a currency
        ({}, {"currency": "rub"}, "currency"),
        ({"estimated_cost": "1500.50"}, {"currency": "JPY"}, "estimated_cost"),
        ({"estimated_cost": DROP, "currency": DROP}, {"estimated_cost": "10.00"}, "currency"),
        ({}, {"status": "paid"}, "status"),
    ],
)
def test_a_bad_need_correction_is_refused_and_changes_nothing(start, patch, field, client):
    case = open_case(client)
    need = client.post(case_url(case["id"], "needs/"), a_need(**start)).json()
    url = case_url(case["id"], f"needs/{need['id']}/")

    response = client.patch(url, patch)

    assert response.status_code == 400
    assert field in error_fields(response)
    assert client.get(url).json() == need


def test_a_need_is_reached_only_through_its_own_case(client):
    first, second = open_case(client), open_case(client)
    need = client.post(case_url(first["id"], "needs/"), a_need()).json()

    wrong = client.get(case_url(second["id"], f"needs/{need['id']}/"))

    assert wrong.status_code == 404
    assert (
        client.patch(case_url(second["id"], f"needs/{need['id']}/"), {"status": "met"}).status_code
        == 404
    )


def test_needs_are_not_deleted(client):
    case = open_case(client)
    need = client.post(case_url(case["id"], "needs/"), a_need()).json()

    response = client.delete(case_url(case["id"], f"needs/{need['id']}/"))

    assert response.status_code == 405
    assert Need.objects.filter(pk=need["id"]).exists()


# --- notes -----------------------------------------------------------------------------------


def test_a_correction_is_a_new_note_and_both_stay(caseworker, client):
    case = open_case(client)
    url = case_url(case["id"], "notes/")

    first = client.post(url, {"body": "Called at 14:00; safe."})
    second = client.post(url, {"body": "Correction: it was 15:00."})

    assert first.status_code == second.status_code == 201
    assert first.json()["author"] == caseworker.user.username
    notes = client.get(url).json()["results"]
    assert [n["body"] for n in notes] == ["Called at 14:00; safe.", "Correction: it was 15:00."]


@pytest.mark.parametrize("body", [{"body": ""}, {"body": 42}, {}, {"body": "x", "author": "me"}])
def test_a_bad_note_is_refused(body, client):
    case = open_case(client)

    response = client.post(case_url(case["id"], "notes/"), body)

    assert response.status_code == 400
    assert not Note.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_notes_cannot_be_edited_or_deleted_through_the_api(method, client):
    case = open_case(client)
    note = client.post(case_url(case["id"], "notes/"), {"body": "as first written"}).json()

    on_note = getattr(client, method)(case_url(case["id"], f"notes/{note['id']}/"), {"body": "x"})
    on_list = getattr(client, method)(case_url(case["id"], "notes/"), {"body": "x"})

    assert on_note.status_code == on_list.status_code == 405
    assert client.get(case_url(case["id"], f"notes/{note['id']}/")).json() == note


def test_a_saved_note_refuses_to_be_saved_again(client):
    case = open_case(client)
    note_id = client.post(case_url(case["id"], "notes/"), {"body": "as first written"}).json()["id"]
    note = Note.objects.select_related("case__data_key").get(pk=note_id)
    note.body = "rewritten"

    with pytest.raises(ValueError, match="append-only"):
        note.save()

    stored = Note.objects.select_related("case__data_key").get(pk=note_id)
    assert stored.body == "as first written"
