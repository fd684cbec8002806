"""`manage.py seed_demo`: one demo staff member per role, for `make run` (development only).

Created once and kept: their passwords and authenticator secrets are written to
`var/demo-staff.json` (readable by its owner only, beside the development keys, never
committed), so a newcomer adds the demo accounts to an authenticator app once and the next
`make run` signs in with the same ones. `--reset` makes new ones. An account whose password no
longer matches the file (changed by hand, or the database rebuilt) is reset and written again.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.management.output import write_enrolment
from accounts.models import SealedTOTPDevice, User
from accounts.roles import Role
from accounts.second_factor import Enrolment
from accounts.services import second_factor_reset, staff_create

FILE_NAME = "demo-staff.json"


def demo_file() -> Path:
    return Path(settings.VAR_DIR) / FILE_NAME


def _read(path: Path) -> dict[str, dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, kept: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(kept, handle, indent=2)
    path.chmod(0o600)


def _still_valid(user: User | None, entry: dict | None) -> bool:
    if user is None or entry is None or not user.is_active:
        return False
    device = SealedTOTPDevice.objects.filter(user=user, confirmed=True).select_related("data_key")
    device = device.first()
    return (
        device is not None
        and user.check_password(entry.get("password", ""))
        and device.base32_secret == entry.get("secret")
    )


class Command(BaseCommand):
    help = (
        "Create the demo-<role> staff members once, keep their credentials in var/, and print "
        "how to sign in. Development only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="New passwords and second factors for all."
        )
        parser.add_argument(
            "--address",
            default="http://127.0.0.1:8000",
            help="Where the server answers (printed in the instructions).",
        )

    def handle(self, *args, reset: bool, address: str, **options) -> None:
        if not settings.DEV_MODE:
            raise CommandError("Demo staff exist only in development mode (DJANGO_ENV).")
        path = demo_file()
        kept = {} if reset else _read(path)
        address = address.rstrip("/")
        for role in Role.values:
            username = f"demo-{role}"
            user = User.objects.filter(username=username).first()
            if _still_valid(user, kept.get(username)):
                entry = kept[username]
                self.stdout.write(
                    self.style.MIGRATE_HEADING(f"\n{username}  password: {entry['password']}")
                )
                self.stdout.write(f"  authenticator (kept from before): {entry['otpauth_uri']}")
                continue
            password = secrets.token_urlsafe(12)
            if user is None:
                user, enrolment = staff_create(username=username, roles=[role], password=password)
            else:
                with transaction.atomic():
                    user.set_password(password)
                    user.is_active = True
                    user.save(update_fields=["password", "is_active"])
                    enrolment = second_factor_reset(user=user)
            kept[username] = self._entry(password, enrolment)
            self.stdout.write(self.style.MIGRATE_HEADING(f"\n{username}  password: {password}"))
            write_enrolment(self.stdout, username, enrolment)
        _write(path, kept)
        self.stdout.write(
            f"\nThese accounts and their authenticator secrets are kept in {path} and stay the "
            "same at the next `make run` (`manage.py seed_demo --reset` makes new ones).\n"
            f"\nWeb interface: {address}/  (sign in with a demo account above)\n"
            "A current authenticator code, if you have not added the account to an app:\n"
            "  .venv/bin/python manage.py totp_now demo-caseworker\n"
            "\nThe API:\n"
            f"  curl -s -X POST {address}/api/v1/auth/login/ "
            "-H 'Content-Type: application/json' \\\n"
            '    -d \'{"username": "demo-caseworker", "password": "<password>", '
            '"otp": "\'$(.venv/bin/python manage.py totp_now demo-caseworker)\'"}\'\n'
            f"  then: curl -s {address}/api/v1/auth/me/ "
            "-H 'Authorization: Bearer <token>'\n"
            f"API documentation: {address}/api/v1/docs/\n"
        )

    @staticmethod
    def _entry(password: str, enrolment: Enrolment) -> dict:
        return {
            "password": password,
            "otpauth_uri": enrolment.otpauth_uri,
            "secret": enrolment.secret,
            "backup_codes": enrolment.backup_codes,
        }
