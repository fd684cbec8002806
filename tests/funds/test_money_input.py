"""Money as clients send it: amounts, currencies and exchange rates.

Anything but a plain decimal string within the currency's precision is refused with a 400 that
names the field, on every endpoint that takes an amount, and nothing is stored; what is
accepted is stored exactly and shown with exactly the currency's minor digits. The properties
run on `common.money` and the source serializer (no database); a few cases go through the API.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import staff_create, token_issue
from common.money import MAX_AMOUNT, format_amount, parse_amount, precision
from funds.api import SourceSerializer
from funds.models import Allocation, Disbursement, FundingSource
from tests.cases.helpers import error_fields, open_case
from tests.funds.helpers import (
    ALLOCATIONS_URL,
    DISBURSEMENTS_URL,
    SOURCES_URL,
    a_request,
    a_source,
    allocate,
    create_source,
    disbursement_url,
    record_rate,
    request_money,
)

pytestmark = pytest.mark.django_db

BOUNDED = hypothesis_settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

BAD_AMOUNTS: list[Any] = [
    "-12",
    "-0.01",
    "0",
    "0.00",
    "1e3",
    "1E3",
    " 12",
    "12 ",
    "+12",
    "0x10",
    "NaN",
    "Infinity",
    "-Infinity",
    "1,000.00",
    "1 000",
    "\uff11\uff12",  # full-width digits
    "",
    "1000000000000",  # the exclusive maximum
    "9" * 40,
    12,
    12.5,
    0,
    True,
    False,
    None,
    ["12"],
    {"amount": "12"},
]
OVER_PRECISE = [("EUR", "10.001"), ("JPY", "10.5"), ("KWD", "1.0001")]
BAD_CURRENCIES: list[Any] = ["XXX", "EURO", "eur", "", 978, None, ["EUR"]]
BAD_RATES: list[Any] = [
    "0",
    "0.0",
    "-1",
    "1e-3",
    0.5,
    1,
    "0.12345678901",  # eleven places
    "NaN",
    "",
    " 0.5",
    "0.5\n",
    "1000000000",  # a billion: the exclusive maximum
]
RATE_TERMS = {
    "exchange_rate": "0.0101",
    "rate_source": "ECB reference rate",
    "rate_date": "2026-11-20",
}
LARGE = {"EUR": "100000.00", "JPY": "10000000", "KWD": "10000.000"}
SMALL = {"EUR": "120.00", "JPY": "120", "KWD": "1.200"}


def refused(response: Any, field: str) -> bool:
    return response.status_code == 400 and field in error_fields(response)


def client_of(role: str) -> APIClient:
    user, _enrolment = staff_create(
        username=f"{role}-{secrets.token_hex(4)}", roles=[role], password=secrets.token_hex(16)
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
    return api


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """A coordinator, a caseworker with a case, and a large allocation to the case from a
    source in each of EUR, JPY and KWD: built once, rolled back when the module is done (each
    test's savepoint undoes its own writes)."""
    with django_db_blocker.unblock(), transaction.atomic():
        lead, client = client_of(Role.COORDINATOR), client_of(Role.CASEWORKER)
        case_id = open_case(client)["id"]
        books = {}
        for currency, amount in LARGE.items():
            source = create_source(lead, currency=currency, amount=amount)
            books[currency] = allocate(lead, source["id"], case_id, amount=amount)
        yield {"lead": lead, "client": client, "case_id": case_id, "books": books}
        transaction.set_rollback(True)


@pytest.fixture
def lead(world: dict[str, Any]) -> APIClient:
    return world["lead"]


@pytest.fixture
def client(world: dict[str, Any]) -> APIClient:
    return world["client"]


@pytest.fixture
def case_id(world: dict[str, Any]) -> str:
    return world["case_id"]


@pytest.fixture
def books(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return world["books"]


def nothing_reserved() -> bool:
    return not Allocation.objects.exclude(reserved=0).exists()


# --- the grammar, as properties --------------------------------------------------------------

CURRENCIES = st.sampled_from(["EUR", "USD", "RUB", "JPY", "CLP", "KWD", "BHD"])


@st.composite
def amount_texts(draw: st.DrawFn, currency: str) -> str:
    """A canonical positive amount within `currency`'s precision: no leading zeros."""
    whole = draw(st.integers(min_value=0, max_value=int(MAX_AMOUNT) - 1))
    places = draw(st.integers(min_value=0, max_value=precision(currency)))
    fraction = "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=places, max_size=places))
    )
    text = str(whole) + (f".{fraction}" if fraction else "")
    if Decimal(text) == 0:
        text = "1" if precision(currency) == 0 else "0." + "0" * (precision(currency) - 1) + "1"
    return text


@BOUNDED
@given(data=st.data(), currency=CURRENCIES)
def test_parse_amount_is_exact_and_format_amount_round_trips(data, currency):
    text = data.draw(amount_texts(currency))

    amount = parse_amount(text, currency)
    shown = format_amount(amount, currency)

    assert amount == Decimal(text)
    whole, _, fraction = text.partition(".")
    places = precision(currency)
    assert shown == (f"{whole}.{fraction.ljust(places, '0')}" if places else whole)
    assert parse_amount(shown, currency) == amount


def plain_decimal(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", value) is not None


DECORATED = st.builds(
    lambda prefix, body, suffix: prefix + body + suffix,
    st.sampled_from(["", " ", "\t", "+", "-", "0x", "\u00a0"]),
    st.sampled_from(["12", "1500.00", "0.5", "1"]),
    st.sampled_from(["", " ", "\t", "\n", "e3", "E-2", ",00", "_0", "."]),
).filter(lambda text: not plain_decimal(text))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=5,
)


@BOUNDED
@given(value=DECORATED | JSON_VALUES, currency=CURRENCIES)
@example(value="12\n", currency="EUR")
def test_anything_but_a_plain_decimal_string_is_refused_on_the_amount(value, currency):
    body = SourceSerializer(data=a_source(currency=currency, amount=value))

    accepted = body.is_valid()

    if not plain_decimal(value):
        assert not accepted
        assert "amount" in body.errors
    elif accepted:
        amount = body.validated_data["amount_received"]
        assert amount == Decimal(value)
        assert 0 < amount < MAX_AMOUNT
        assert amount == amount.quantize(Decimal(1).scaleb(-precision(currency)))


def test_an_amount_followed_by_a_newline_is_refused(lead):
    with pytest.raises(ValueError, match="digits"):
        parse_amount("12\n", "EUR")

    response = lead.post(SOURCES_URL, a_source(amount="1500.00\n"))

    assert refused(response, "amount")
    assert FundingSource.objects.count() == len(LARGE)


# --- refused on every endpoint ---------------------------------------------------------------


def test_source_create_refuses_every_bad_amount(lead):
    tries = [("EUR", value) for value in BAD_AMOUNTS] + OVER_PRECISE

    let_through = [
        (currency, value)
        for currency, value in tries
        if not refused(lead.post(SOURCES_URL, a_source(currency=currency, amount=value)), "amount")
    ]

    assert let_through == []
    assert FundingSource.objects.count() == len(LARGE)


def test_allocation_create_refuses_every_bad_amount(lead, case_id):
    sources = {
        currency: create_source(lead, currency=currency, amount=amount)["id"]
        for currency, amount in LARGE.items()
    }  # new sources with nothing allocated yet
    tries = [("EUR", value) for value in BAD_AMOUNTS] + OVER_PRECISE

    let_through = [
        (currency, value)
        for currency, value in tries
        if not refused(
            lead.post(
                ALLOCATIONS_URL,
                {
                    "source": sources[currency],
                    "case": case_id,
                    "category": "travel",
                    "amount": value,
                },
            ),
            "amount",
        )
    ]

    assert let_through == []
    assert not Allocation.objects.filter(source_id__in=sources.values()).exists()
    assert not FundingSource.objects.filter(pk__in=sources.values()).exclude(allocated=0).exists()


def test_disbursement_create_refuses_every_bad_amount(client, books):
    tries = [("EUR", value) for value in BAD_AMOUNTS] + OVER_PRECISE

    let_through = [
        (currency, value)
        for currency, value in tries
        if not refused(
            client.post(
                DISBURSEMENTS_URL,
                a_request(books[currency]["id"], currency=currency, amount=value),
            ),
            "amount",
        )
    ]

    assert let_through == []
    assert not Disbursement.objects.exists()
    assert nothing_reserved()


def test_disbursement_patch_refuses_every_bad_amount_and_keeps_the_request(client, books):
    items = {
        currency: request_money(
            client, books[currency]["id"], currency=currency, amount=SMALL[currency]
        )["id"]
        for currency in books
    }
    tries = [("EUR", value) for value in BAD_AMOUNTS] + OVER_PRECISE

    let_through = [
        (currency, value)
        for currency, value in tries
        if not refused(client.patch(disbursement_url(items[currency]), {"amount": value}), "amount")
    ]

    assert let_through == []
    for currency, item_id in items.items():
        stored = Disbursement.objects.select_related("allocation").get(pk=item_id)
        assert stored.amount == Decimal(SMALL[currency])
        assert stored.allocation.reserved == Decimal(SMALL[currency])


def test_source_patch_refuses_bad_and_over_precise_amounts(lead):
    source = create_source(lead, currency="JPY", amount="150000")

    let_through = [
        value
        for value in [*BAD_AMOUNTS, "10.5"]
        if not refused(lead.patch(f"{SOURCES_URL}{source['id']}/", {"amount": value}), "amount")
    ]

    assert let_through == []
    assert FundingSource.objects.get(pk=source["id"]).amount_received == Decimal(150000)


def test_changing_a_source_currency_refuses_an_amount_finer_than_the_new_currency(lead):
    # Given a source of 100.50 EUR with nothing allocated yet
    source = create_source(lead, currency="EUR", amount="100.50")

    # When only its currency is changed to one without minor units
    response = lead.patch(f"{SOURCES_URL}{source['id']}/", {"currency": "JPY"})

    # Then it is refused: 100.50 JPY does not exist, and would be shown as "100"
    assert response.status_code == 400
    stored = FundingSource.objects.get(pk=source["id"])
    assert (stored.currency, stored.amount_received) == ("EUR", Decimal("100.50"))


def test_changing_a_request_currency_refuses_an_amount_finer_than_the_new_currency(client, books):
    item = request_money(client, books["EUR"]["id"], amount="120.50")

    response = client.patch(
        disbursement_url(item["id"]),
        {"currency": "JPY", **RATE_TERMS, "exchange_rate": "0.0062"},
    )

    assert refused(response, "amount")
    stored = Disbursement.objects.get(pk=item["id"])
    assert (stored.currency, stored.amount) == ("EUR", Decimal("120.50"))


# --- accepted, exactly -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "sent", "shown"),
    [
        ("EUR", "1500", "1500.00"),
        ("EUR", "1500.00", "1500.00"),
        ("EUR", "0.01", "0.01"),
        ("JPY", "1500", "1500"),
        ("KWD", "1.234", "1.234"),
        ("KWD", "2", "2.000"),
    ],
)
def test_plain_amounts_are_stored_exactly_and_shown_with_the_currency_digits(
    lead, client, case_id, currency, sent, shown
):
    source = create_source(lead, currency=currency, amount=sent)
    allocation = allocate(lead, source["id"], case_id, amount=sent)
    item = request_money(client, allocation["id"], currency=currency, amount=sent)

    assert (source["amount"], source["remaining"]) == (shown, shown)
    assert (allocation["amount"], allocation["remaining"]) == (shown, shown)
    assert (item["amount"], item["amount_in_source_currency"]) == (shown, shown)
    assert Disbursement.objects.get(pk=item["id"]).amount == Decimal(sent)
    again = lead.get(f"{ALLOCATIONS_URL}{allocation['id']}/").json()
    assert (again["reserved"], again["remaining"]) == (shown, format_amount(Decimal(0), currency))


