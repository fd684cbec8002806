"""`manage.py audit_checkpoint [--public-key]`: sign the chain's head and print it."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.models import ChainHead, Checkpoint
from audit.signing import load_public_key, public_key_pem, sign_head


class Command(BaseCommand):
    help = (
        "Sign (Ed25519) the audit chain's current head and count, store the checkpoint and print "
        "it as JSON to keep outside the system. --public-key prints the key that verifies it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--public-key", action="store_true", help="print the verifying public key instead"
        )

    def handle(self, *args, public_key: bool, **options) -> None:
        try:
            if public_key:
                self.stdout.write(public_key_pem(load_public_key()), ending="")
                return
            with transaction.atomic():
                head = ChainHead.objects.select_for_update().get(pk=1)
                signed = sign_head(sequence=head.sequence, entry_hash=head.entry_hash)
                Checkpoint.objects.create(
                    sequence=signed.sequence,
                    entry_hash=signed.entry_hash,
                    signed_at=datetime.fromisoformat(signed.signed_at),
                    key_id=signed.key_id,
                    signature=signed.signature,
                )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(signed.to_json())
