"""`make run` records fictional demo money once, and only in development."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.roles import Role
from funds.models import Allocation, Disbursement, FundingSource, ReferenceRate

pytestmark = pytest.mark.django_db


def test_make_run_records_one_demo_source_allocation_and_two_requests_once(make_staff, client_for):
    make_staff(Role.CASEWORKER, username="demo-caseworker")
    coordinator = make_staff(Role.COORDINATOR, username="demo-coordinator")
    call_command("seed_demo_people")
    call_command("seed_demo_cases")

    call_command("seed_demo_funds")
    call_command("seed_demo_funds")

    source = FundingSource.objects.get()
    allocation = Allocation.objects.get()
    requests = Disbursement.objects.select_related("allocation__case__data_key")
    waiting, approved = requests.get(status="requested"), requests.get(status="approved")
    assert source.allocated == allocation.amount
    assert allocation.reserved == (
        waiting.amount_in_source_currency + approved.amount_in_source_currency
    )
    assert waiting.payee == "Fictional demo payee"
    # Each of demo-coordinator's queues holds one of them.
    lead = client_for(coordinator)
    for awaiting, item in (("me", waiting), ("payment", approved)):
        listed = lead.get("/api/v1/funds/disbursements/", {"awaiting": awaiting}).json()
        assert [row["id"] for row in listed["results"]] == [str(item.pk)]


def test_the_demo_rates_let_a_rouble_request_through_for_demo_coordinator_to_approve(
    make_staff, client_for
):
    caseworker = make_staff(Role.CASEWORKER, username="demo-caseworker")
    coordinator = make_staff(Role.COORDINATOR, username="demo-coordinator")
    call_command("seed_demo_people")
    call_command("seed_demo_cases")
    call_command("seed_demo_funds")
    allocation = Allocation.objects.get()

    item = client_for(caseworker).post(
        "/api/v1/funds/disbursements/",
        {
            "allocation": str(allocation.pk),
            "amount": "5000.00",
            "currency": "RUB",
            "exchange_rate": "0.0105",
            "rate_source": "Exchange office",
            "rate_date": timezone.localdate().isoformat(),
            "purpose": "Fictional demo: train tickets",
            "method": "cash",
            "payee": "Fictional demo payee",
        },
    )
    approved = client_for(coordinator).post(
        f"/api/v1/funds/disbursements/{item.json()['id']}/approve/",
        {"otp": coordinator.totp()},
    )

    assert item.status_code == 201, item.json()
    assert item.json()["rate_check"] == "ok"
    assert approved.json()["status"] == "approved", approved.json()
    assert ReferenceRate.objects.filter(recorded_by__isnull=True).count() == 3


def test_demo_funds_are_refused_outside_development(settings, make_staff):
    settings.DEV_MODE = False

    with pytest.raises(CommandError, match="development"):
        call_command("seed_demo_funds")

    assert not FundingSource.objects.exists()


def test_demo_funds_need_the_demo_case_first(make_staff):
    with pytest.raises(CommandError, match="seed_demo_cases"):
        call_command("seed_demo_funds")