def test_the_largest_amount_below_the_maximum_is_accepted(lead):
    source = create_source(lead, amount="999999999999.99")

    assert source["amount"] == "999999999999.99"
    assert FundingSource.objects.get(pk=source["id"]).amount_received == Decimal("999999999999.99")


# --- currencies and exchange rates -----------------------------------------------------------


def test_unknown_currencies_are_refused_on_sources_and_requests(lead, client, books):
    let_through = [
        currency
        for currency in BAD_CURRENCIES
        if not refused(lead.post(SOURCES_URL, a_source(currency=currency)), "currency")
        or not refused(
            client.post(
                DISBURSEMENTS_URL, a_request(books["EUR"]["id"], currency=currency, **RATE_TERMS)
            ),
            "currency",
        )
    ]

    assert let_through == []
    assert FundingSource.objects.count() == len(LARGE)
    assert not Disbursement.objects.exists()


def test_a_payment_in_another_currency_without_its_rate_is_refused(client, books):
    bare = client.post(DISBURSEMENTS_URL, a_request(books["EUR"]["id"], currency="RUB"))
    partial = client.post(
        DISBURSEMENTS_URL,
        a_request(books["EUR"]["id"], currency="RUB", exchange_rate="0.0101"),
    )

    assert bare.status_code == 400
    assert {"exchange_rate", "rate_source", "rate_date"} <= set(error_fields(bare))
    assert partial.status_code == 400
    assert {"rate_source", "rate_date"} <= set(error_fields(partial))
    assert not Disbursement.objects.exists()
    assert nothing_reserved()


