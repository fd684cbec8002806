"""`Idempotency-Key` on the POSTs that move money: a retry answers with the first result and
creates nothing, a reused key with another body is refused, and the stored record is a digest.

Each test counts the rows (disbursements, allocations, approvals) and the balances before and
after the replay: a replay that answers right but moves money again must fail here.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.roles import Role
from funds.models import Allocation, Approval, Disbursement, FundingSource, IdempotencyRecord
from tests.cases.helpers import hand_over, open_case
from tests.conftest import Staff
from tests.funds.helpers import (
    ALLOCATIONS_URL,
    DISBURSEMENTS_URL,
    a_request,
    allocate,
    create_source,
    disbursement_url,
    request_money,
)

pytestmark = pytest.mark.django_db
PAYEE = "Magomed Ibragimov, Western Union Grozny"
KEY = "c0ffee-4e1d-retry"


def keyed(key: str = KEY) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": key}


@pytest.fixture
def case_id(client) -> str:
    return open_case(client)["id"]


@pytest.fixture
def source_id(lead) -> str:
    return create_source(lead, amount="10000.00")["id"]


@pytest.fixture
def allocation_id(lead, source_id, case_id) -> str:
    return allocate(lead, source_id, case_id, amount="1000.00")["id"]


def balances(allocation_id: str) -> tuple[Decimal, Decimal]:
    allocation = Allocation.objects.get(pk=allocation_id)
    return allocation.reserved, allocation.spent


def an_allocation_body(source_id: str, case_id: str) -> dict[str, Any]:
    return {"source": source_id, "case": case_id, "category": "travel", "amount": "300.00"}


def approve(client: APIClient, item_id: str, staff: Staff) -> Response:
    return client.post(disbursement_url(item_id, "approve/"), {"otp": staff.totp()})


# Replays answer with the first result and create nothing.


def test_a_replayed_request_answers_with_the_first_and_reserves_nothing_more(client, allocation_id):
    body = a_request(allocation_id, payee=PAYEE)
    first = client.post(DISBURSEMENTS_URL, body, **keyed())

    again = client.post(DISBURSEMENTS_URL, body, **keyed())

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert Disbursement.objects.count() == 1
    assert balances(allocation_id) == (Decimal("120.00"), Decimal(0))


def test_a_replayed_allocation_answers_with_the_first_and_allocates_nothing_more(
    lead, source_id, case_id
):
    body = an_allocation_body(source_id, case_id)
    first = lead.post(ALLOCATIONS_URL, body, **keyed())

    again = lead.post(ALLOCATIONS_URL, body, **keyed())

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert Allocation.objects.count() == 1
    assert FundingSource.objects.get(pk=source_id).allocated == Decimal("300.00")


def test_a_replayed_approval_needs_no_new_code_and_adds_no_approval(
    client, lead, coordinator, allocation_id
):
    item = request_money(client, allocation_id)
    body = {"otp": coordinator.totp(), "comment": "checked the quote"}
    first = lead.post(disbursement_url(item["id"], "approve/"), body, **keyed())

    again = lead.post(disbursement_url(item["id"], "approve/"), body, **keyed())  # code used up

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"] == item["id"]
    assert again.json()["status"] == "approved"
    assert Approval.objects.count() == 1
    assert balances(allocation_id) == (Decimal("120.00"), Decimal(0))
    # Without the key the same body is a new approval, and its code is spent: the key decided.
    assert lead.post(disbursement_url(item["id"], "approve/"), body).status_code == 403


def test_a_replayed_payment_needs_no_new_code_and_pays_nothing_more(
    client, lead, coordinator, allocation_id
):
    item = request_money(client, allocation_id)
    assert approve(lead, item["id"], coordinator).status_code == 200
    body = {"otp": coordinator.totp(steps_ahead=1), "receipt_reference": "WU-MTCN-5521"}
    first = lead.post(disbursement_url(item["id"], "pay/"), body, **keyed())

    again = lead.post(disbursement_url(item["id"], "pay/"), body, **keyed())

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"] == item["id"]
    assert again.json()["status"] == "paid"
    assert balances(allocation_id) == (Decimal(0), Decimal("120.00"))
    assert Disbursement.objects.get(pk=item["id"]).paid_by == coordinator.user


def test_a_retry_typing_a_newer_code_is_still_a_replay(client, lead, coordinator, allocation_id):
    item = request_money(client, allocation_id)
    url = disbursement_url(item["id"], "approve/")
    first = lead.post(url, {"otp": coordinator.totp()}, **keyed())

    again = lead.post(url, {"otp": coordinator.totp(steps_ahead=1)}, **keyed())

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == item["id"]
    assert Approval.objects.count() == 1


# A key names one request of one person.


def test_the_same_key_with_another_body_is_refused_and_creates_nothing(client, allocation_id):
    client.post(DISBURSEMENTS_URL, a_request(allocation_id), **keyed())

    other = client.post(DISBURSEMENTS_URL, a_request(allocation_id, amount="130.00"), **keyed())

    assert other.status_code == 422
    assert Disbursement.objects.count() == 1
    assert balances(allocation_id) == (Decimal("120.00"), Decimal(0))


def test_the_same_key_on_another_endpoint_is_refused_and_creates_nothing(
    lead, source_id, case_id, allocation_id
):
    made = lead.post(ALLOCATIONS_URL, an_allocation_body(source_id, case_id), **keyed())
    assert made.status_code == 201

    other = lead.post(DISBURSEMENTS_URL, a_request(allocation_id), **keyed())

    assert other.status_code == 422
    assert Disbursement.objects.count() == 0
    assert balances(allocation_id) == (Decimal(0), Decimal(0))


def test_keys_are_per_person(lead, source_id, case_id, make_staff, client_for):
    body = an_allocation_body(source_id, case_id)
    mine = lead.post(ALLOCATIONS_URL, body, **keyed())

    theirs = client_for(make_staff(Role.COORDINATOR)).post(ALLOCATIONS_URL, body, **keyed())

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["id"] != mine.json()["id"]
    assert FundingSource.objects.get(pk=source_id).allocated == Decimal("600.00")


@pytest.mark.parametrize("key", ["", "k" * 256, "two words", "clé-1", "tab\there"], ids=repr)
def test_a_malformed_key_is_refused_and_creates_nothing(key, client, allocation_id):
    response = client.post(DISBURSEMENTS_URL, a_request(allocation_id), **keyed(key))

    assert response.status_code == 400
    assert Disbursement.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_a_key_of_255_printable_characters_is_accepted(client, allocation_id):
    key = "!" + "k" * 253 + "~"

    response = client.post(DISBURSEMENTS_URL, a_request(allocation_id), **keyed(key))

    assert response.status_code == 201
    assert IdempotencyRecord.objects.get().key == key


def test_a_malformed_key_on_approve_costs_no_code(client, lead, coordinator, allocation_id):
    item = request_money(client, allocation_id)
    body = {"otp": coordinator.totp()}

    refused = lead.post(disbursement_url(item["id"], "approve/"), body, **keyed("bad key"))
    accepted = lead.post(disbursement_url(item["id"], "approve/"), body, **keyed())

    assert (refused.status_code, accepted.status_code) == (400, 200)
    assert Approval.objects.count() == 1


# Failures record nothing.


def test_a_refused_request_does_not_use_up_its_key(client, allocation_id):
    # Given an allocation mostly reserved, a request that does not fit is refused
    blocking = request_money(client, allocation_id, amount="900.00")
    body = a_request(allocation_id, amount="200.00")
    refused = client.post(DISBURSEMENTS_URL, body, **keyed())
    assert refused.status_code == 409
    assert IdempotencyRecord.objects.count() == 0

    # When the room is freed and the client retries with the same key
    client.post(disbursement_url(blocking["id"], "cancel/"), {"reason": "not needed"})
    retried = client.post(DISBURSEMENTS_URL, body, **keyed())

    # Then the retry is carried out, not answered with the refusal.
    assert retried.status_code == 201
    assert balances(allocation_id) == (Decimal("200.00"), Decimal(0))
    assert (
        IdempotencyRecord.objects.get().object_id
        == Disbursement.objects.get(amount=Decimal("200.00")).pk
    )


# Scope is checked again at replay.


def test_a_replay_after_losing_the_case_reads_like_an_unknown_allocation(
    client, lead, case_id, allocation_id, make_staff
):
    # Given a request made with a key, and then the case taken off its caseworker
    body = a_request(allocation_id, payee=PAYEE)
    first = client.post(DISBURSEMENTS_URL, body, **keyed())
    assert first.status_code == 201
    hand_over(lead, case_id, make_staff(Role.CASEWORKER).user.username)

    # When the caseworker replays it
    again = client.post(DISBURSEMENTS_URL, body, **keyed())

    # Then the answer is the one an allocation that does not exist gets, and shows nothing.
    unknown = client.post(DISBURSEMENTS_URL, a_request(uuid.uuid4()), **keyed("other-key"))
    assert again.status_code == unknown.status_code == 400
    assert again.json() == unknown.json()
    assert PAYEE not in again.content.decode()
    assert first.json()["id"] not in again.content.decode()
    assert Disbursement.objects.count() == 1


def test_a_replayed_cancellation_after_losing_the_case_answers_404(
    client, lead, case_id, allocation_id, make_staff
):
    item = request_money(client, allocation_id)
    url = disbursement_url(item["id"], "cancel/")
    assert client.post(url, {"reason": "not needed"}, **keyed()).status_code == 200
    hand_over(lead, case_id, make_staff(Role.CASEWORKER).user.username)

    again = client.post(url, {"reason": "not needed"}, **keyed())

    assert again.status_code == 404
    assert PAYEE not in again.content.decode()


# What is stored, and for how long.


def test_the_stored_record_holds_a_digest_not_the_body(client, allocation_id):
    client.post(DISBURSEMENTS_URL, a_request(allocation_id, payee=PAYEE), **keyed())

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {IdempotencyRecord._meta.db_table}")
        (row,) = cursor.fetchall()

    assert re.fullmatch(r"[0-9a-f]{64}", IdempotencyRecord.objects.get().fingerprint)
    stored = " ".join(str(value) for value in row)
    for secret in (PAYEE, "Magomed", "Bus tickets", "120.00"):
        assert secret not in stored


def _expire_records() -> None:
    past = timezone.now() - settings.FUNDS_IDEMPOTENCY_TTL - timedelta(minutes=1)
    IdempotencyRecord.objects.update(created_at=past)


def test_an_expired_key_is_not_replayed(client, allocation_id):
    body = a_request(allocation_id)
    first = client.post(DISBURSEMENTS_URL, body, **keyed())
    _expire_records()

    again = client.post(DISBURSEMENTS_URL, body, **keyed())

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert balances(allocation_id) == (Decimal("240.00"), Decimal(0))


def test_an_expired_key_may_name_a_new_request(client, allocation_id):
    client.post(DISBURSEMENTS_URL, a_request(allocation_id), **keyed())
    _expire_records()

    other = client.post(DISBURSEMENTS_URL, a_request(allocation_id, amount="50.00"), **keyed())

    assert other.status_code == 201
    assert (
        IdempotencyRecord.objects.get().object_id
        == Disbursement.objects.get(pk=other.json()["id"]).pk
    )


def test_purging_forgets_only_expired_keys(make_staff):
    user = make_staff(Role.COORDINATOR).user
    old = IdempotencyRecord.objects.create(user=user, key="old", fingerprint="0" * 64)
    fresh = IdempotencyRecord.objects.create(user=user, key="fresh", fingerprint="0" * 64)
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - settings.FUNDS_IDEMPOTENCY_TTL - timedelta(seconds=1)
    )
    out = io.StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert "Forgot 1" in out.getvalue()
