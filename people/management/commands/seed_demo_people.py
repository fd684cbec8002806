"""`manage.py seed_demo_people`: a few fictional people recorded by demo-caseworker, for
`make run` (development only; run `seed_demo` first)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from people.models import Person
from people.services import person_create

# Fictional, and obviously so: demo data must never be mistaken for a real case.
DEMO_PEOPLE = [
    {
        "full_name": "Demo Person One",
        "preferred_name": "Demo One",
        "date_of_birth": datetime.date(1990, 1, 1),
        "phone": "+7 900 000-00-01",
        "languages": ["ru"],
        "notes": "Fictional demo record.",
    },
    {
        "full_name": "Demo Person Two",
        "phone": "8 (900) 000-00-02",
        "document_type": "internal_passport",
        "document_number": "00 00 000002",
        "notes": "Fictional demo record.",
    },
]


class Command(BaseCommand):
    help = "Record a few fictional people for demo-caseworker. Development only."

    def handle(self, *args, **options) -> None:
        if not settings.DEV_MODE:
            raise CommandError("Demo people exist only in development mode (DJANGO_ENV).")
        caseworker = User.objects.filter(username="demo-caseworker").first()
        if caseworker is None:
            raise CommandError("Run seed_demo first: demo-caseworker does not exist.")
        if Person.objects.filter(created_by=caseworker).exists():
            self.stdout.write("Demo people already exist.")
            return
        for fields in DEMO_PEOPLE:
            person_create(created_by=caseworker, **fields)
        self.stdout.write(f"Recorded {len(DEMO_PEOPLE)} fictional people for demo-caseworker.")
