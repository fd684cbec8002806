"""The one parser for every date and time a client sends, in a query string or a body.

    parse_client_date("2026-11-24")                 -> date(2026, 11, 24)
    parse_client_datetime("2026-11-24T09:00+03:00") -> datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

A date is `YYYY-MM-DD`; a time is `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` followed by `Z` or an offset
`+HH:MM`/`-HH:MM` (a space may stand for the `T`). Anything else is refused with a
`ValueError` whose message is safe to show (it never repeats the input):

- a time without a zone: the database would read it in a zone of its own choosing;
- an offset beyond ±14:00, the widest any place on Earth uses (UTC+14, Kiribati): larger ones
  are typing errors, and near the ends of the calendar they push the time off it (the 500 that
  `0001-01-01T00:00:00+23:59` used to cause);
- a day or time that does not exist (`2026-02-30`, `25:00`), or a time whose zone puts it
  before the calendar's first moment or after its last in UTC (`9999-12-31T23:00-02:00`).

Dates run from 0001-01-01 to 9999-12-31: a client may name the calendar's ends to mean "from
the start" or "until the end", and the code that reads them is written for those ends.

A `+` in a query string arrives as a space unless it is written `%2B`; the message says so.
"""

from __future__ import annotations

import datetime
import re

from django.utils.translation import gettext as _

MAX_OFFSET = datetime.timedelta(hours=14)

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\Z", re.ASCII)
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<oh>\d{2}):(?P<om>\d{2}))?\Z",
    re.ASCII,  # \d is 0-9 only: int() would also read other scripts' digits
)
# What is left when a query string's `+` turned into a space: "...09:00:00 03:00".
_LOST_PLUS = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)? \d{2}:\d{2}\Z"
)


def date_error() -> str:
    return _("Use a date that exists, written YYYY-MM-DD.")


def datetime_error() -> str:
    return _(
        "Use an ISO 8601 time that exists, with its zone, e.g. 2026-11-24T09:00:00Z or "
        "2026-11-24T12:00:00+03:00 (offsets up to 14:00)."
    )


def parse_client_date(text: str) -> datetime.date:
    """`YYYY-MM-DD`, a day that exists, or ValueError with a safe message."""
    match = _DATE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(date_error())
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:  # 2026-02-30, month 13, year 0
        raise ValueError(date_error()) from None


def parse_client_datetime(text: str) -> datetime.datetime:
    """An ISO 8601 time with its zone, as an aware datetime in UTC, or ValueError with a safe
    message (see the module's docstring for what is refused)."""
    match = _DATETIME.match(text) if isinstance(text, str) else None
    if match is None:
        if isinstance(text, str) and _LOST_PLUS.match(text):
            raise ValueError(
                _("The time's '+' arrived as a space: write it %(encoded)s in a query string.")
                % {"encoded": "%2B"}
            )
        raise ValueError(datetime_error())
    if match["utc"] is None and match["sign"] is None:
        raise ValueError(_("Give the time's zone: end it with Z (UTC) or an offset like +03:00."))
    year, month, day, hour, minute, second, fraction = match.groups()[:7]
    offset = datetime.timedelta(0)
    if match["sign"] is not None:
        hours, minutes = int(match["oh"]), int(match["om"])
        if minutes >= 60:
            raise ValueError(datetime_error())
        offset = datetime.timedelta(hours=hours, minutes=minutes)
        if offset > MAX_OFFSET:
            raise ValueError(datetime_error())
        if match["sign"] == "-":
            offset = -offset
    try:
        local = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=datetime.timezone(offset),
        )
        return local.astimezone(datetime.UTC)
    except (ValueError, OverflowError):  # 2026-02-30, 25:00, or a zone that leaves the calendar
        raise ValueError(datetime_error()) from None
