"""Domain errors. Services raise these; one DRF exception handler turns them into JSON."""

from __future__ import annotations


class DomainError(Exception):
    """A request that is well formed but cannot be carried out."""

    status_code = 409
    code = "conflict"
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        message = str(message)  # a lazy translation, in the language of the request raising it
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


class InvalidInput(DomainError):
    """Well-formed input that a rule only the service can check (it needs the database) refuses:
    a 400 naming the field, in the shape of a validation error."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, extra={"fields": {field: [message]}})


class Forbidden(DomainError):
    """The caller lost the right to do this while the request was under way (403)."""

    status_code = 403
    code = "permission_denied"
