"""The summary report and the donor transparency view, figure by figure.

A small set of books in two currencies (an EUR and a RUB source, three allocations to two cases,
disbursements in every status, one paid in roubles from the euro source) is written through the
services and dated by hand, so every figure of every grouping, period and format can be stated
exactly. Rejected and cancelled money counts nowhere; currencies are never added together.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from accounts.services import staff_create, token_issue
from cases.models import Case
from funds.models import Allocation, Disbursement, FundingSource
from funds.services import disbursements as money
from funds.services import sources
from tests.cases.helpers import error_fields, open_case, record_person
from tests.funds.helpers import SUMMARY_URL, record_rate

pytestmark = pytest.mark.django_db

MEASURES = ("allocated", "requested", "approved", "paid", "remaining")
PAYEE = "Zaur Payeev, Western Union Nazran"
RECEIPT = "MTCN-5550-1234"
PEOPLE = ("Khadizhat Firstova", "Magomed Secondov")


def at(moment: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(moment).replace(tzinfo=datetime.UTC)


@dataclass
class Staffing:
    requester: User
    approver: User


def a_source(staffing: Staffing, name: str, currency: str, amount: str, on: str) -> FundingSource:
    return sources.source_create(
        created_by=staffing.approver,
        name=name,
        kind="grant",
        currency=currency,
        amount_received=Decimal(amount),
        received_on=datetime.date.fromisoformat(on),
    )


def an_allocation(
    staffing: Staffing, source: FundingSource, case_id: str, category: str, amount: str, on: str
) -> Allocation:
    allocation = sources.allocation_create(
        source=source,
        case=Case.objects.get(pk=case_id),
        category=category,
        amount=Decimal(amount),
        created_by=staffing.approver,
    )
    Allocation.objects.filter(pk=allocation.pk).update(created_at=at(on))
    return allocation


def a_disbursement(
    staffing: Staffing,
    allocation: Allocation,
    status: str,
    amount: str,
    *,
    asked: str,
    decided: str | None = None,
    currency: str | None = None,
    rate: str | None = None,
) -> Disbursement:
    """A request brought to `status`, dated `asked` and (approved, paid, closed) `decided`."""
    currency = currency or allocation.source.currency
    terms = money.Terms(
        amount=Decimal(amount),
        currency=currency,
        purpose="Tickets",
        method="money_transfer_service",
        payee=PAYEE,
        exchange_rate=Decimal(rate) if rate else None,
        rate_source="ECB" if rate else "",
        rate_date=datetime.date(2026, 3, 1) if rate else None,
    )
    item = money.disbursement_request(
        allocation=allocation, requested_by=staffing.requester, terms=terms
    )
    if status in ("approved", "paid"):
        money.disbursement_approve(disbursement=item, approver=staffing.approver)
    if status == "paid":
        money.disbursement_pay(
            disbursement=item, actor=staffing.approver, receipt_reference=RECEIPT
        )
    if status == "rejected":
        money.disbursement_reject(disbursement=item, approver=staffing.approver, reason="no")
    if status == "cancelled":
        money.disbursement_cancel(disbursement=item, actor=staffing.requester, reason="no")
    stamps = {"requested_at": at(asked)}
    if status in ("approved", "paid"):
        stamps["approved_at"] = at(decided)
    if status == "paid":
        stamps["paid_at"] = at(decided)
    if status in ("rejected", "cancelled"):
        stamps["closed_at"] = at(decided)
    Disbursement.objects.filter(pk=item.pk).update(**stamps)
    return item


@dataclass
class Books:
    eur: FundingSource
    rub: FundingSource
    cases: list[dict[str, Any]]
    allocations: list[Allocation]
    staffing: Staffing
    clients: dict[str, APIClient]


def new_user(role: str) -> User:
    user, _enrolment = staff_create(
        username=f"{role}-{secrets.token_hex(4)}", roles=[role], password=secrets.token_hex(16)
    )
    return user


def client_of(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
    return api


# One approval is enough for every request here: who approves is not what these tests are about.
ONE_APPROVAL = override_settings(
    FUNDS_DUAL_APPROVAL_THRESHOLD=Decimal("1000000"), FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY={}
)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[Books]:
    """The books, written once and rolled back when the module is done; each test's savepoint
    undoes what it adds."""
    with django_db_blocker.unblock(), transaction.atomic(), ONE_APPROVAL:
        staffing = Staffing(
            requester=new_user(Role.CASEWORKER), approver=new_user(Role.COORDINATOR)
        )
        clients = {
            "client": client_of(staffing.requester),
            "reader": client_of(new_user(Role.AUDITOR)),
        }
        yield seed(staffing, clients)
        transaction.set_rollback(True)


def seed(staffing: Staffing, clients: dict[str, APIClient]) -> Books:
    client = clients["client"]
    cases = [open_case(client, primary=record_person(client, full_name=name)) for name in PEOPLE]
    one, two = cases[0]["id"], cases[1]["id"]
    eur = a_source(staffing, "Winter appeal", "EUR", "10000.00", "2026-03-01")
    rub = a_source(staffing, "Grant RU-17", "RUB", "500000.00", "2026-04-01")
    travel = an_allocation(staffing, eur, one, "travel", "3000.00", "2026-03-05T10:00")
    housing = an_allocation(staffing, eur, two, "housing", "2000.00", "2026-03-06T10:00")
    roubles = an_allocation(staffing, rub, one, "travel", "100000.00", "2026-04-02T10:00")
    record_rate("RUB", "EUR", "0.0105")

    spend = a_disbursement
    spend(staffing, travel, "requested", "100.00", asked="2026-03-10T09:00")
    spend(staffing, travel, "approved", "200.00", asked="2026-03-10T09:00", decided="2026-03-11")
    spend(staffing, travel, "paid", "400.00", asked="2026-03-12", decided="2026-04-12T23:59:59")
    spend(staffing, travel, "rejected", "800.00", asked="2026-03-12", decided="2026-03-13")
    spend(staffing, travel, "cancelled", "50.00", asked="2026-03-14", decided="2026-03-15")
    spend(
        staffing,
        travel,
        "approved",
        "10000.00",  # 105.00 EUR
        asked="2026-03-16",
        decided="2026-03-17",
        currency="RUB",
        rate="0.0105",
    )
    spend(staffing, housing, "paid", "1000.00", asked="2026-04-01", decided="2026-04-13T00:00")
    spend(staffing, roubles, "requested", "5000.00", asked="2026-04-03T09:00")
    spend(staffing, roubles, "paid", "20000.00", asked="2026-04-05", decided="2026-04-20")
    spend(staffing, roubles, "rejected", "3000.00", asked="2026-04-06", decided="2026-04-07")
    return Books(eur, rub, cases, [travel, housing, roubles], staffing, clients)


@pytest.fixture
def books(world: Books) -> Books:
    return world


@pytest.fixture
def staffing(world: Books) -> Staffing:
    return world.staffing


@pytest.fixture
def client(world: Books) -> APIClient:
    return world.clients["client"]


@pytest.fixture
def reader(world: Books) -> APIClient:
    return world.clients["reader"]


def figures(
    *values: str,
    received: str | None = None,
    unallocated: str | None = None,
    paid_rate_not_ok: str = "0.00",
) -> dict:
    row = dict(zip(MEASURES, values, strict=True))
    row["paid_rate_not_ok"] = paid_rate_not_ok
    if received is not None:
        row["received"] = received
    if unallocated is not None:
        row["unallocated"] = unallocated
    return row


def report(api: APIClient, **params: str) -> dict[tuple[str, str], dict[str, str]]:
    """The summary's rows keyed by (group, currency), each without its group and currency."""
    response = api.get(SUMMARY_URL, params)
    assert response.status_code == 200, response.json()
    group_by = response.json()["group_by"]
    keyed = {}
    for row in response.json()["rows"]:
        figures_only = dict(row)
        key = (figures_only.pop(group_by), figures_only.pop("currency"))
        assert key not in keyed, "one row per group and currency"
        keyed[key] = figures_only
    return keyed


