"""`manage.py totp_now demo-USERNAME`: the current TOTP code of a demo account (development only).

Reading a TOTP secret back out of the database defeats the second factor, so this refuses to
run outside development mode and for anyone but the `demo-*` accounts.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import SealedTOTPDevice


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff member (development mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        if not settings.DEV_MODE or not username.startswith("demo-"):
            raise CommandError("Only for demo-* accounts in development mode.")
        device = (
            SealedTOTPDevice.objects.select_related("data_key")
            .filter(user__username=username, confirmed=True)
            .first()
        )
        if device is None:
            raise CommandError(f"{username} has no TOTP device; run `manage.py seed_demo`.")
        self.stdout.write(f"{device.totp().token():0{device.digits}d}")
