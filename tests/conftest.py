"""Shared fixtures: staff members with real second factors, and API clients."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import staff_create, token_issue

LOGIN_URL = "/api/v1/auth/login/"


@dataclass
class Staff:
    user: User
    password: str
    backup_codes: list[str]

    @property
    def device(self) -> TOTPDevice:
        return TOTPDevice.objects.get(user=self.user)

    def totp(self, steps_ahead: int = 0) -> str:
        """The code an authenticator app would show now (or `steps_ahead` 30 s steps later)."""
        device = self.device
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + steps_ahead * device.step
        return f"{totp.token():0{device.digits}d}"

    def login_body(self, **overrides: str) -> dict[str, str]:
        body = {"username": self.user.username, "password": self.password, "otp": self.totp()}
        body.update(overrides)
        return body


@pytest.fixture(autouse=True)
def _fresh_shared_cache() -> None:
    # Redis outlives each test's database rollback; the database cache does not need this.
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        cache.clear()


@pytest.fixture
def make_staff(db) -> Callable[..., Staff]:
    counter = iter(range(1_000_000))

    def make(*roles: str, username: str | None = None) -> Staff:
        name = username or f"staff-{next(counter)}-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(18)
        user, enrolment = staff_create(
            username=name, roles=roles or ["caseworker"], password=password
        )
        return Staff(user=user, password=password, backup_codes=enrolment.backup_codes)

    return make


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[Staff | User], APIClient]:
    """An API client holding a fresh token for the staff member (issued without the login
    view, for tests about something other than logging in)."""

    def make(staff: Staff | User) -> APIClient:
        user = staff.user if isinstance(staff, Staff) else staff
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
        return client

    return make
