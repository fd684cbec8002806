"""`manage.py seed_demo_funds`: a fictional donation, an allocation to the demo case, one
request waiting for approval, one approved and waiting to be paid, and reference rates dated
today (so a request in roubles or dollars can be tried), for `make run` (development only; run
`seed_demo`, `seed_demo_people` and `seed_demo_cases` first)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from cases.models import Case
from funds.ecb import EcbFigure
from funds.models import FundingSource
from funds.services.disbursements import Terms, disbursement_approve, disbursement_request
from funds.services.rates import ecb_rates_import
from funds.services.sources import allocation_create, source_create


class Command(BaseCommand):
    help = "Record a fictional source, allocation and request for the demo case. Dev only."

    def handle(self, *args, **options) -> None:
        if not settings.DEV_MODE:
            raise CommandError("Demo funds exist only in development mode (DJANGO_ENV).")
        caseworker = User.objects.filter(username="demo-caseworker").first()
        coordinator = User.objects.filter(username="demo-coordinator").first()
        case = Case.objects.filter(created_by=caseworker).order_by("created_at").first()
        if caseworker is None or coordinator is None or case is None:
            raise CommandError("Run seed_demo, seed_demo_people and seed_demo_cases first.")
        # Recorded as an import (nobody's entry), so demo-coordinator may approve a request
        # checked against them; fictional figures, labelled as such. Idempotent like an import.
        today = timezone.localdate()
        ecb_rates_import(
            figures=[
                EcbFigure(rate_date=today, currency=code, rate=Decimal(rate))
                for code, rate in (("RUB", "95.0000"), ("USD", "1.0500"), ("GBP", "0.8600"))
            ],
            rate_source="Fictional demo figures (not published by the ECB)",
        )
        if FundingSource.objects.filter(name="Demo winter appeal").exists():
            self.stdout.write("The demo funds already exist.")
            return
        source = source_create(
            created_by=coordinator,
            name="Demo winter appeal",
            kind=FundingSource.Kind.DONATION_CAMPAIGN,
            currency="EUR",
            amount_received=Decimal("5000.00"),
            received_on=datetime.date.today(),
            restricted_to=["travel", "housing"],
        )
        allocation = allocation_create(
            source=source,
            case=case,
            category="travel",
            amount=Decimal("800.00"),
            created_by=coordinator,
        )
        disbursement_request(
            allocation=allocation,
            requested_by=caseworker,
            terms=Terms(
                amount=Decimal("150.00"),
                currency="EUR",
                purpose="Fictional demo: bus tickets",
                method="cash",
                payee="Fictional demo payee",
            ),
        )
        # A second request, approved already, so the payment queue holds something too (in the
        # demo only: a real approval takes a fresh code in the API or on the page).
        approved = disbursement_request(
            allocation=allocation,
            requested_by=caseworker,
            terms=Terms(
                amount=Decimal("60.00"),
                currency="EUR",
                purpose="Fictional demo: a week of food",
                method="cash",
                payee="Fictional demo shop",
            ),
        )
        disbursement_approve(disbursement=approved, approver=coordinator)
        self.stdout.write(
            f"Recorded the demo source, an allocation to {case.reference}, a request for "
            "demo-coordinator to approve and an approved one waiting to be paid."
        )
