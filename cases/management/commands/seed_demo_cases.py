"""`manage.py seed_demo_cases`: one fictional case for demo-caseworker, around the demo people,
for `make run` (development only; run `seed_demo` and `seed_demo_people` first)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from cases.models import Case, NeedCategory, RiskLevel
from cases.services import Member, case_create, need_create, note_create
from people.models import Person


class Command(BaseCommand):
    help = "Open one fictional case for demo-caseworker. Development only."

    def handle(self, *args, **options) -> None:
        if not settings.DEV_MODE:
            raise CommandError("Demo cases exist only in development mode (DJANGO_ENV).")
        caseworker = User.objects.filter(username="demo-caseworker").first()
        people = list(Person.objects.filter(created_by=caseworker).order_by("created_at")[:2])
        if caseworker is None or len(people) < 2:
            raise CommandError("Run seed_demo and seed_demo_people first.")
        if Case.objects.filter(created_by=caseworker).exists():
            self.stdout.write("The demo case already exists.")
            return
        case = case_create(
            created_by=caseworker,
            primary_person=people[0],
            members=[Member(person=people[1], relationship="partner")],
            risk_level=RiskLevel.HIGH,
            protection_concerns=["in_hiding"],
            summary="Fictional demo case.",
            location="Fictional demo location.",
            safe_contact="Fictional: messenger only, after 18:00.",
            consent_to_store=True,
        )
        need_create(
            case=case, created_by=caseworker, category=NeedCategory.TRAVEL, description="Demo."
        )
        note_create(case=case, author=caseworker, body="Fictional demo note.")
        self.stdout.write(f"Opened demo case {case.reference} for demo-caseworker.")
