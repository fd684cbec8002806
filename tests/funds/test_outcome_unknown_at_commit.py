"""A connection lost at COMMIT cannot say whether the write landed: the API answers 503
`outcome_unknown`, so a client retries only with its Idempotency-Key (or after reading back),
and that retry moves the money exactly once. A failure the server reported at COMMIT (it rolled
back) is not "unknown"."""

from __future__ import annotations

from decimal import Decimal

import psycopg2
import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError, connection, connections, transaction

from common.db.failures import OutcomeUnknown
from funds.models import Allocation, Disbursement
from tests.cases.helpers import open_case
from tests.funds.helpers import DISBURSEMENTS_URL, a_request, allocate, create_source

pytestmark = pytest.mark.django_db(transaction=True)


class _SerializationFailure(psycopg2.OperationalError):
    pgcode = "40001"


def _lost(driver) -> Exception:
    """What the driver raises when the connection is gone (psycopg2 or sqlite3 module)."""
    return driver.InterfaceError("connection already closed")


def _commit_failing_once(monkeypatch, error, *, when=lambda: True) -> list[int]:
    """The backend's COMMIT raises `error(driver)` (wrapped by Django as it wraps the driver's
    errors) the first time `when()` holds; the transaction is then rolled back, as a lost
    connection's would be."""
    wrapper = type(connections["default"])
    real_commit = wrapper._commit
    failed: list[int] = []

    def commit(self):
        if not failed and when():
            failed.append(1)
            with self.wrap_database_errors:
                raise error(self.Database)
        return real_commit(self)

    monkeypatch.setattr(wrapper, "_commit", commit)
    return failed


def test_a_connection_lost_at_commit_raises_outcome_unknown(monkeypatch):
    _commit_failing_once(monkeypatch, _lost)

    with pytest.raises(OutcomeUnknown), transaction.atomic():
        Group.objects.create(name="lost-at-commit")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLSTATEs: PostgreSQL")
def test_a_server_gone_at_commit_is_unknown_but_a_serialization_failure_is_not(monkeypatch):
    _commit_failing_once(monkeypatch, lambda driver: driver.OperationalError("server closed"))
    with pytest.raises(OutcomeUnknown), transaction.atomic():
        Group.objects.create(name="server-gone-at-commit")

    _commit_failing_once(monkeypatch, lambda driver: _SerializationFailure("could not serialize"))

    with pytest.raises(OperationalError) as raised, transaction.atomic():
        Group.objects.create(name="refused-at-commit")

    assert not isinstance(raised.value, OutcomeUnknown)


def test_the_api_answers_outcome_unknown_and_a_keyed_retry_moves_money_once(
    client, lead, monkeypatch
):
    source = create_source(lead, amount="10000.00")["id"]
    allocation_id = allocate(lead, source, open_case(client)["id"], amount="1000.00")["id"]
    body = a_request(allocation_id, amount="70.00")
    headers = {"HTTP_IDEMPOTENCY_KEY": "lost-at-commit-1"}
    # COMMIT of the transaction that holds the new request is the one whose answer is lost.
    failed = _commit_failing_once(monkeypatch, _lost, when=lambda: Disbursement.objects.exists())

    lost = client.post(DISBURSEMENTS_URL, body, **headers)

    assert failed == [1]
    assert lost.status_code == 503
    assert lost.json()["code"] == "outcome_unknown"
    assert int(lost["Retry-After"]) > 0

    retried = client.post(DISBURSEMENTS_URL, body, **headers)
    replayed = client.post(DISBURSEMENTS_URL, body, **headers)

    assert (retried.status_code, replayed.status_code) == (201, 201)
    assert retried.json()["id"] == replayed.json()["id"]
    assert Disbursement.objects.filter(allocation_id=allocation_id).count() == 1
    assert Allocation.objects.get(pk=allocation_id).reserved == Decimal("70.00")
