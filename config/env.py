"""Typed readers for environment variables that refuse nonsense.

`DJANGO_DEBUG=maybe` is a configuration error, not False: a typo in a security setting must
stop the server, never silently pick a default. Every secret can also be given as `NAME_FILE`
(a path whose contents are the value), so it never has to sit in the process environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's value, or `NAME_FILE`'s contents, or `default`; blank counts as unset."""
    value = os.environ.get(name, "").strip()
    file_path = os.environ.get(f"{name}_FILE", "").strip()
    if value and file_path:
        raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
    if file_path:
        try:
            value = Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points to {file_path!r}, which cannot be read ({exc.strerror})."
            ) from None
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE points to an empty file.")
    return value or default


def env_required(name: str) -> str:
    value = env_str(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) must be set.")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: Iterable[str] = ()) -> list[str]:
    value = env_str(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, choices: Iterable[str], default: str) -> str:
    allowed = sorted(choices)
    value = env_str(name, default) or default
    if value not in allowed:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as `10/min`."""
    value = env_str(name, default) or default
    count, _, period = value.partition("/")
    if not count.isdigit() or period not in {"s", "sec", "m", "min", "h", "hour", "d", "day"}:
        raise ImproperlyConfigured(f"{name} must look like 10/min, not {value!r}.")
    return value


def env_decimal(name: str, default: str) -> Decimal:
    """A non-negative decimal written plainly (`1000`, `250.50`), never `1e3` or `-1`."""
    value = env_str(name, default) or default
    if not re.fullmatch(r"[0-9]{1,15}(\.[0-9]{1,4})?", value):
        raise ImproperlyConfigured(f"{name} must be a plain non-negative amount, not {value!r}.")
    return Decimal(value)


def env_decimal_map(name: str) -> dict[str, Decimal]:
    """`RUB:90000,USD:1100`: a decimal per upper-case code, each written as `env_decimal` wants."""
    result: dict[str, Decimal] = {}
    for item in env_list(name):
        code, _, amount = item.partition(":")
        code = code.strip()
        if not re.fullmatch(r"[A-Z]{3}", code) or not re.fullmatch(
            r"[0-9]{1,15}(\.[0-9]{1,4})?", amount.strip()
        ):
            raise ImproperlyConfigured(f"{name} must look like RUB:90000,USD:1100, not {item!r}.")
        if code in result:
            raise ImproperlyConfigured(f"{name} names {code} twice.")
        result[code] = Decimal(amount.strip())
    return result


def env_url(name: str) -> str | None:
    """An absolute `https://` (or `http://`) address with a host, or None when unset."""
    value = env_str(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if (
        parts.scheme not in {"https", "http"}
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise ImproperlyConfigured(f"{name} must be an absolute https:// address, not {value!r}.")
    return value
