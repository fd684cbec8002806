"""Logs an operator can read, and that never carry a personal value, key or token.

- Every line has the request id (common.middleware.RequestIdLogFilter).
- `LOG_FORMAT=plain` (one line per record) or `json` (one JSON object per line, built by
  python-json-logger), chosen in config/settings.py.
- A traceback shows where a failure happened, never what it said: an exception's text may
  quote the request (a database error repeats the row it refused, a parser the value it could
  not read), so the formatters print each exception's type and frames and withhold its message.
- `RepeatFilter`: the same failure repeated (an outage answering every request the same way)
  is written once per `window` seconds per process, the next line saying how many were held.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from types import TracebackType
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def format_exception_safely(exc_info: ExcInfo) -> str:
    """The traceback of `exc_info` (its causes and contexts too) with every message withheld."""
    lines: list[str] = []
    seen: set[int] = set()
    _append_chain(exc_info[1], lines, seen)
    return "".join(lines).rstrip("\n")


def _append_chain(exc: BaseException, lines: list[str], seen: set[int]) -> None:
    seen.add(id(exc))
    earlier = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if earlier is not None and id(earlier) not in seen:
        _append_chain(earlier, lines, seen)
        lines.append(
            "\nThe above exception was the direct cause of the following exception:\n\n"
            if exc.__cause__ is not None
            else "\nDuring handling of the above exception, another exception occurred:\n\n"
        )
    lines.append("Traceback (most recent call last):\n")
    lines.extend(traceback.format_tb(exc.__traceback__))
    kind = type(exc)
    lines.append(f"{kind.__module__}.{kind.__qualname__} (message withheld)\n")


class SafeFormatter(logging.Formatter):
    """The plain one-line format, with tracebacks whose messages are withheld."""

    def formatException(self, ei: Any) -> str:
        return format_exception_safely(ei)


# Only these record attributes, plus plain-valued extras, reach a JSON line: Django attaches the
# request object itself to its records, and its text would include the query string.
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
_PLAIN_TYPES = (str, int, float, bool, type(None))


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, request id, message, the traceback (as
    SafeFormatter writes it) and any extra whose value is a plain string or number."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", _JSON_FIELDS)
        super().__init__(*args, **kwargs)

    def formatException(self, ei: Any) -> str:
        return format_exception_safely(ei)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in log_data.items() if isinstance(value, _PLAIN_TYPES)}


class RepeatFilter(logging.Filter):
    """Lets the same warning or error (logger, level, message template, exception type)
    through once per `window` seconds per process; the next one that passes says how many
    were held back. Records below WARNING always pass."""

    def __init__(self, window: float = 60.0) -> None:
        super().__init__()
        self.window = window
        self._lock = threading.Lock()
        self._seen: dict[tuple[Any, ...], list[float | int]] = {}

    def forget(self) -> None:
        """Start afresh, as if nothing had been logged yet."""
        with self._lock:
            self._seen.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        key = (record.name, record.levelno, str(record.msg), kind)
        now = time.monotonic()
        with self._lock:
            entry = self._seen.get(key)
            if entry is not None and now - entry[0] < self.window:
                entry[1] += 1
                return False
            held = int(entry[1]) if entry is not None else 0
            self._seen[key] = [now, 0]
            if len(self._seen) > 1000:  # a bound on memory, not a policy
                self._seen = {key: self._seen[key]}
        if held:
            record.msg = f"{record.msg} ({held} identical messages held back)"
        return True
