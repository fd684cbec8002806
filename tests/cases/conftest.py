"""Staff and API clients the case tests share (see tests/staff_fixtures.py)."""

from tests.staff_fixtures import caseworker, client, coordinator, lead

__all__ = ["caseworker", "client", "coordinator", "lead"]
