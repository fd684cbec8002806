"""CSV for the summary report (`?format=csv`), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from rest_framework.renderers import BaseRenderer

# A cell starting with one of these is a formula to Excel and LibreOffice: a source named
# `=HYPERLINK(...)` must stay text (OWASP's CSV injection advice: prefix a quote).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # an amount (a negative one too) stays a number


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class CSVRenderer(BaseRenderer):
    """Renders `{"rows": [{...}, ...]}` as a header line and one line per row."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        rows = data.get("rows", []) if isinstance(data, dict) else []
        columns: list[str] = []
        for row in rows:
            columns.extend(name for name in row if name not in columns)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(name)) for name in columns])
        return out.getvalue().encode(self.charset)
