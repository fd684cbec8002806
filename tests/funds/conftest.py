"""Staff and API clients the funds tests share: those of tests/staff_fixtures.py, plus a second
coordinator (four-eyes) and an auditor."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.conftest import Staff
from tests.staff_fixtures import caseworker, client, coordinator, lead

__all__ = ["auditor", "caseworker", "client", "coordinator", "lead", "second_coordinator"]


@pytest.fixture
def second_coordinator(make_staff) -> Staff:
    return make_staff(Role.COORDINATOR)


@pytest.fixture
def auditor(make_staff) -> Staff:
    return make_staff(Role.AUDITOR)
