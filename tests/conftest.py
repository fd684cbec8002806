"""Shared fixtures: staff members with real second factors, and API clients."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import BackupCodeDevice, SealedTOTPDevice, User
from accounts.models.devices import backup_code_digest
from accounts.roles import Role
from accounts.services import staff_create, token_issue
from audit import triggers as audit_triggers
from audit.chain import GENESIS_HASH
from funds import triggers as rate_triggers

LOGIN_URL = "/api/v1/auth/login/"


def current_totp(device: SealedTOTPDevice, steps_ahead: int = 0) -> str:
    """What the authenticator app holding `device`'s secret shows now (or later)."""
    totp = device.totp(at=time.time() + steps_ahead * device.step)
    return f"{totp.token():0{device.digits}d}"


@dataclass
class Staff:
    user: User
    password: str
    backup_codes: list[str]

    @property
    def device(self) -> SealedTOTPDevice:
        return SealedTOTPDevice.objects.select_related("data_key").get(user=self.user)

    def totp(self, steps_ahead: int = 0) -> str:
        """The code an authenticator app would show now (or `steps_ahead` 30 s steps later)."""
        return current_totp(self.device, steps_ahead=steps_ahead)

    def fresh_totp(self) -> str:
        """A code the server accepts now though this person may have stepped up already in this
        30-second step: the authenticator's next unused step within the tolerance (and, once
        all of them are used, the replay guard moved back, as if the next step had come)."""
        device = self.device
        now = int((time.time() - device.t0) // device.step) + device.drift
        # The current step or a later one: still inside the tolerance if the clock ticks over
        # before the server checks it.
        step = max(device.last_t + 1, now)
        if step > now + device.tolerance:
            step = now
            SealedTOTPDevice.objects.filter(pk=device.pk).update(last_t=step - 1)
        totp = device.totp(at=device.t0 + (step - device.drift + 0.5) * device.step)
        return f"{totp.token():0{device.digits}d}"

    def has_backup_code(self, code: str) -> bool:
        """Is `code` one of this person's backup codes, not spent yet?"""
        device = BackupCodeDevice.objects.get(user=self.user)
        digest = backup_code_digest(device_id=device.pk, code=code)
        return device.codes.filter(digest=digest).exists()

    def login_body(self, **overrides: str) -> dict[str, str]:
        body = {"username": self.user.username, "password": self.password}
        body.update(overrides)
        if "otp" not in body:
            body["otp"] = self.totp()
        return body


@pytest.fixture(autouse=True, scope="session")
def _owner_empties_audit_tables_between_transactional_tests() -> Iterator[None]:
    """Transactional tests end with a flush, which the append-only triggers (the audit log's,
    the reference rates') refuse. Between tests, the test database's owner drops the triggers,
    empties the tables and puts the triggers and the migrated baseline (the chain's genesis
    head, the roles) back: exactly the power the owner has in production too, and that the app
    role lacks."""
    ops_class = type(connection.ops)
    original = ops_class.sql_flush
    append_only = {*audit_triggers.APPEND_ONLY_TABLES, *rate_triggers.RATE_TABLES}

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not append_only & set(tables):
            return statements
        vendor = self.connection.vendor
        baseline = [
            "INSERT INTO audit_chainhead (id, sequence, prev_hash, entry_hash) "
            f"VALUES (1, 0, '{GENESIS_HASH}', '{GENESIS_HASH}')",
            *(f"INSERT INTO auth_group (name) VALUES ('{role}')" for role in Role.values),
        ]
        drops = [*audit_triggers.drop_statements(vendor), *rate_triggers.drop_statements(vendor)]
        creates = [
            *audit_triggers.create_statements(vendor),
            *rate_triggers.create_statements(vendor),
        ]
        return [*drops, *statements, *creates, *baseline]

    ops_class.sql_flush = sql_flush
    yield
    ops_class.sql_flush = original


@pytest.fixture(autouse=True)
def _chain_at_each_statement_in_tests_that_never_commit(request: pytest.FixtureRequest) -> None:
    """On PostgreSQL entries are chained when their transaction commits (a deferred constraint
    trigger). A test run inside a transaction that is rolled back at its end never commits, so
    there the same trigger is made to fire after each statement instead (SET CONSTRAINTS ...
    IMMEDIATE: the same function, earlier), and entries have their sequence at once."""
    if connection.vendor != "postgresql":
        return
    if not (
        request.node.get_closest_marker("django_db") or "_django_db_helper" in request.fixturenames
    ):
        return
    request.getfixturevalue("_django_db_helper")
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS audit_logentry_chain IMMEDIATE")


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


def pytest_collection_modifyitems(config, items) -> None:
    """Browser tests need Debian's Chromium and chromedriver; without them they are not run,
    and the summary says so in a plain line (never a silent pass)."""
    from tests.web.browser.support import missing_tools

    missing = missing_tools()
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    config._browser_tests = (len(browser_items), missing)
    if missing:
        reason = f"not installed: {', '.join(missing)}"
        for item in browser_items:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    from tests.web.browser.support import FIGURES

    count, missing = getattr(config, "_browser_tests", (0, []))
    if count and missing:
        terminalreporter.write_line(
            f"Browser tests NOT run ({count}): {', '.join(missing)} missing; "
            "install them with: apt-get install chromium chromium-driver"
        )
    if FIGURES:
        terminalreporter.section("web pages: weight on a first visit, server time, queries")
        for figures in FIGURES:
            terminalreporter.write_line(figures.line())