# --- JSON, every grouping --------------------------------------------------------------------


def test_summary_by_source(reader, books):
    rows = report(reader, group_by="source")

    assert rows == {
        (str(books.eur.pk), "EUR"): {
            "source_name": "Winter appeal",
            **figures(
                "5000.00", "100.00", "305.00", "1400.00", "3195.00",
                received="10000.00", unallocated="5000.00",
            ),
        },
        (str(books.rub.pk), "RUB"): {
            "source_name": "Grant RU-17",
            **figures(
                "100000.00", "5000.00", "0.00", "20000.00", "75000.00",
                received="500000.00", unallocated="400000.00",
            ),
        },
    }  # fmt: skip


def test_summary_by_category_keeps_currencies_apart(reader, books):
    rows = report(reader, group_by="category")

    assert rows == {
        ("travel", "EUR"): figures("3000.00", "100.00", "305.00", "400.00", "2195.00"),
        ("travel", "RUB"): figures("100000.00", "5000.00", "0.00", "20000.00", "75000.00"),
        ("housing", "EUR"): figures("2000.00", "0.00", "0.00", "1000.00", "1000.00"),
    }


def test_summary_by_case_reference(reader, books):
    one, two = (case["reference"] for case in books.cases)

    rows = report(reader, group_by="case")

    assert rows == {
        (one, "EUR"): figures("3000.00", "100.00", "305.00", "400.00", "2195.00"),
        (one, "RUB"): figures("100000.00", "5000.00", "0.00", "20000.00", "75000.00"),
        (two, "EUR"): figures("2000.00", "0.00", "0.00", "1000.00", "1000.00"),
    }


