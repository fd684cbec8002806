"""How a command shows a new second factor to the person at the terminal."""

from __future__ import annotations

import io

import qrcode
from django.core.management.base import OutputWrapper

from accounts.second_factor import Enrolment


def write_enrolment(stdout: OutputWrapper, username: str, enrolment: Enrolment) -> None:
    qr = qrcode.QRCode(border=1)
    qr.add_data(enrolment.otpauth_uri)
    picture = io.StringIO()
    qr.print_ascii(out=picture, invert=True)
    stdout.write(f"Second factor for {username}. Scan the QR code or enter the URI in an")
    stdout.write("authenticator app (shown once, keep it off shared screens):")
    stdout.write(picture.getvalue())
    stdout.write(enrolment.otpauth_uri)
    stdout.write(f"Secret, to type in by hand: {enrolment.secret}")
    stdout.write("Backup codes, each works once:")
    for code in enrolment.backup_codes:
        stdout.write(f"  {code}")
