"""Payees, receipts and comments: who reads them, that every reading is logged, that they are
never at rest in clear, and that a case's erasure takes them away for good.

- Auditors read disbursements with the payee and the receipt reference masked ("[masked]", or
  null when there is none), amounts and statuses in clear, and no ACCESS entry names those
  fields for them; coordinators and the case's caseworkers read them in clear, and every such
  response writes ACCESS entries naming the fields. Approval comments shown are logged on the
  Approval.
- A caseworker taken off a case loses its allocations and disbursements on the next request;
  sources (no personal data) stay readable.
- The plaintext canary: values written through the API appear nowhere in the database or in
  the audit log.
- After the case's erasure the sealed values read as null for everyone, the amounts stay, no
  new money moves for the case (409, nothing changed), and an outstanding request can still be
  closed so its reservation is released, without its reason being stored.

Speed: the money the reading and erasure tests share is built once per module (through the
services, no second factor used) inside a transaction rolled back at the end; each test runs in
its own savepoint, so it meets the same untouched records and unused authenticator codes. The
canary builds its own, through the API.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from accounts.services import staff_create, token_issue
from audit.models import Action, LogEntry
from cases.models import Case, TimelineEntry
from cases.services import case_shred
from funds.models import Allocation, Approval, Disbursement, FundingSource
from funds.services.disbursements import (
    disbursement_approve,
    disbursement_pay,
    disbursement_request,
)
from tests.audit.reads import access_reads
from tests.cases.helpers import case_url, last_sequence, open_case
from tests.conftest import Staff
from tests.dbdump import dump_database_text
from tests.funds.helpers import (
    ALLOCATIONS_URL,
    DISBURSEMENTS_URL,
    SOURCES_URL,
    a_request,
    allocate,
    create_source,
    disbursement_url,
    funded_case,
    request_money,
    terms,
)
from tests.people.test_plaintext_canary import occurrences

pytestmark = pytest.mark.django_db

MASKED = "[masked]"
PAYMENT_SECRETS = {"payee", "receipt_reference"}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    return response.json()


def approve(client: APIClient, item_id: str, code: str, comment: str = "") -> Any:
    return client.post(disbursement_url(item_id, "approve/"), {"otp": code, "comment": comment})


def pay(client: APIClient, item_id: str, code: str, receipt: str, comment: str = "") -> Any:
    return client.post(
        disbursement_url(item_id, "pay/"),
        {"otp": code, "receipt_reference": receipt, "comment": comment},
    )


def access_fields(user: User, model: type, object_pk: str, since: int) -> list[set[str]]:
    """The fields named by each ACCESS entry `user` caused on one record since `since`."""
    content_type = ContentType.objects.get_for_model(model)
    reads = access_reads(actor=user, object_pk=str(object_pk), sequence__gt=since)
    return [set(read.fields) for read in reads if read.content_type == content_type]


def all_listed(client: APIClient, url: str) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in ok(client.get(url, {"page_size": 200}))["results"]}


# --- The shared money ------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """One case's allocation with a paid request (an approval comment, a receipt), an open one
    and an approved one, each with its own payee."""

    case: str
    source: str
    allocation: str
    paid: str
    open: str
    approved: str
    payees: dict[str, str]  # by disbursement id
    receipt: str
    comment: str  # the paid request's approval


@dataclass(frozen=True)
class World:
    staff: dict[str, Staff]  # caseworker, coordinator, approver, auditor, successor
    clients: dict[str, APIClient]  # by the same names
    live: Money
    erased: Money  # its case erased after the money was moved

    def user(self, name: str) -> User:
        return self.staff[name].user


def _staff(role: str) -> Staff:
    password = secrets.token_urlsafe(18)
    user, enrolment = staff_create(
        username=f"{role}-{secrets.token_hex(4)}", roles=[role], password=password
    )
    return Staff(user=user, password=password, backup_codes=enrolment.backup_codes)


def _client(user: User) -> APIClient:
    """Like `client_for` in tests/conftest.py, kept for the module (a client loads the
    middleware on its first request)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
    return client


