"""`manage.py create_staff USERNAME --role ROLE [--role ROLE ...] [--password-stdin]`."""

from __future__ import annotations

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.output import write_enrolment
from accounts.roles import Role
from accounts.services import staff_create
from common.exceptions import DomainError


class Command(BaseCommand):
    help = "Create a staff member, enrol a TOTP device and print it with ten backup codes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", action="append", required=True, choices=Role.values, dest="roles"
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )

    def handle(self, *args, username: str, roles: list[str], password_stdin: bool, **options):
        password = self._read_password(password_stdin)
        try:
            user, enrolment = staff_create(username=username, roles=roles, password=password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except (ValueError, DomainError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username} ({', '.join(sorted(user.roles))}).")
        )
        write_enrolment(self.stdout, user.username, enrolment)

    def _read_password(self, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
            return password
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for a password: use --password-stdin.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return password
