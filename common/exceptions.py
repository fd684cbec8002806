"""Domain errors. Services raise these; one DRF exception handler turns them into JSON."""

from __future__ import annotations


class DomainError(Exception):
    """A request that is well formed but cannot be carried out."""

    status_code = 409
    code = "conflict"
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvariantViolation(DomainError):
    """A money or workflow rule would be broken (409)."""


class NotFound(DomainError):
    """The record does not exist or lies outside the caller's scope: the two look the same."""

    status_code = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)
