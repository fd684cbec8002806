"""`manage.py seed_demo_cases`: one fictional case for demo-caseworker, around the demo people,
and one intake demo-coordinator opened that nobody works on yet, so each queue holds something
(`needs/?status=open&assigned_to=me`, `cases/?assigned_to=none`, `staff/directory/`), for
`make run` (development only; run `seed_demo` and `seed_demo_people` first)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from cases.models import Case, NeedCategory, RiskLevel
from cases.services import Member, case_create, need_create, note_create
from people.models import Person
from people.services import person_create


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
        coordinator = User.objects.filter(username="demo-coordinator").first()
        if coordinator is not None:
            self.open_unassigned_intake(coordinator)

    def open_unassigned_intake(self, coordinator: User) -> None:
        """A case a coordinator opened from a helpline call: nobody is assigned to it yet."""
        person = person_create(
            created_by=coordinator,
            full_name="Demo Person Three",
            notes="Fictional demo record.",
        )
        case = case_create(
            created_by=coordinator,
            primary_person=person,
            risk_level=RiskLevel.CRITICAL,
            summary="Fictional demo intake, waiting for a caseworker.",
        )
        need_create(
            case=case, created_by=coordinator, category=NeedCategory.HOUSING, description="Demo."
        )
        self.stdout.write(f"Opened demo intake {case.reference}, assigned to nobody yet.")
