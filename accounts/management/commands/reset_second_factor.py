"""`manage.py reset_second_factor USERNAME`."""

from django.core.management.base import BaseCommand, CommandParser

from accounts.management.lookup import staff_by_username
from accounts.management.output import write_enrolment
from accounts.services import second_factor_reset


class Command(BaseCommand):
    help = "Replace a staff member's TOTP device and backup codes; revokes their tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = staff_by_username(username)
        enrolment = second_factor_reset(user=user)
        self.stdout.write(self.style.SUCCESS(f"Second factor of {user.username} reset."))
        write_enrolment(self.stdout, user.username, enrolment)
