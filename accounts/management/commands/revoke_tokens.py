"""`manage.py revoke_tokens USERNAME`."""

from django.core.management.base import BaseCommand, CommandParser

from accounts.management.lookup import staff_by_username
from accounts.services import tokens_revoke_all


class Command(BaseCommand):
    help = "Revoke every API token a staff member holds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        count = tokens_revoke_all(user=staff_by_username(username), reason="revoked by command")
        self.stdout.write(self.style.SUCCESS(f"Revoked {count} token(s) of {username}."))