@pytest.mark.parametrize(
    ("source_currency", "amount", "currency", "rate", "in_source"),
    [
        ("EUR", "1234.56", "RUB", "0.0101", "12.47"),  # 12.469056
        ("JPY", "10.01", "EUR", "161.55", "1617"),  # 1617.1155
        ("KWD", "100.00", "EUR", "0.3333", "33.330"),
    ],
)
def test_a_payment_in_another_currency_reserves_its_converted_amount(
    client, books, source_currency, amount, currency, rate, in_source
):
    record_rate(currency, source_currency, rate)

    response = client.post(
        DISBURSEMENTS_URL,
        a_request(
            books[source_currency]["id"],
            amount=amount,
            currency=currency,
            **{**RATE_TERMS, "exchange_rate": rate},
        ),
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["currency"]) == (amount, currency)
    assert (body["amount_in_source_currency"], body["source_currency"]) == (
        in_source,
        source_currency,
    )
    assert body["exchange_rate"] == rate
    reserved = Allocation.objects.get(pk=books[source_currency]["id"]).reserved
    assert reserved == Decimal(in_source)


def test_a_rate_for_a_payment_in_the_source_currency_is_refused(client, books):
    response = client.post(DISBURSEMENTS_URL, a_request(books["EUR"]["id"], **RATE_TERMS))

    assert refused(response, "exchange_rate")
    assert not Disbursement.objects.exists()


def test_bad_exchange_rates_are_refused(client, books):
    let_through = [
        rate
        for rate in BAD_RATES
        if not refused(
            client.post(
                DISBURSEMENTS_URL,
                a_request(
                    books["EUR"]["id"], currency="RUB", **{**RATE_TERMS, "exchange_rate": rate}
                ),
            ),
            "exchange_rate",
        )
    ]

    assert let_through == []
    assert not Disbursement.objects.exists()
    assert nothing_reserved()


def test_changing_the_payment_currency_needs_a_rate_for_the_new_currency(client, books):
    # Given a request paid in roubles at a rouble rate
    record_rate("RUB", "EUR", "0.0101")
    item = request_money(
        client, books["EUR"]["id"], amount="10000.00", currency="RUB", **RATE_TERMS
    )

    # When the currency becomes US dollars without a new rate
    response = client.patch(disbursement_url(item["id"]), {"currency": "USD"})

    # Then the rouble rate is not applied to dollars
    assert refused(response, "exchange_rate")
    stored = Disbursement.objects.get(pk=item["id"])
    assert (stored.currency, stored.amount_in_source_currency) == ("RUB", Decimal("101.00"))
