"""The European Central Bank's euro reference-rate CSV, in both of its layouts.

- daily (`eurofxref.csv`): a header `Date, USD, JPY, ...`, one row whose date reads
  `03 June 2021`, a space after each comma and a trailing comma;
- history (`eurofxref-hist.csv`): the same header without spaces, ISO dates, newest first, and
  `N/A` where a currency had no rate that day.

Each figure is units of that currency per 1 EUR. The operator downloads the file; nothing here
touches the network.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from common.money import parse_rate

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_LONG_DATE = re.compile(r"([0-9]{1,2}) ([A-Za-z]+) ([0-9]{4})")
_CODE = re.compile(r"[A-Z]{3}")
MISSING = ("N/A", "")


class EcbFileError(ValueError):
    """The file is not an ECB reference-rate CSV; the message names the line."""


@dataclass(frozen=True)
class EcbFigure:
    rate_date: datetime.date
    currency: str
    rate: Decimal  # units of `currency` per 1 EUR


@dataclass(frozen=True)
class EcbFile:
    figures: list[EcbFigure]
    missing: int  # `N/A` (or empty) cells skipped


def _date(text: str, line: int) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    match = _LONG_DATE.fullmatch(text)
    month = _MONTHS.get(match.group(2).lower()) if match else None
    if match is None or month is None:
        raise EcbFileError(f"Line {line}: {text!r} is not a date.")
    try:
        return datetime.date(int(match.group(3)), month, int(match.group(1)))
    except ValueError:
        raise EcbFileError(f"Line {line}: {text!r} is not a date.") from None


def parse(text: str) -> EcbFile:
    """Every figure in the file; raises `EcbFileError` for anything that is not the layout."""
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text)) if any(row)]
    if not rows or not rows[0] or rows[0][0] != "Date":
        raise EcbFileError("Line 1: the header must start with Date (an ECB reference-rate CSV).")
    header = rows[0][1:]
    while header and header[-1] == "":  # the trailing comma
        header.pop()
    for code in header:
        if not _CODE.fullmatch(code):
            raise EcbFileError(f"Line 1: {code!r} is not a currency code.")
    if len(set(header)) != len(header):
        raise EcbFileError("Line 1: a currency appears twice.")
    figures: list[EcbFigure] = []
    missing = 0
    for line, row in enumerate(rows[1:], start=2):
        cells = row[1:]
        while len(cells) > len(header) and cells[-1] == "":
            cells.pop()
        if len(cells) != len(header):
            raise EcbFileError(f"Line {line}: {len(cells)} figures for {len(header)} currencies.")
        day = _date(row[0], line)
        for code, cell in zip(header, cells, strict=True):
            if cell in MISSING:
                missing += 1
                continue
            try:
                rate = parse_rate(cell)
            except ValueError:
                raise EcbFileError(f"Line {line}: {code} {cell!r} is not a rate.") from None
            figures.append(EcbFigure(rate_date=day, currency=code, rate=rate))
    return EcbFile(figures=figures, missing=missing)
