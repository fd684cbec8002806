"""Which encrypted values a piece of work opened: the disclosure layer's witness.

While `watching()` is active (the disclosure middleware holds it open for one response), every
read of a stored encrypted value is noted by where it lives: (model label, primary key, field
name), never by its value. The disclosure layer compares this with what it was asked to show,
so a view that reads personal data past the layer is caught before its response leaves.
Outside a watched block (management commands, a service called from a shell) nothing is noted.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Where = tuple[str, str, str]  # (model label, primary key, field name)

_opened: contextvars.ContextVar[set[Where] | None] = contextvars.ContextVar(
    "encryption_opened", default=None
)


def where(instance: Any, field_name: str) -> Where:
    """The key a value of `field_name` on `instance` is noted under (its concrete model)."""
    return (instance._meta.concrete_model._meta.label_lower, str(instance.pk), field_name)


@contextmanager
def watching() -> Iterator[set[Where]]:
    """Note every value opened inside the block; yields the (live) set of their places."""
    opened: set[Where] = set()
    token = _opened.set(opened)
    try:
        yield opened
    finally:
        _opened.reset(token)


def note_opened(instance: Any, field_name: str) -> None:
    opened = _opened.get()
    if opened is not None:
        opened.add(where(instance, field_name))


@contextmanager
def unshown() -> Iterator[None]:
    """Open values inside the block without noting them: only for work whose values never
    reach a response (the readiness probe recomputing a blind index from its source). Every
    use is a claim a reviewer must be able to check at a glance; keep the block small."""
    token = _opened.set(None)
    try:
        yield
    finally:
        _opened.reset(token)
