"""The one parser for every date and time a client sends (`common.datetimes`)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.datetimes import datetime_error, parse_client_date, parse_client_datetime

UTC = datetime.UTC
NO_ZONE = "Give the time's zone: end it with Z (UTC) or an offset like +03:00."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T09:00:00Z", datetime.datetime(2026, 11, 24, 9, tzinfo=UTC)),
        ("2026-11-24T12:00+03:00", datetime.datetime(2026, 11, 24, 9, tzinfo=UTC)),
        ("2026-11-24 09:00:00.5z", datetime.datetime(2026, 11, 24, 9, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-24T00:00:00-14:00", datetime.datetime(2026, 11, 24, 14, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime.datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999Z", datetime.datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_a_time_with_its_zone_is_read_as_that_moment_in_utc(text, expected):
    value = parse_client_datetime(text)

    assert value == expected
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24T09:00:00",  # no zone
        "2026-11-24",  # a day is not a moment
        "0001-01-01T00:00:00+23:59",  # extreme offset (it was a 500)
        "9999-12-31T23:59:59-23:59",
        "2026-11-24T09:00:00+14:01",
        "2026-11-24T09:00:00+03:60",
        "0001-01-01T00:00:00+00:01",  # before the calendar's first moment in UTC
        "9999-12-31T23:00:00-02:00",  # after its last
        "2026-02-30T09:00:00Z",
        "2026-11-24T25:00:00Z",
        "\uff12\uff10\uff12\uff16-11-24T09:00:00Z",  # full-width digits
        "٢٠٢٦-11-24T09:00:00Z",  # Arabic-Indic digits
        "2026-11-24T09:00:00Z\n",
        "",
        "yesterday",
        "1e9",
    ],
)
def test_anything_else_is_a_value_error_with_a_fixed_message(text):
    with pytest.raises(ValueError, match=r"time|zone") as refused:
        parse_client_datetime(text)

    # One of a few fixed sentences: never the input (which may be anything) repeated back.
    assert str(refused.value) in {datetime_error(), NO_ZONE}


def test_a_plus_lost_in_a_query_string_is_explained():
    with pytest.raises(ValueError, match="%2B"):
        parse_client_datetime("2026-11-24T12:00:00 03:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24", datetime.date(2026, 11, 24)),
        ("0001-01-01", datetime.date.min),
        ("9999-12-31", datetime.date.max),
    ],
)
def test_a_date_is_read(text, expected):
    assert parse_client_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-02-30", "0000-01-01", "2026-13-01", "2026-1-1", "20261124", "2026-W48-2", "2026-11-24 "],
)
def test_a_date_that_does_not_exist_or_is_not_yyyy_mm_dd_is_refused(text):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_client_date(text)


@given(st.text(max_size=40))
def test_any_text_is_a_utc_moment_or_a_value_error(text):
    try:
        value = parse_client_datetime(text)
    except ValueError:
        return
    assert value.tzinfo is UTC


@given(
    st.datetimes(
        timezones=st.sampled_from(
            [UTC, datetime.timezone(datetime.timedelta(hours=-9, minutes=-30))]
        )
    )
)
def test_every_moment_written_in_iso_8601_reads_back(moment):
    try:
        expected = moment.astimezone(UTC)
    except OverflowError:
        return
    assert parse_client_datetime(moment.isoformat()) == expected
