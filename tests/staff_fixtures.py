"""Staff and API clients the case and funds tests share: a caseworker (`client` is theirs) and
a coordinator (`lead` is theirs). Imported by those packages' conftest files."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from tests.conftest import Staff


@pytest.fixture
def caseworker(make_staff) -> Staff:
    return make_staff(Role.CASEWORKER)


@pytest.fixture
def client(caseworker, client_for) -> APIClient:
    return client_for(caseworker)


@pytest.fixture
def coordinator(make_staff) -> Staff:
    return make_staff(Role.COORDINATOR)


@pytest.fixture
def lead(coordinator, client_for) -> APIClient:
    return client_for(coordinator)
