"""Reference exchange rates: recorded by coordinators, imported from the ECB's CSV, append-only,
audited, and chosen for a request by the rules of `funds/rates.py` (latest date; the ECB first
on a date; inverse and cross rates derived; the requester's own rates never count).

The ECB files in `tests/fixtures/` keep the two layouts the bank publishes: the daily file
(`eurofxref.csv`: one row, `03 June 2021`, spaces after commas, a trailing comma) and the
history file (`eurofxref-hist.csv`: ISO dates, newest first, `N/A` where a currency had no rate).
The 3 June 2021 figures are the ones the ECB published that day; the other history rows are
made up.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, LogEntry
from funds.ecb import EcbFigure
from funds.models import ReferenceRate
from funds.rates import reference_for
from funds.services.rates import ecb_rates_import
from tests.cases.helpers import error_fields
from tests.funds.helpers import RATES_URL, record_rate

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DAILY = FIXTURES / "ecb-eurofxref-daily-sample.csv"
HISTORY = FIXTURES / "ecb-eurofxref-hist-sample.csv"
JUNE_3 = datetime.date(2021, 6, 3)


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


def a_rate(**overrides: str) -> dict[str, str]:
    body = {
        "from_currency": "RUB",
        "to_currency": "EUR",
        "rate": "0.0105",
        "rate_date": today().isoformat(),
        "rate_source": "Central Bank of Russia, official rate",
    }
    body.update(overrides)
    return body


def import_file(path: Path) -> str:
    out = io.StringIO()
    call_command("import_rates", str(path), stdout=out)
    return out.getvalue()


def ecb(currency: str, rate: str, on: datetime.date) -> None:
    ecb_rates_import(figures=[EcbFigure(rate_date=on, currency=currency, rate=Decimal(rate))])


# --- Recorded by a coordinator ---------------------------------------------------------------


def test_a_coordinator_records_a_rate_and_the_log_says_so(lead, coordinator):
    response = lead.post(RATES_URL, a_rate())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("from_currency", "to_currency", "rate", "origin")} == {
        "from_currency": "RUB",
        "to_currency": "EUR",
        "rate": "0.0105",
        "origin": "manual",
    }
    assert body["recorded_by"] == coordinator.user.username
    entry = LogEntry.objects.get(object_pk=body["id"], action=Action.CREATE)
    assert entry.actor_id == coordinator.user.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rate_date": "TOMORROW"}, "rate_date"),  # a rate for a day still to come
        ({"to_currency": "RUB"}, "to_currency"),  # no pair
        ({"from_currency": "XYZ"}, "from_currency"),
        ({"to_currency": "DEM"}, "to_currency"),
        ({"rate": "0"}, "rate"),
        ({"rate": 0.0105}, "rate"),  # a JSON number went through a float
        ({"rate": "0.00000000001"}, "rate"),  # finer than the 10 places kept
        ({"rate_source": ""}, "rate_source"),
        ({"origin": "ecb"}, "origin"),  # only an import is the ECB's
        ({"recorded_by": "someone-else"}, "recorded_by"),
    ],
)
def test_a_bad_rate_is_refused_and_nothing_is_recorded(lead, overrides, field):
    if overrides.get("rate_date") == "TOMORROW":
        overrides = {"rate_date": (today() + datetime.timedelta(days=1)).isoformat()}

    response = lead.post(RATES_URL, a_rate(**overrides))

    assert response.status_code == 400, response.json()
    assert field in error_fields(response)
    assert not ReferenceRate.objects.exists()


def test_caseworkers_read_rates_but_cannot_record_one(client, lead):
    lead.post(RATES_URL, a_rate())

    listed = client.get(RATES_URL)
    refused = client.post(RATES_URL, a_rate(rate="0.0200"))

    assert [item["rate"] for item in listed.json()["results"]] == ["0.0105"]
    assert refused.status_code == 403
    assert ReferenceRate.objects.count() == 1


def test_the_list_filters_by_currency_and_refuses_a_bad_filter(lead):
    lead.post(RATES_URL, a_rate())
    lead.post(RATES_URL, a_rate(from_currency="USD", to_currency="RUB", rate="95.5"))

    by_from = lead.get(RATES_URL, {"from_currency": "USD"}).json()["results"]
    by_to = lead.get(RATES_URL, {"to_currency": "EUR"}).json()["results"]
    bad = lead.get(RATES_URL, {"to_currency": "euro"})

    assert [(r["from_currency"], r["to_currency"]) for r in by_from] == [("USD", "RUB")]
    assert [(r["from_currency"], r["to_currency"]) for r in by_to] == [("RUB", "EUR")]
    assert bad.status_code == 400
    assert "to_currency" in error_fields(bad)


# --- Append-only -----------------------------------------------------------------------------


def test_a_rate_cannot_be_changed_or_deleted_through_the_model(coordinator):
    rate = record_rate("RUB", "EUR", "0.0105", by=coordinator.user)

    rate.rate = Decimal("0.0200")
    with pytest.raises(TypeError, match="append-only"):
        rate.save()
    with pytest.raises(TypeError, match="append-only"):
        rate.delete()
    with pytest.raises(TypeError, match="append-only"):
        ReferenceRate.objects.filter(pk=rate.pk).update(rate=Decimal("0.0200"))
    with pytest.raises(TypeError, match="append-only"):
        ReferenceRate.objects.filter(pk=rate.pk).delete()
    assert ReferenceRate.objects.get(pk=rate.pk).rate == Decimal("0.0105")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE funds_referencerate SET rate = 0.02",
        "DELETE FROM funds_referencerate",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_rate(coordinator, statement):
    # What a DBA or a bug with raw SQL would try; the app's own guards are bypassed here.
    rate = record_rate("RUB", "EUR", "0.0105", by=coordinator.user)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert ReferenceRate.objects.get(pk=rate.pk).rate == Decimal("0.0105")


# --- Imported from the ECB -------------------------------------------------------------------


def test_the_daily_file_is_imported_as_euro_rates_recorded_by_nobody():
    output = import_file(DAILY)

    rates = {rate.to_currency: rate for rate in ReferenceRate.objects.all()}
    assert "Imported 15 rate(s)" in output
    assert "BGN, HRK" in output  # no longer legal tender: nothing could be paid in them
    assert set(rates) == {
        *[
            "USD",
            "JPY",
            "CZK",
            "DKK",
            "GBP",
            "HUF",
            "PLN",
            "RON",
            "SEK",
            "CHF",
            "ISK",
            "NOK",
            "RUB",
            "TRY",
            "AUD",
        ]
    }
    assert rates["USD"].rate == Decimal("1.2187")
    assert rates["GBP"].rate == Decimal("0.85955")
    assert {(r.from_currency, r.rate_date, r.origin, r.recorded_by_id) for r in rates.values()} == {
        ("EUR", JUNE_3, "ecb", None)
    }
    assert LogEntry.objects.filter(action=Action.CREATE, object_pk=str(rates["USD"].pk)).exists()


def test_the_history_file_skips_na_and_a_second_import_adds_nothing():
    first = import_file(HISTORY)
    count = ReferenceRate.objects.count()
    second = import_file(HISTORY)
    daily = import_file(DAILY)  # its 3 June figures are the history's: only the others are new

    assert "Imported 14 rate(s); 0 were there already; 2 N/A figure(s) skipped." in first
    assert count == 14
    assert "Imported 0 rate(s); 14 were there already" in second
    assert "Imported 10 rate(s); 5 were there already" in daily
    assert ReferenceRate.objects.filter(to_currency="TRY").count() == 2  # not on 1999-01-04
    assert ReferenceRate.objects.get(to_currency="RUB", rate_date="1999-01-04").rate == Decimal(
        "25.2875"
    )


def test_a_file_contradicting_an_earlier_import_imports_nothing(tmp_path):
    import_file(DAILY)
    forged = tmp_path / "forged.csv"
    forged.write_text("Date,USD,CHF,\n2021-06-03,1.5000,1.0961,\n2021-06-02,1.2200,1.0980,\n")

    with pytest.raises(CommandError, match=r"EUR/USD of 2021-06-03"):
        import_file(forged)

    assert ReferenceRate.objects.count() == 15
    assert not ReferenceRate.objects.filter(rate_date="2021-06-02").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Currency,USD\n2021-06-03,1.2\n", "header must start with Date"),
        ("Date,USD,usd\n2021-06-03,1.2,1.3\n", "not a currency code"),
        ("Date,USD\n3 Juin 2021,1.2\n", "not a date"),
        ("Date,USD\n2021-06-03,1.2,1.3,1.4\n", "figures for 1 currencies"),
        ("Date,USD\n2021-06-03,-1.2\n", "is not a rate"),
        ("Date,USD\n2021-06-03,1e3\n", "is not a rate"),
        ("Date,USD\nTOMORROW,1.2\n", "after the day it is recorded"),
    ],
)
def test_a_file_that_is_not_the_ecb_layout_imports_nothing(tmp_path, content, message):
    tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
    path = tmp_path / "rates.csv"
    path.write_text(content.replace("TOMORROW", tomorrow))

    with pytest.raises(CommandError, match=message):
        import_file(path)

    assert not ReferenceRate.objects.exists()


def test_an_import_runs_no_network_call(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the import tried to open a network connection")

    monkeypatch.setattr("socket.socket.connect", refuse)

    assert "Imported 15 rate(s)" in import_file(DAILY)


# --- Which reference a request gets --------------------------------------------------------


def test_the_latest_rate_wins_and_on_one_date_the_ecb_wins_over_a_hand_entered_rate(
    make_staff, caseworker
):
    keeper = make_staff(Role.COORDINATOR).user
    record_rate("EUR", "USD", "1.30", on=days_ago(1), by=keeper)
    ecb("USD", "1.05", days_ago(1))  # same date: the ECB's figure
    ecb("USD", "1.04", days_ago(3))  # older than a hand-entered one of a later date
    record_rate("EUR", "USD", "1.20", on=days_ago(2), by=keeper)

    chosen = reference_for(
        paid_currency="EUR", source_currency="USD", on=today(), requester=caseworker.user
    )

    assert (chosen.rate, chosen.rate_date) == (Decimal("1.05"), days_ago(1))
    assert chosen.recorder_ids == frozenset()


def test_a_hand_entered_rate_newer_than_the_ecbs_latest_is_used(make_staff, caseworker):
    keeper = make_staff(Role.COORDINATOR).user
    ecb("USD", "1.05", days_ago(3))
    newer = record_rate("EUR", "USD", "1.07", on=days_ago(1), by=keeper)

    chosen = reference_for(
        paid_currency="EUR", source_currency="USD", on=today(), requester=caseworker.user
    )

    assert (chosen.rate, chosen.rate_ids, chosen.recorder_ids) == (
        Decimal("1.07"),
        (str(newer.pk),),
        frozenset({keeper.pk}),
    )


def test_inverse_and_cross_rates_are_derived_from_the_ecbs_figures_of_one_day(caseworker):
    ecb("USD", "1.25", days_ago(1))
    ecb("GBP", "0.80", days_ago(1))
    ecb("JPY", "160", days_ago(2))  # another day: no USD figure to cross it with

    inverse = reference_for(
        paid_currency="USD", source_currency="EUR", on=today(), requester=caseworker.user
    )
    cross = reference_for(
        paid_currency="USD", source_currency="GBP", on=today(), requester=caseworker.user
    )
    none = reference_for(
        paid_currency="JPY", source_currency="USD", on=today(), requester=caseworker.user
    )

    assert (inverse.rate, inverse.source.startswith("1 / EUR/USD 1.25")) == (Decimal("0.8"), True)
    assert cross.rate == Decimal("0.64")  # (GBP per EUR) / (USD per EUR): GBP per USD
    assert len(cross.rate_ids) == 2
    assert none is None


def test_rates_recorded_by_the_requester_count_for_nothing_even_derived(caseworker, make_staff):
    requester = make_staff(Role.COORDINATOR).user
    record_rate("EUR", "RUB", "95", by=requester)  # its inverse would be RUB -> EUR

    direct = reference_for(
        paid_currency="EUR", source_currency="RUB", on=today(), requester=requester
    )
    inverse = reference_for(
        paid_currency="RUB", source_currency="EUR", on=today(), requester=requester
    )
    for_someone_else = reference_for(
        paid_currency="RUB", source_currency="EUR", on=today(), requester=caseworker.user
    )

    assert (direct, inverse) == (None, None)
    assert for_someone_else.rate == Decimal("0.0105263158")  # 1/95, to the 10 places kept
