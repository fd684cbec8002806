"""`manage.py deactivate_staff USERNAME`: the panic button for a seized device."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.lookup import staff_by_username
from accounts.services import staff_deactivate
from common.exceptions import DomainError


class Command(BaseCommand):
    help = "Deactivate a staff member and revoke every token they hold."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        try:
            user = staff_deactivate(user=staff_by_username(username))
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"{user.username} is deactivated; tokens revoked."))
