"""Fixtures for the encryption tests: a staff member who records people."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from people.models import Person
from people.services import person_create


@pytest.fixture
def recorder(make_staff) -> User:
    return make_staff("caseworker").user


@pytest.fixture
def new_person(recorder) -> Callable[..., Person]:
    def make(**fields: Any) -> Person:
        return person_create(created_by=recorder, **fields)

    return make