def _money(staff: dict[str, Staff], tag: str) -> Money:
    caseworker, coordinator = staff["caseworker"].user, staff["coordinator"].user
    approver = staff["approver"].user
    case, allocation = funded_case(caseworker, coordinator, tag)
    secret = secrets.token_hex(6)
    payees = [f"Payee {tag} {name} {secret}" for name in ("paid", "open", "approved")]
    receipt, comment = f"WU-{tag}-{secret}", f"approval comment {tag} {secret}"
    paid = disbursement_request(
        allocation=allocation,
        requested_by=caseworker,
        terms=terms(payees[0], "120.00", "money_transfer_service"),
    )
    disbursement_approve(disbursement=paid, approver=approver, comment=comment)
    disbursement_pay(disbursement=paid, actor=coordinator, receipt_reference=receipt)
    opened = disbursement_request(
        allocation=allocation,
        requested_by=caseworker,
        terms=terms(payees[1], "80.00", "money_transfer_service"),
    )
    approved = disbursement_request(
        allocation=allocation,
        requested_by=caseworker,
        terms=terms(payees[2], "120.00", "money_transfer_service"),
    )
    disbursement_approve(disbursement=approved, approver=approver, comment="fine")
    ids = [str(item.pk) for item in (paid, opened, approved)]
    return Money(
        case=str(case.pk),
        source=str(allocation.source_id),
        allocation=str(allocation.pk),
        paid=ids[0],
        open=ids[1],
        approved=ids[2],
        payees=dict(zip(ids, payees, strict=True)),
        receipt=receipt,
        comment=comment,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    # Rolled back when the module is done; each test's own savepoint undoes what it changed.
    with django_db_blocker.unblock(), transaction.atomic():
        staff = {
            "caseworker": _staff(Role.CASEWORKER),
            "coordinator": _staff(Role.COORDINATOR),
            "approver": _staff(Role.COORDINATOR),
            "auditor": _staff(Role.AUDITOR),
            "successor": _staff(Role.CASEWORKER),
        }
        live, erased = _money(staff, "live"), _money(staff, "erased")
        case_shred(case=Case.objects.get(pk=erased.case), actor=staff["coordinator"].user)
        yield World(
            staff=staff,
            clients={name: _client(member.user) for name, member in staff.items()},
            live=live,
            erased=erased,
        )
        transaction.set_rollback(True)


# --- Masking for auditors --------------------------------------------------------------------


def test_an_auditor_reads_payee_and_receipt_masked_and_the_money_in_clear(world):
    reader, money = world.clients["auditor"], world.live

    listed = all_listed(reader, DISBURSEMENTS_URL)
    paid_views = [listed[money.paid], ok(reader.get(disbursement_url(money.paid)))]
    open_views = [listed[money.open], ok(reader.get(disbursement_url(money.open)))]

    for shown in paid_views:
        assert (shown["payee"], shown["receipt_reference"]) == (MASKED, MASKED)
        assert (shown["amount"], shown["currency"], shown["status"]) == ("120.00", "EUR", "paid")
    for shown in open_views:
        assert (shown["payee"], shown["receipt_reference"]) == (MASKED, None)
        assert (shown["amount"], shown["status"]) == ("80.00", "requested")
    everything = str([*paid_views, *open_views])
    assert not [payee for payee in money.payees.values() if payee in everything]
    assert money.receipt not in everything


def test_an_auditors_reads_reveal_nothing_sealed_so_log_no_access(world):
    reader, money, auditor = world.clients["auditor"], world.live, world.user("auditor")
    since = last_sequence()

    ok(reader.get(DISBURSEMENTS_URL))
    ok(reader.get(disbursement_url(money.paid)))
    ok(reader.get(disbursement_url(money.open)))

    for item in (money.paid, money.open):
        assert access_fields(auditor, Disbursement, item, since) == []
    approval = Approval.objects.get(disbursement_id=money.paid)
    assert access_fields(auditor, Approval, approval.pk, since) == []


# --- Clear reads are logged ------------------------------------------------------------------


READS: dict[str, Callable[[APIClient, str], dict[str, Any]]] = {
    "list": lambda client, item: all_listed(client, DISBURSEMENTS_URL)[item],
    "retrieve": lambda client, item: ok(client.get(disbursement_url(item))),
}


@pytest.mark.parametrize("reader", ["coordinator", "caseworker"])
@pytest.mark.parametrize("read", list(READS))
def test_a_reader_in_scope_sees_payee_and_receipt_and_each_response_is_logged(world, reader, read):
    client, who, money = world.clients[reader], world.user(reader), world.live

    for item, receipt, revealed in (
        (money.paid, money.receipt, PAYMENT_SECRETS),
        (money.open, None, {"payee"}),
    ):
        since = last_sequence()
        shown = READS[read](client, item)

        assert (shown["payee"], shown["receipt_reference"]) == (money.payees[item], receipt)
        named = access_fields(who, Disbursement, item, since)
        assert len(named) == 1, named
        assert revealed <= named[0]
        assert named[0] <= {*PAYMENT_SECRETS, "payment_comment", "closing_reason"}


def test_an_auditor_sees_approval_comments_masked(world):
    money = world.live

    shown = ok(world.clients["auditor"].get(disbursement_url(money.paid)))

    assert [a["comment"] for a in shown["approvals"]] == ["[masked]"]
    assert money.comment not in json.dumps(shown)


@pytest.mark.parametrize("reader", ["coordinator", "caseworker"])
def test_an_approval_comment_shown_is_logged_on_the_approval(world, reader):
    money = world.live
    approval = Approval.objects.get(disbursement_id=money.paid)
    since = last_sequence()

    shown = ok(world.clients[reader].get(disbursement_url(money.paid)))

    assert [a["comment"] for a in shown["approvals"]] == [money.comment]
    assert access_fields(world.user(reader), Approval, approval.pk, since) == [{"comment"}]


# --- Taken off the case ----------------------------------------------------------------------


def test_a_caseworker_taken_off_the_case_loses_its_money_at_once(world):
    client, money = world.clients["caseworker"], world.live
    allocation_url = f"{ALLOCATIONS_URL}{money.allocation}/"
    ok(client.get(allocation_url))
    ok(client.get(disbursement_url(money.open)))
    successor = world.user("successor").username

    ok(
        world.clients["coordinator"].post(
            case_url(money.case, "assign/"), {"caseworkers": [successor]}
        )
    )

    assert client.get(allocation_url).status_code == 404
    assert client.get(disbursement_url(money.paid)).status_code == 404
    assert client.get(disbursement_url(money.open)).status_code == 404
    assert money.allocation not in all_listed(client, ALLOCATIONS_URL)
    assert not set(money.payees) & set(all_listed(client, DISBURSEMENTS_URL))
    count = Disbursement.objects.count()
    cancelled = client.post(disbursement_url(money.open, "cancel/"), {"reason": "mine"})
    asked = client.post(DISBURSEMENTS_URL, a_request(money.allocation))
    assert (cancelled.status_code, asked.status_code) == (404, 400)
    assert asked.json()["fields"]["allocation"] == ["No such allocation."]
    assert Disbursement.objects.get(pk=money.open).status == "requested"
    assert Disbursement.objects.count() == count
    # Sources hold no personal data: still readable.
    assert money.source in all_listed(client, SOURCES_URL)
    ok(client.get(f"{SOURCES_URL}{money.source}/"))


# --- The plaintext canary --------------------------------------------------------------------


def test_no_payee_receipt_comment_or_reason_is_stored_or_audited_in_clear(
    client, lead, coordinator, second_coordinator, auditor, client_for, caplog
):
    caplog.set_level(logging.DEBUG)
    tag = secrets.token_hex(6)
    canaries: list[str] = []

    def canary(label: str) -> str:
        canaries.append(f"canary {label} {tag}")
        return canaries[-1]

    other = client_for(second_coordinator)
    case = open_case(client)
    allocation = allocate(lead, create_source(lead)["id"], case["id"])["id"]
    paid = request_money(client, allocation, payee=canary("first payee"))["id"]
    ok(client.patch(disbursement_url(paid), {"payee": canary("corrected payee")}))
    ok(approve(lead, paid, coordinator.totp(), canary("approval comment")))
    ok(pay(lead, paid, coordinator.totp(steps_ahead=1), canary("receipt"), canary("paid note")))
    rejected = request_money(client, allocation, payee=canary("rejected payee"))["id"]
    ok(other.post(disbursement_url(rejected, "reject/"), {"reason": canary("reject reason")}))
    cancelled = request_money(client, allocation, payee=canary("cancelled payee"))["id"]
    ok(client.post(disbursement_url(cancelled, "cancel/"), {"reason": canary("cancel reason")}))
    for reader in (client, lead, client_for(auditor)):
        assert {paid, rejected, cancelled} <= set(all_listed(reader, DISBURSEMENTS_URL))
        ok(reader.get(disbursement_url(paid)))

    dump = dump_database_text()
    audit_text = "\n".join(
        f"{entry.object_repr} {entry.changes} {entry.additional_data}"
        for entry in LogEntry.objects.all()
    )
    # The dump really holds the disbursements' sealed columns, and the audit log their changes.
    sealed = Disbursement.objects.values_list("receipt_reference", flat=True).get(pk=paid)
    assert sealed.blob.decode("latin-1") in dump
    assert LogEntry.objects.filter(object_pk=paid, action=Action.UPDATE).exists()
    for needle in canaries:
        found = {
            "database": occurrences(dump, needle),
            "audit entries": occurrences(audit_text, needle),
            "log output": occurrences(caplog.text, needle),
        }
        assert found == dict.fromkeys(found, 0), f"{needle!r} leaked: {found}"


# --- After the case's erasure ----------------------------------------------------------------


def _sealed_views(shown: dict[str, Any]) -> list[Any]:
    return [
        shown["payee"],
        shown["receipt_reference"],
        shown["payment_comment"],
        shown["closing_reason"],
        *(approval["comment"] for approval in shown["approvals"]),
    ]


@pytest.mark.parametrize("reader", ["coordinator", "auditor"])
def test_after_erasure_the_sealed_values_read_as_null_and_the_amounts_stay(world, reader):
    client, money = world.clients[reader], world.erased
    since = last_sequence()

    listed = all_listed(client, DISBURSEMENTS_URL)
    views = {item: [listed[item], ok(client.get(disbursement_url(item)))] for item in money.payees}

    amounts = {money.paid: "120.00", money.open: "80.00", money.approved: "120.00"}
    for item, shown_twice in views.items():
        for shown in shown_twice:
            assert set(_sealed_views(shown)) == {None}
            assert shown["amount"] == amounts[item]
    assert views[money.paid][0]["status"] == "paid"
    assert [a["approver"] for a in views[money.paid][0]["approvals"]] == [
        world.user("approver").username
    ]
    # Nothing was revealed, so nothing was logged as read.
    approvals = Approval.objects.filter(disbursement_id__in=money.payees)
    erased_records = [*money.payees, *(str(pk) for pk in approvals.values_list("pk", flat=True))]
    assert not access_reads(sequence__gt=since, object_pk__in=erased_records)


def test_after_erasure_the_caseworker_no_longer_reaches_the_cases_money(world):
    # The erasure ended the case's assignments: its money leaves the caseworker's scope.
    client, money = world.clients["caseworker"], world.erased

    listed = all_listed(client, DISBURSEMENTS_URL)
    reads = [client.get(disbursement_url(item)).status_code for item in money.payees]

    assert not set(money.payees) & set(listed)
    assert reads == [404] * len(money.payees)


def _state(money: Money) -> tuple:
    allocation = Allocation.objects.get(pk=money.allocation)
    return (
        allocation.reserved,
        allocation.spent,
        FundingSource.objects.get(pk=money.source).allocated,
        sorted(Disbursement.objects.values_list("id", "status", "amount", "approved_at")),
        Approval.objects.count(),
        Allocation.objects.count(),
    )


def test_after_erasure_no_new_money_moves_for_the_case(world):
    money, clients, staff = world.erased, world.clients, world.staff
    before = _state(money)

    # The caseworker lost the case with its erasure, so their change reads as out of scope.
    change = clients["caseworker"].patch(disbursement_url(money.open), {"amount": "90.00"})
    refused = {
        "request": clients["coordinator"].post(DISBURSEMENTS_URL, a_request(money.allocation)),
        "approve": approve(clients["coordinator"], money.open, staff["coordinator"].totp()),
        "pay": pay(clients["approver"], money.approved, staff["approver"].totp(), "WU-after"),
        "allocate": clients["coordinator"].post(
            ALLOCATIONS_URL,
            {"source": money.source, "case": money.case, "category": "food", "amount": "10.00"},
        ),
    }

    statuses = {name: response.status_code for name, response in refused.items()}
    assert statuses == dict.fromkeys(refused, 409)
    assert all("erased" in response.json()["message"] for response in refused.values())
    assert change.status_code == 404
    assert _state(money) == before


@pytest.mark.parametrize(("action", "closed_as"), [("cancel", "cancelled"), ("reject", "rejected")])
def test_after_erasure_an_approved_request_can_be_closed_and_its_reason_is_not_kept(
    world, action, closed_as
):
    # Closing releases the reservation: the money must not stay locked by an erased case.
    money = world.erased
    item = money.approved
    amount = Disbursement.objects.get(pk=item).amount_in_source_currency
    before = Allocation.objects.get(pk=money.allocation)
    approvals = Approval.objects.count()
    reason = f"canary reason {secrets.token_hex(6)}"

    response = world.clients["coordinator"].post(
        disbursement_url(item, f"{action}/"), {"reason": reason}
    )

    shown = ok(response)
    assert (shown["status"], shown["closing_reason"]) == (closed_as, None)
    assert Disbursement.objects.filter(pk=item, closing_reason__isnull=True).exists()
    assert Approval.objects.count() == approvals  # nothing new sealed under a destroyed key
    after = Allocation.objects.get(pk=money.allocation)
    assert (after.reserved, after.spent) == (before.reserved - amount, before.spent)
    assert occurrences(dump_database_text(), reason) == 0


def test_the_erasure_cancelled_the_request_waiting_for_approval_and_released_it(world):
    money = world.erased

    waiting = Disbursement.objects.get(pk=money.open)
    approved = Disbursement.objects.get(pk=money.approved)
    allocation = Allocation.objects.get(pk=money.allocation)

    assert (waiting.status, waiting.closed_by_id) == ("cancelled", world.user("coordinator").pk)
    assert waiting.closing_reason is None  # the key was about to be destroyed: nothing sealed
    assert approved.status == "approved"  # handed-over cash is never hidden: it stays open
    assert allocation.reserved == approved.amount_in_source_currency
    entry = TimelineEntry.objects.get(case_id=money.case, kind="money")
    assert (entry.from_value, entry.to_value, entry.reason) == ("requested", "cancelled", None)


def test_an_approved_request_of_an_erased_case_is_paid_without_sealed_details(world):
    money, staff = world.erased, world.staff
    amount = Disbursement.objects.get(pk=money.approved).amount_in_source_currency
    before = Allocation.objects.get(pk=money.allocation)

    response = world.clients["coordinator"].post(
        disbursement_url(money.approved, "pay/"), {"otp": staff["coordinator"].totp()}
    )

    shown = ok(response)
    assert (shown["status"], shown["receipt_reference"], shown["payment_comment"]) == (
        "paid",
        None,
        None,
    )
    after = Allocation.objects.get(pk=money.allocation)
    assert (after.reserved, after.spent) == (before.reserved - amount, before.spent + amount)
