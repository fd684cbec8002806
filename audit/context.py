"""Who is acting, from where, in which request: read by every audit entry that is written.

Context variables, so concurrent requests in threads or tasks never see each other's actor.
The request middleware binds the client address and the correlation id; the token
authentication binds the actor once DRF has authenticated the request (which happens inside
the view, after every middleware has run).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditContext:
    actor: Any = None
    remote_addr: str | None = None
    cid: str | None = None
    client_request_id: str | None = None


_EMPTY = AuditContext()
_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "audit_context", default=None
)


def current() -> AuditContext:
    return _context.get() or _EMPTY


@contextmanager
def audit_context(**values: Any) -> Iterator[AuditContext]:
    """Bind actor, remote_addr, cid and/or client_request_id for the duration of the block."""
    bound = AuditContext(**{**current().__dict__, **values})
    token = _context.set(bound)
    try:
        yield bound
    finally:
        _context.reset(token)


def set_actor(actor: Any) -> None:
    """Name the actor for the rest of the current request (its middleware resets it)."""
    _context.set(AuditContext(**{**current().__dict__, "actor": actor}))
