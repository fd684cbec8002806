"""The disclosure layer's core: what one response reveals, and the ACCESS entries it writes.

What a response may show of a record (in clear, masked, or nothing because it was erased) is
decided by each app's disclosure module (`people.disclosure`, `cases.disclosure`,
`funds.disclosure`), beside its selectors: they turn a record the caller may see (the
selectors decide that) into a plain dict of values, and tell the response's `Disclosure`
exactly which records and fields they showed in clear. API serializers and page templates
only render those dicts. At the end of the response `DisclosureMiddleware` writes the ACCESS
entries from what was collected, before the response leaves: if they cannot be written, the
request fails and the data is not sent.

Skipping the layer does not go unnoticed. While a response is built, every encrypted value it
opens is noted (`encryption.opened`); a value of a governed model (one with personal data,
`govern()`) that was opened but not disclosed through the layer makes the response fail
(`UndisclosedRead`, a 500) instead of leaving without its entry.

A response that ends in an error (an exception in the view, or the API's error handler)
carries none of what was collected: nothing is written for it.

Use, in any view (DRF or plain Django):

    disclosure = disclosure_for(request)
    shown = person_disclosed(person, disclosure=disclosure)
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from audit.events import record_reads
from encryption.opened import Where, watching, where

logger = logging.getLogger(__name__)

MASKED = "[masked]"  # what a viewer who may not read a sealed value sees in its place

_governed: dict[str, frozenset[str]] = {}  # model label -> its fields the layer decides


class UndisclosedRead(Exception):
    """A response opened personal data the disclosure layer did not hand out (its message
    names fields and record ids, never values)."""


def govern(model: type[Model], *, fields: Iterable[str] | None = None) -> None:
    """Put `model`'s personal fields (by default every encrypted one) under the layer: a
    response that opens one without disclosing it fails. Called by each app's disclosure
    module; `tests/audit/test_disclosure_layer.py` checks that every model with an encrypted
    field is governed or deliberately internal."""
    if fields is None:
        fields = [f.name for f in model._meta.concrete_fields if hasattr(f, "plain_key")]
    _governed[model._meta.label_lower] = frozenset(fields)


def governed_fields(model: type[Model]) -> frozenset[str]:
    return _governed.get(model._meta.label_lower, frozenset())


class Disclosure:
    """What one response reveals to `viewer`, collected as it is built, written once.

    `reveal(record, fields)` notes that the response shows `fields` of `record` in clear
    (masked or erased values are not revealed and must not be noted). `flush()` writes one
    ACCESS entry naming every record revealed (the union of each one's fields, in the order
    first revealed) and empties the collection. Obtain the response's collector with
    `disclosure_for`; one made directly is still flushed by the middleware at the end of the
    response.
    """

    def __init__(self, *, viewer: Any) -> None:
        self.viewer = viewer
        self._revealed: dict[Where, tuple[Model, set[str]]] = {}
        self._memo: dict[str, Any] = {}
        scope = _scope.get()
        if scope is not None:
            scope.collectors.append(self)

    def reveal(self, instance: Model, fields: Iterable[str]) -> None:
        fields = set(fields)
        if not fields:
            return
        key = where(instance, "")[:2]
        _, shown = self._revealed.setdefault(key, (instance, set()))
        shown.update(fields)

    @property
    def pending(self) -> list[tuple[Model, frozenset[str]]]:
        """(record, fields) revealed and not written yet, in the order first revealed."""
        return [(instance, frozenset(shown)) for instance, shown in self._revealed.values()]

    def revealed_places(self) -> set[Where]:
        return {(*key, name) for key, (_, shown) in self._revealed.items() for name in shown}

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value computed once per response (e.g. which cases' payees the viewer reads)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def flush(self) -> None:
        """Write the ACCESS entries for what was revealed; raises if they cannot be written
        (the caller must then not send the data)."""
        pending, self._revealed = self.pending, {}
        if pending:
            record_reads(revealed=pending, actor=self.viewer)

    def discard(self) -> None:
        """Forget what was collected: the response will not carry it (it ended in an error)."""
        self._revealed = {}


@dataclass
class _ResponseScope:
    collectors: list[Disclosure] = field(default_factory=list)
    discarded: bool = False


_scope: contextvars.ContextVar[_ResponseScope | None] = contextvars.ContextVar(
    "disclosure_scope", default=None
)


def disclosure_for(request: Any) -> Disclosure:
    """The collector of the response to `request` (a Django HttpRequest or a DRF Request),
    made on first use and bound to the caller (`request.user` at that moment). The middleware
    writes its entries when the response is returned."""
    http = getattr(request, "_request", request)  # DRF's Request wraps Django's
    disclosure = getattr(http, "_disclosure", None)
    if disclosure is None:
        disclosure = http._disclosure = Disclosure(viewer=request.user)
    return disclosure


def discard_current_response() -> None:
    """The response being built is an error: what it collected is not sent, nor logged.
    Called by the API's exception handler and on any exception a view raises."""
    scope = _scope.get()
    if scope is not None:
        scope.discarded = True
        for collector in scope.collectors:
            collector.discard()


def flush_together(collectors: Iterable[Disclosure]) -> None:
    """Write what every collector of one response revealed as one ACCESS entry per viewer (one
    viewer per response in practice: one entry), and empty them; raises if it cannot be
    written (the response must then not be sent)."""
    by_viewer: dict[int, tuple[Any, list[tuple[Model, frozenset[str]]]]] = {}
    for collector in collectors:
        pending, collector._revealed = collector.pending, {}
        if pending:
            by_viewer.setdefault(id(collector.viewer), (collector.viewer, []))[1].extend(pending)
    for viewer, revealed in by_viewer.values():
        record_reads(revealed=revealed, actor=viewer)


class DisclosureMiddleware:
    """Holds a response's collectors; once the view returns, writes their ACCESS entries and
    refuses (500) a response that opened governed personal data the layer did not disclose."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = _ResponseScope()
        token = _scope.set(scope)
        try:
            with watching() as opened:
                response = self.get_response(request)
                if not scope.discarded:
                    revealed = set().union(*(c.revealed_places() for c in scope.collectors))
                    check_disclosed(opened, revealed)
                    flush_together(scope.collectors)
        finally:
            _scope.reset(token)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        discard_current_response()


def check_disclosed(opened: set[Where], revealed: set[Where]) -> None:
    """Raise UndisclosedRead when a governed value in `opened` is not in `revealed`."""
    missed = sorted(
        place
        for place in opened - revealed
        if place[0] in _governed and place[2] in _governed[place[0]]
    )
    if missed:
        label, pk, name = missed[0]
        raise UndisclosedRead(
            f"The response opened {label}.{name} of {pk} (and {len(missed) - 1} more) without "
            "disclosing it through the disclosure layer: it was not sent."
        )
