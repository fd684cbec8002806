"""Reference exchange rates are append-only in the database too: a correction is a new rate,
never an edit, so the rate a request was checked against stays as it was (`audit.triggers`)."""

from __future__ import annotations

from audit.triggers import append_only_drop_statements, append_only_statements

RATE_TABLES = ("funds_referencerate",)
_FUNCTION = "funds_rate_refuse_change"


def create_statements(vendor: str) -> list[str]:
    return append_only_statements(
        vendor, function=_FUNCTION, tables=RATE_TABLES, what="the reference-rate table"
    )


def drop_statements(vendor: str) -> list[str]:
    return append_only_drop_statements(vendor, function=_FUNCTION, tables=RATE_TABLES)
