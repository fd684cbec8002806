"""`make run` records fictional demo money once, and only in development."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.roles import Role
from funds.models import Allocation, Disbursement, FundingSource

pytestmark = pytest.mark.django_db


def test_make_run_records_one_demo_source_allocation_and_request_once(make_staff):
    make_staff(Role.CASEWORKER, username="demo-caseworker")
    make_staff(Role.COORDINATOR, username="demo-coordinator")
    call_command("seed_demo_people")
    call_command("seed_demo_cases")

    call_command("seed_demo_funds")
    call_command("seed_demo_funds")

    source = FundingSource.objects.get()
    allocation = Allocation.objects.get()
    request = Disbursement.objects.select_related("allocation__case__data_key").get()
    assert source.allocated == allocation.amount
    assert allocation.reserved == request.amount_in_source_currency
    assert request.status == "requested"
    assert request.payee == "Fictional demo payee"


def test_demo_funds_are_refused_outside_development(settings, make_staff):
    settings.DEV_MODE = False

    with pytest.raises(CommandError, match="development"):
        call_command("seed_demo_funds")

    assert not FundingSource.objects.exists()


def test_demo_funds_need_the_demo_case_first(make_staff):
    with pytest.raises(CommandError, match="seed_demo_cases"):
        call_command("seed_demo_funds")
