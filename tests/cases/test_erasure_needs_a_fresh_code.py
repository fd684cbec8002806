"""Erasing a case or a person takes a fresh code from the coordinator's authenticator app
(`otp`), checked in the erase services (step-up), as approving money does: a stolen token
alone erases nothing. A wrong code is counted against the token and erases nothing."""

from __future__ import annotations

import pytest
from django.conf import settings

from cases.models import Case
from people.models import Person
from tests.cases.helpers import case_url, open_case, record_person
from tests.erasure import erase_body
from tests.people.helpers import person_url

pytestmark = pytest.mark.django_db


def wrong_code(staff) -> str:
    right = staff.totp()
    return f"{(int(right) + 1) % 1_000_000:06d}"


@pytest.mark.parametrize("otp", [None, "", "12", "not a code"])
def test_a_case_erasure_without_a_code_is_refused_and_erases_nothing(otp, client, lead):
    case = open_case(client)

    response = lead.post(case_url(case["id"], "erase/"), {} if otp is None else {"otp": otp})

    assert response.status_code in (400, 403), response.json()
    assert not Case.objects.get(pk=case["id"]).erased


def test_a_wrong_code_erases_no_case_and_counts_against_the_token(client, lead, coordinator):
    case = open_case(client)

    response = lead.post(case_url(case["id"], "erase/"), {"otp": wrong_code(coordinator)})

    assert response.status_code == 403
    assert response.json()["code"] == "step_up_failed"
    assert not Case.objects.get(pk=case["id"]).erased
    assert Person.objects.filter(pk=case["primary_person"], erased_at__isnull=True).exists()


def test_a_code_used_once_does_not_erase_a_second_case(client, lead, coordinator):
    first, second = open_case(client), open_case(client)
    body = erase_body(coordinator)

    assert lead.post(case_url(first["id"], "erase/"), body).status_code == 200
    replayed = lead.post(case_url(second["id"], "erase/"), body)

    assert replayed.status_code == 403
    assert not Case.objects.get(pk=second["id"]).erased


def test_a_person_erasure_needs_a_fresh_code_too(client, lead, coordinator):
    person = record_person(client)

    without = lead.post(person_url(person, "erase/"), {})
    wrong = lead.post(person_url(person, "erase/"), {"otp": wrong_code(coordinator)})

    assert without.status_code == 400
    assert "otp" in without.json()["fields"]
    assert wrong.status_code == 403
    assert not Person.objects.get(pk=person).erased
    assert lead.post(person_url(person, "erase/"), erase_body(coordinator)).status_code == 200
    assert Person.objects.get(pk=person).erased


def test_too_many_wrong_codes_revoke_the_token_that_sent_them(client, lead, coordinator):
    case = open_case(client)
    answers = [
        lead.post(case_url(case["id"], "erase/"), {"otp": wrong_code(coordinator)}).status_code
        for _ in range(settings.STEP_UP_FAILURE_LIMIT)
    ]

    assert answers[:-1] == [403] * (settings.STEP_UP_FAILURE_LIMIT - 1)
    assert answers[-1] == 401
    assert lead.get(case_url(case["id"])).status_code == 401
    assert not Case.objects.get(pk=case["id"]).erased
