"""`manage.py purge_login_attempts`: forget old login failures and unused device tokens."""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.lockout import login_attempts_purge


class Command(BaseCommand):
    help = (
        "Delete login failure records older than LOGIN_ATTEMPT_RETENTION_DAYS and device tokens "
        "unused for as long. Run it daily."
    )

    def handle(self, *args, **options) -> None:
        failures, devices = login_attempts_purge()
        days = settings.LOGIN_ATTEMPT_RETENTION.days
        self.stdout.write(
            self.style.SUCCESS(
                f"Forgot {failures} login failure(s) and {devices} device token(s) older than "
                f"{days} days."
            )
        )