def test_summary_by_month_counts_each_amount_in_the_month_it_happened(reader, books):
    rows = report(reader, group_by="month")

    assert rows == {
        ("2026-03", "EUR"): figures(
            "5000.00", "100.00", "305.00", "0.00", "4595.00", received="10000.00"
        ),
        ("2026-04", "EUR"): figures("0.00", "0.00", "0.00", "1400.00", "-1400.00", received="0.00"),
        ("2026-04", "RUB"): figures(
            "100000.00", "5000.00", "0.00", "20000.00", "75000.00", received="500000.00"
        ),
    }


def test_rejected_and_cancelled_money_counts_nowhere(reader, books):
    # 800.00 EUR rejected, 50.00 EUR cancelled and 3000.00 RUB rejected are in the books
    assert Disbursement.objects.filter(status__in=["rejected", "cancelled"]).count() == 3

    by_source = report(reader, group_by="source")
    committed = {
        key: sum(Decimal(row[name]) for name in ("requested", "approved", "paid"))
        for key, row in by_source.items()
    }

    assert committed == {
        (str(books.eur.pk), "EUR"): Decimal("1805.00"),
        (str(books.rub.pk), "RUB"): Decimal("25000.00"),
    }


# --- periods ---------------------------------------------------------------------------------


def test_the_period_includes_both_of_its_days(reader, books):
    rows = report(reader, group_by="source", **{"from": "2026-04-01", "to": "2026-04-12"})

    assert rows == {
        (str(books.eur.pk), "EUR"): {
            "source_name": "Winter appeal",
            **figures(
                "0.00", "0.00", "0.00", "400.00", "-400.00",
                received="0.00", unallocated="0.00",
            ),
        },
        (str(books.rub.pk), "RUB"): {
            "source_name": "Grant RU-17",
            **figures(
                "100000.00", "5000.00", "0.00", "0.00", "95000.00",
                received="500000.00", unallocated="400000.00",
            ),
        },
    }  # fmt: skip


def test_a_payment_at_midnight_belongs_to_the_next_day(reader, books):
    until_12 = report(reader, group_by="category", to="2026-04-12")
    from_13 = report(reader, group_by="category", **{"from": "2026-04-13", "to": "2026-04-13"})

    assert until_12[("housing", "EUR")]["paid"] == "0.00"
    assert from_13 == {("housing", "EUR"): figures("0.00", "0.00", "0.00", "1000.00", "-1000.00")}


def test_the_period_echoes_its_dates(reader, books):
    response = reader.get(SUMMARY_URL, {"from": "2026-03-01", "to": "2026-03-31"})

    body = response.json()
    assert (body["group_by"], body["from"], body["to"]) == ("source", "2026-03-01", "2026-03-31")
    assert [row["source_name"] for row in body["rows"]] == ["Winter appeal"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-04-02", "to": "2026-04-01"}, "to"),
        ({"group_by": "person"}, "group_by"),
        ({"group_by": "payee"}, "group_by"),
    ],
)
def test_bad_report_parameters_are_refused(reader, params, field):
    response = reader.get(SUMMARY_URL, params)

    assert response.status_code == 400
    assert field in error_fields(response)


