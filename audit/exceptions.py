"""Errors of the audit log."""


class AuditError(RuntimeError):
    """The audit log could not be written as required; the change must not go ahead."""
