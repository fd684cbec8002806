"""`manage.py seed_demo`: one demo staff member per role, for `make run` (development only)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.management.output import write_enrolment
from accounts.models import User
from accounts.roles import Role
from accounts.services import second_factor_reset, staff_create


class Command(BaseCommand):
    help = "Create (or reset) demo-<role> staff members and print how to log in. Dev only."

    def handle(self, *args, **options) -> None:
        if not settings.DEV_MODE:
            raise CommandError("Demo staff exist only in development mode (DJANGO_ENV).")
        for role in Role.values:
            username = f"demo-{role}"
            password = secrets.token_urlsafe(12)
            user = User.objects.filter(username=username).first()
            if user is None:
                user, enrolment = staff_create(username=username, roles=[role], password=password)
            else:
                with transaction.atomic():
                    user.set_password(password)
                    user.is_active = True
                    user.save(update_fields=["password", "is_active"])
                    enrolment = second_factor_reset(user=user)
            self.stdout.write(self.style.MIGRATE_HEADING(f"\n{username}  password: {password}"))
            write_enrolment(self.stdout, username, enrolment)
        self.stdout.write(
            "\nLog in (the code can also come from an authenticator app with the URI above):\n"
            "  curl -s -X POST http://127.0.0.1:8000/api/v1/auth/login/ "
            "-H 'Content-Type: application/json' \\\n"
            '    -d \'{"username": "demo-caseworker", "password": "<password>", '
            '"otp": "\'$(.venv/bin/python manage.py totp_now demo-caseworker)\'"}\'\n'
            "  then: curl -s http://127.0.0.1:8000/api/v1/auth/me/ "
            "-H 'Authorization: Bearer <token>'\n"
            "API documentation: http://127.0.0.1:8000/api/v1/docs/\n"
        )