# --- CSV -------------------------------------------------------------------------------------


def csv_rows(response: Any) -> tuple[list[str], list[dict[str, str]]]:
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    header, body = lines[0], lines[1:]
    return header, [dict(zip(header, line, strict=True)) for line in body]


@pytest.mark.parametrize("group_by", ["source", "category", "case", "month"])
def test_the_csv_has_a_header_and_the_same_figures_as_the_json(reader, books, group_by):
    params = {"group_by": group_by, "from": "2026-03-01", "to": "2026-04-30"}
    data = reader.get(SUMMARY_URL, params).json()["rows"]

    response = reader.get(SUMMARY_URL, {**params, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, rows = csv_rows(response)
    assert header == list(data[0])
    assert rows == [{name: str(value) for name, value in row.items()} for row in data]


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_but_amounts_stay_numbers(
    reader, books, staffing
):
    names = ['=HYPERLINK("x")', "+1", "@SUM(1)", "-2+3"]
    for name in names:
        a_source(staffing, name, "EUR", "10.00", "2026-04-05")

    response = reader.get(
        SUMMARY_URL, {"group_by": "source", "from": "2026-04-01", "format": "csv"}
    )

    _header, rows = csv_rows(response)
    shown = {row["source_name"] for row in rows}
    assert {"'" + name for name in names} <= shown
    assert not shown & set(names)
    winter = next(row for row in rows if row["source_name"] == "Winter appeal")
    assert winter["remaining"] == "-1400.00"
    assert winter["paid"] == "1400.00"


@pytest.mark.parametrize(
    ("params", "code"),
    [({"group_by": "person"}, 400), ({"from": "never"}, 400)],
)
def test_report_errors_are_json_even_when_csv_was_asked_for(reader, params, code):
    response = reader.get(SUMMARY_URL, {**params, "format": "csv"})

    assert response.status_code == code
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["status"] == code


# --- who may read ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.ADMIN])
def test_caseworkers_and_admins_read_no_report(make_staff, client_for, books, role):
    api = client_for(make_staff(role))
    transparency = f"/api/v1/funds/sources/{books.eur.pk}/transparency/"

    codes = [
        api.get(SUMMARY_URL).status_code,
        api.get(SUMMARY_URL, {"format": "csv"}).status_code,
        api.get(transparency).status_code,
    ]
    csv_refusal = api.get(SUMMARY_URL, {"format": "csv"})

    assert codes == [403, 403, 403]
    assert csv_refusal["Content-Type"].startswith("application/json")


# --- cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("group_by", ["source", "category", "case", "month"])
def test_the_report_query_count_does_not_grow_with_the_disbursements(
    reader, client, staffing, group_by
):
    case_id = open_case(client)["id"]
    source = a_source(staffing, "Appeal", "EUR", "100000.00", "2026-03-01")
    allocation = an_allocation(staffing, source, case_id, "food", "10000.00", "2026-03-02")

    def spend(count: int) -> None:
        for n in range(count):
            status = ("requested", "approved", "paid")[n % 3]
            a_disbursement(staffing, allocation, status, "10.00", asked="2026-03-03",
                           decided="2026-03-04")  # fmt: skip

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert reader.get(SUMMARY_URL, {"group_by": group_by}).status_code == 200
        return len(context.captured_queries)

    spend(3)
    few = queries()
    spend(27)
    many = queries()

    assert many == few
    assert allocation.disbursements.count() == 30


# --- the donor's view ------------------------------------------------------------------------


# --- Paid on a rate that was not ok ------------------------------------------------------------


def test_the_report_shows_per_group_what_was_paid_on_a_rate_that_was_not_ok(
    reader, books, staffing
):
    # Given three rouble payments from the euro source in May, against a reference of 0.0105:
    # one at the reference (ok), one requested before rates were checked, one 4.8% off it
    travel = books.allocations[0]
    rub = {"asked": "2026-05-04", "decided": "2026-05-05", "currency": "RUB"}
    a_disbursement(staffing, travel, "paid", "10000.00", rate="0.0105", **rub)  # 105.00 EUR
    legacy = a_disbursement(staffing, travel, "paid", "1000.00", rate="0.0105", **rub)  # 10.50
    Disbursement.objects.filter(pk=legacy.pk).update(rate_check="")
    off = money.disbursement_request(
        allocation=travel,
        requested_by=staffing.requester,
        terms=money.Terms(
            amount=Decimal("10000.00"),
            currency="RUB",
            purpose="Tickets",
            method="cash",
            payee=PAYEE,
            exchange_rate=Decimal("0.0110"),  # 110.00 EUR
            rate_source="The requester's bank",
            rate_date=datetime.date(2026, 5, 4),
        ),
    )
    assert off.rate_check == "outside_tolerance"
    money.disbursement_approve(disbursement=off, approver=staffing.approver)
    money.disbursement_approve(disbursement=off, approver=new_user(Role.COORDINATOR))
    money.disbursement_pay(disbursement=off, actor=staffing.approver, receipt_reference=RECEIPT)
    Disbursement.objects.filter(pk=off.pk).update(
        requested_at=at("2026-05-04"), approved_at=at("2026-05-05"), paid_at=at("2026-05-05")
    )

    # When the May report is read, as JSON and as CSV
    rows = report(reader, group_by="category", **{"from": "2026-05-01", "to": "2026-05-31"})
    response = reader.get(
        SUMMARY_URL, {"group_by": "category", "from": "2026-05-01", "format": "csv"}
    )

    # Then what was not checked ok counts there, in the source's currency, and nowhere else
    assert rows == {
        ("travel", "EUR"): figures(
            "0.00", "0.00", "0.00", "225.50", "-225.50", paid_rate_not_ok="120.50"
        )
    }
    _header, csv_lines = csv_rows(response)
    assert [(row["category"], row["paid_rate_not_ok"]) for row in csv_lines] == [
        ("travel", "120.50")
    ]


def test_transparency_shows_totals_per_category_and_nothing_about_people(reader, books, staffing):
    # The housing allocation is closed after its payment: what it did not spend goes back
    sources.allocation_close(allocation=books.allocations[1], actor=staffing.approver)

    response = reader.get(f"/api/v1/funds/sources/{books.eur.pk}/transparency/")

    assert response.status_code == 200
    body = response.json()
    assert body["source"] == {
        "id": str(books.eur.pk),
        "name": "Winter appeal",
        "kind": "grant",
        "currency": "EUR",
        "received": "10000.00",
        "received_on": "2026-03-01",
        "restricted_to": [],
    }
    assert body["categories"] == [
        {"category": "housing", "allocated": "1000.00", "reserved": "0.00", "paid": "1000.00",
         "cases": 1},
        {"category": "travel", "allocated": "3000.00", "reserved": "405.00", "paid": "400.00",
         "cases": 1},
    ]  # fmt: skip
    assert body["totals"] == {
        "allocated": "4000.00",
        "paid": "1400.00",
        "unallocated": "6000.00",
        "cases": 2,
    }
    dumped = json.dumps(body, ensure_ascii=False) + response.content.decode("utf-8")
    hidden = [PAYEE, RECEIPT, *PEOPLE, staffing.requester.username]
    for case in books.cases:
        hidden += [case["id"], case["reference"]]
    assert [text for text in hidden if text in dumped] == []


def test_transparency_counts_a_case_once_across_categories(reader, books, staffing):
    one = books.cases[0]["id"]
    an_allocation(staffing, books.rub, one, "housing", "1000.00", "2026-04-03")

    body = reader.get(f"/api/v1/funds/sources/{books.rub.pk}/transparency/").json()

    assert [(row["category"], row["cases"]) for row in body["categories"]] == [
        ("housing", 1),
        ("travel", 1),
    ]
    assert body["totals"]["cases"] == 1
    assert body["totals"]["allocated"] == "101000.00"


def test_transparency_of_an_unknown_source_is_404(reader):
    response = reader.get(
        "/api/v1/funds/sources/00000000-0000-4000-8000-000000000000/transparency/"
    )

    assert response.status_code == 404
