"""The OpenAPI document tells the truth: schemathesis generates requests from it (valid and
invalid ones), sends them to the app in process, as each role, and runs all its checks on every
answer (no 500, a documented status, content type and headers, a body matching the schema,
invalid data refused, valid data accepted, authentication not ignored, ...).

Marked `schemathesis`: CI runs it in the PostgreSQL pass only (`.ci/run`). A fixed seed and a
bounded number of examples per operation keep it reproducible and within a few minutes.

Excluded by name, and only these (the README says why):
- step-up actions and `auth/login/`, `auth/enrol/`, `auth/enrol/confirm/`, `auth/password/`:
  they need a one-time code no generator can produce, and wrong codes would revoke the fuzzing
  token or lock the account;
- `auth/logout/` and `auth/logout-all/`: they end the fuzzing token.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import User
from accounts.roles import Role
from accounts.services import token_issue

# django_db: the generated tests name no fixture, so pytest-django must be told they use it.
pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

SCHEMA_PATH = "/api/v1/schema/"
SEED = 20261130
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6"))
ROLES = [Role.CASEWORKER, Role.COORDINATOR, Role.AUDITOR, Role.ADMIN]

# Operations that need a fresh one-time code (a step-up), log in or enrol: no generator can
# produce a valid code, and wrong ones revoke the token (step-up) or lock the account.
NEEDS_ONE_TIME_CODE = [
    "POST /api/v1/auth/login/",
    "POST /api/v1/auth/enrol/",
    "POST /api/v1/auth/enrol/confirm/",
    "POST /api/v1/auth/password/",
    "POST /api/v1/cases/{id}/erase/",
    "POST /api/v1/people/{id}/erase/",
    "POST /api/v1/funds/disbursements/{id}/approve/",
    "POST /api/v1/funds/disbursements/{id}/pay/",
    "POST /api/v1/staff/",
    "POST /api/v1/staff/{id}/deactivate/",
    "POST /api/v1/staff/{id}/reactivate/",
    "POST /api/v1/staff/{id}/reset-second-factor/",
    "POST /api/v1/staff/{id}/revoke-tokens/",
    "POST /api/v1/staff/{id}/roles/",
    "POST /api/v1/staff/{id}/unlock/",
    "POST /api/v1/staff/changes/{id}/approve/",
    "POST /api/v1/staff/changes/{id}/reject/",
]
# They end the token the fuzzing runs on.
ENDS_THE_TOKEN = ["POST /api/v1/auth/logout/", "POST /api/v1/auth/logout-all/"]
EXCLUDED = NEEDS_ONE_TIME_CODE + ENDS_THE_TOKEN

# `positive_data_acceptance` (a request the schema allows must not be a 400) cannot hold on
# these by design: what makes the request valid is not a shape a schema can state. Every other
# check runs on them.
VALID_SHAPE_NOT_ENOUGH = {
    # Another role than a coordinator asking for `erased=true`, `assigned_to=<someone>` or
    # `awaiting=`: a 400 naming the filter (the issue asks for that answer; the schema is one
    # for every role).
    "GET /api/v1/cases/": "coordinators' filters",
    "GET /api/v1/needs/": "coordinators' filters",
    "GET /api/v1/people/": "coordinators' filters",
    "GET /api/v1/funds/disbursements/": "coordinators' filters",
    # A body naming records by id: an id that is not (or not for you) a record is a 400 on that
    # field ("No such case."), never a 404, which would name the address itself.
    "POST /api/v1/cases/": "ids of records in the body",
    "POST /api/v1/funds/allocations/": "ids of records in the body; the amount's precision",
    "POST /api/v1/funds/disbursements/": "ids of records in the body; the amount's precision",
    # An amount must be more than zero and within its currency's minor digits (JPY none, KWD
    # three): the currency is another field.
    "POST /api/v1/funds/sources/": "the amount's precision depends on the currency",
    "POST /api/v1/funds/rates/": "the two currencies must differ; the rate's date is checked",
    # A phone number must be one libphonenumber accepts.
    "POST /api/v1/people/": "phone numbers",
    "POST /api/v1/people/duplicates/": "phone numbers",
    # `from` must not be after `to`, and both within 1900 to 9999.
    "GET /api/v1/funds/reports/summary/": "the period's two dates",
}

SENT: Counter[str] = Counter()
SENT_TO: Counter[str] = Counter()


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES_PER_OPERATION},
        }
    )


@pytest.fixture(scope="module")
def tokens(request, django_db_setup, django_db_blocker) -> Iterator[dict[str, str]]:
    """The demo data (`make run`'s) and a bearer token per role, made once for the module
    inside a transaction that is rolled back at its end; each test runs in a savepoint."""
    started = time.monotonic()
    # The app runs in this process and thread, on the test's connection: Django must not close
    # it at the end of each request (its own test client unhooks the same handlers).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            for command in ("seed_demo", "seed_demo_people", "seed_demo_cases", "seed_demo_funds"):
                call_command(command, stdout=_Discard())
            yield {
                role: token_issue(user=User.objects.get(username=f"demo-{role}")).token
                for role in ROLES
            }
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            reporter = request.config.pluginmanager.get_plugin("terminalreporter")
            capture = request.config.pluginmanager.get_plugin("capturemanager")
            with capture.global_and_fixture_disabled():
                _report(reporter, time.monotonic() - started)


def _report(reporter, seconds: float) -> None:
    reporter.write_line("")
    for role, count in SENT.items():
        reporter.write_line(f"schemathesis: {count} requests as {role}")
    reporter.write_line(f"schemathesis: {seconds:.0f} s in all, {time.process_time():.0f} s CPU")
    for label, count in SENT_TO.most_common(5):
        reporter.write_line(f"schemathesis: {count} requests to {label} (the most)")


class _Discard:
    def write(self, *args: object, **kwargs: object) -> None:
        pass


def _the_schema() -> schemathesis.schemas.BaseSchema:
    """The document `schema/` serves (generated here, at collection, where no database may be
    used; a test below checks it is the one served), sent to the app in process."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
    schema = schemathesis.openapi.from_dict(document, config=_config())
    schema.app = get_wsgi_application()
    return schema.exclude(name=EXCLUDED)


schema = _the_schema()


@pytest.fixture(autouse=True)
def _rates_lifted(settings) -> None:
    """The fuzzing must be refused for what it sends, never because it sends a lot: the general
    and the duplicate-check rates are lifted for it (each is tested on its own elsewhere)."""
    settings.API_THROTTLE_RATE = "1000000/min"
    settings.DUPLICATE_CHECK_RATE = "1000000/min"


def _fuzzing_as(role: str):
    @schema.parametrize()
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def test(case, tokens) -> None:
        SENT[role] += 1
        SENT_TO[case.operation.label] += 1
        excluded = []
        if case.operation.label in VALID_SHAPE_NOT_ENOUGH:
            excluded.append(positive_data_acceptance)
        case.call_and_validate(
            headers={"Authorization": f"Bearer {tokens[role]}"}, excluded_checks=excluded
        )

    test.__name__ = f"test_every_answer_as_{role}_matches_the_schema"
    return test


test_every_answer_as_caseworker_matches_the_schema = _fuzzing_as(Role.CASEWORKER)
test_every_answer_as_coordinator_matches_the_schema = _fuzzing_as(Role.COORDINATOR)
test_every_answer_as_auditor_matches_the_schema = _fuzzing_as(Role.AUDITOR)
test_every_answer_as_admin_matches_the_schema = _fuzzing_as(Role.ADMIN)


def test_the_fuzzed_schema_is_the_one_served(tokens) -> None:
    served = schemathesis.openapi.from_wsgi(SCHEMA_PATH, get_wsgi_application()).raw_schema
    assert served == schema.raw_schema


def test_the_exclusions_are_exactly_the_operations_that_need_a_code() -> None:
    """Every operation whose body takes a password or a one-time code is excluded, and nothing
    else is (besides the two logouts)."""
    raw = schema.raw_schema
    components = raw["components"]["schemas"]
    needs_code = []
    for path, operations in raw["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not body:
                continue
            component = components[body["schema"]["$ref"].rsplit("/", 1)[-1]]
            if {"otp", "password"} & set(component.get("properties", {})):
                needs_code.append(f"{method.upper()} {path}")
    assert sorted(needs_code) == sorted(NEEDS_ONE_TIME_CODE)
