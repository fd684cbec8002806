"""Step-up from the attacker's side: a stolen token sending wrong codes loses the token and
leaves its owner's login untouched; one replay guard covers login and step-up."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction

from accounts.models import SealedTOTPDevice, TokenRecord
from accounts.roles import Role
from accounts.services import token_issue
from audit.models import Action, LogEntry
from funds.models import Disbursement
from funds.services.disbursements import disbursement_request
from tests.accounts.helpers import a_wrong_code, in_other_process, login
from tests.concurrency import run_at_once
from tests.funds.helpers import disbursement_url, funded_case, terms

LIMIT = settings.STEP_UP_FAILURE_LIMIT


@pytest.fixture
def waiting_request(make_staff):
    """A request by a caseworker, waiting for a coordinator's approval."""
    caseworker, coordinator = make_staff(Role.CASEWORKER), make_staff(Role.COORDINATOR)
    with transaction.atomic():
        _, allocation = funded_case(caseworker.user, coordinator.user, "step-up")
        item = disbursement_request(
            allocation=allocation, requested_by=caseworker.user, terms=terms("Payee A")
        )
    return coordinator, item


def approve(client, item, otp: str):
    return client.post(disbursement_url(item.pk, "approve/"), {"otp": otp}, format="json")


@pytest.mark.django_db
def test_twenty_wrong_step_up_codes_revoke_the_token_and_leave_the_login_throttle_untouched(
    waiting_request, client_for
):
    # Given a coordinator's token in an attacker's hands
    coordinator, item = waiting_request
    stolen = client_for(coordinator)
    wrong = a_wrong_code(coordinator)

    # When it sends twenty wrong codes to approve/
    answers = [approve(stolen, item, wrong) for _ in range(20)]

    # Then the token dies at the limit, nothing moves, and the owner logs in as ever
    statuses = [answer.status_code for answer in answers]
    assert statuses == [403] * (LIMIT - 1) + [401] * (20 - LIMIT + 1)
    assert answers[LIMIT - 1].json()["code"] == "token_revoked"
    assert answers[0].json()["attempts_left"] == LIMIT - 1
    assert Disbursement.objects.get(pk=item.pk).status == "requested"
    device = SealedTOTPDevice.objects.get(user=coordinator.user)
    assert (device.throttling_failure_count, device.throttling_failure_timestamp) == (0, None)
    assert login(coordinator.login_body(), "10.7.0.1").status_code == 200


@pytest.mark.django_db
def test_wrong_step_up_codes_are_audited_and_the_revocation_too(waiting_request, client_for):
    coordinator, item = waiting_request
    client = client_for(coordinator)

    for _ in range(LIMIT):
        approve(client, item, a_wrong_code(coordinator))

    failed = LogEntry.objects.filter(action=Action.STEP_UP_FAILED).order_by("sequence")
    revoked = LogEntry.objects.filter(action=Action.TOKEN_REVOKED).get()
    assert [entry.additional_data["failures"] for entry in failed] == list(range(1, LIMIT + 1))
    assert all(entry.actor == coordinator.user for entry in failed)
    assert revoked.additional_data == {"count": 1, "reason": "step-up failures"}


@pytest.mark.django_db
def test_a_right_code_resets_the_count_and_each_token_counts_its_own(waiting_request, client_for):
    coordinator, item = waiting_request
    first, second = client_for(coordinator), client_for(coordinator)
    for _ in range(LIMIT - 1):
        approve(first, item, a_wrong_code(coordinator))

    other_token = approve(second, item, a_wrong_code(coordinator))
    right = approve(first, item, coordinator.fresh_totp())

    assert other_token.json()["attempts_left"] == LIMIT - 1
    assert right.status_code == 200
    counts = sorted(TokenRecord.objects.values_list("step_up_failures", flat=True))
    assert counts == [0, 1]


@pytest.mark.django_db
def test_a_code_used_to_log_in_is_refused_at_step_up_and_the_other_way_round(
    waiting_request, api_client, client_for
):
    coordinator, item = waiting_request
    code = coordinator.totp()

    logged_in = login(coordinator.login_body(otp=code), "10.7.1.1")
    client = client_for(coordinator)
    replayed_at_step_up = approve(client, item, code)
    later = coordinator.totp(1)
    stepped_up = approve(client, item, later)
    replayed_at_login = login(coordinator.login_body(otp=later), "10.7.1.2")

    assert logged_in.status_code == 200
    assert replayed_at_step_up.status_code == 403
    assert stepped_up.status_code == 200
    assert replayed_at_login.status_code == 401


@pytest.mark.django_db
def test_step_up_takes_no_backup_code(waiting_request, client_for):
    coordinator, item = waiting_request

    response = approve(client_for(coordinator), item, coordinator.backup_codes[0])

    assert response.status_code == 403
    assert coordinator.has_backup_code(coordinator.backup_codes[0])


@pytest.mark.django_db(transaction=True)
def test_the_step_up_count_is_shared_between_worker_processes(waiting_request):
    coordinator, item = waiting_request
    token = token_issue(user=coordinator.user).token
    wrong = {"otp": a_wrong_code(coordinator)}
    path = disbursement_url(item.pk, "approve/")

    first = in_other_process("10.7.2.1", [wrong] * 2, path=path, bearer=token)
    second = in_other_process("10.7.2.2", [wrong] * (LIMIT - 2), path=path, bearer=token)

    assert [status for status, _ in first + second] == [403] * (LIMIT - 1) + [401]
    assert second[-1] == [401, "token_revoked"]


@pytest.mark.django_db(transaction=True)
def test_wrong_codes_sent_at_once_on_one_token_are_each_counted(waiting_request, client_for):
    coordinator, item = waiting_request
    client = client_for(coordinator)
    wrong = a_wrong_code(coordinator)

    responses = run_at_once(*(lambda: approve(client, item, wrong) for _ in range(LIMIT)))

    assert sorted(r.status_code for r in responses) == [401] + [403] * (LIMIT - 1)
    assert not TokenRecord.objects.exists()  # revoked with its token
