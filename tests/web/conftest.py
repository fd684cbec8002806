"""Fixtures for the web tests: one staff member per role, and a signed-in client maker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.web.helpers import signed_in_client


@pytest.fixture
def page_client_for(db) -> Callable[..., Client]:
    return signed_in_client
