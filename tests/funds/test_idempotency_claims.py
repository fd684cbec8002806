"""No worker sleeps on someone else's claim: a retry that finds its `Idempotency-Key` claimed
answers at once (409 with Retry-After), and a claim whose request died is taken over at once
(PostgreSQL: its session advisory lock died with its connection) or, on SQLite, once it is older
than any request may run. Either way the money moves exactly once."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from common.parsers import JSONParser
from funds.idempotency import ABANDONED_AFTER, claim_lock_id, fingerprint_of
from funds.models import Allocation, Disbursement, IdempotencyRecord
from tests.cases.helpers import open_case
from tests.funds.helpers import DISBURSEMENTS_URL, a_request, allocate, create_source

pytestmark = pytest.mark.django_db
KEY = "retry-after-a-timeout-1"


@pytest.fixture
def allocation_id(client, lead) -> str:
    source = create_source(lead, amount="10000.00")["id"]
    return allocate(lead, source, open_case(client)["id"], amount="1000.00")["id"]


def _claim_left_by_a_dead_request(caseworker, body) -> IdempotencyRecord:
    """The row a request writes when it claims the key, as one killed mid-work leaves it."""
    request = APIRequestFactory().post(DISBURSEMENTS_URL, body, format="json")
    drf_request = Request(request, parsers=[JSONParser()])
    fingerprint = fingerprint_of(drf_request, "disbursement.request")
    return IdempotencyRecord.objects.create(user=caseworker.user, key=KEY, fingerprint=fingerprint)


def _other_session_holding(lock_id: int):
    """A second database session holding the key's advisory lock: the claimer, still alive."""
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
    return other


def _post(client, body):
    return client.post(DISBURSEMENTS_URL, body, HTTP_IDEMPOTENCY_KEY=KEY)


def _answers_at_once_in_progress(client, body) -> None:
    started = time.monotonic()
    response = _post(client, body)
    elapsed = time.monotonic() - started

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_progress"
    assert int(response["Retry-After"]) >= 1
    assert elapsed < 1.0  # no waiting in the worker


def _then_it_is_done_exactly_once(client, body, allocation_id) -> None:
    first = _post(client, body)
    again = _post(client, body)

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Disbursement.objects.filter(allocation_id=allocation_id).count() == 1
    assert Allocation.objects.get(pk=allocation_id).reserved == Decimal("70.00")
    assert IdempotencyRecord.objects.get(key=KEY).status_code == 201


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks: PostgreSQL")
def test_a_live_claim_answers_at_once_and_a_dead_one_is_taken_over_at_once(
    client, caseworker, allocation_id
):
    # Given a request that claimed the key and is still running in another session
    body = a_request(allocation_id, amount="70.00")
    _claim_left_by_a_dead_request(caseworker, body)
    owner = _other_session_holding(claim_lock_id(caseworker.user.pk, KEY))

    # When the client retries, it is told at once that the first is still running
    _answers_at_once_in_progress(client, body)
    assert not Disbursement.objects.filter(allocation_id=allocation_id).exists()

    # And once that request's worker dies (its connection, and so its lock, with it), a retry
    # is carried out at once, exactly once, and a further retry replays it.
    owner.close()
    _then_it_is_done_exactly_once(client, body, allocation_id)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="no advisory locks: SQLite")
def test_sqlite_a_recent_claim_answers_at_once_and_an_old_one_is_taken_over(
    client, caseworker, allocation_id
):
    body = a_request(allocation_id, amount="70.00")
    claim = _claim_left_by_a_dead_request(caseworker, body)

    _answers_at_once_in_progress(client, body)
    assert not Disbursement.objects.filter(allocation_id=allocation_id).exists()

    IdempotencyRecord.objects.filter(pk=claim.pk).update(
        created_at=timezone.now() - ABANDONED_AFTER - timedelta(seconds=1)
    )
    _then_it_is_done_exactly_once(client, body, allocation_id)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks: PostgreSQL")
def test_a_finished_request_frees_its_lock(client, caseworker, allocation_id):
    body = a_request(allocation_id, amount="70.00")
    assert _post(client, body).status_code == 201

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        assert cursor.fetchone()[0] == 0
