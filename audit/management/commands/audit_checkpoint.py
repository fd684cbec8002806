"""`manage.py audit_checkpoint [--out DIR] [--public-key]`: sign the chain's head, store and
print it; with `--out`, also write every stored checkpoint into DIR, one file each, for an
operator to copy off the server (the copies outside are what prove the log later)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.models import ChainHead, Checkpoint
from audit.signing import load_public_key, public_key_pem, sign_head
from audit.verify import stored_checkpoints


class Command(BaseCommand):
    help = (
        "Sign (Ed25519) the audit chain's current head and count, store the checkpoint and print "
        "it as JSON to keep outside the system. --public-key prints the key that verifies it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--public-key", action="store_true", help="print the verifying public key instead"
        )
        parser.add_argument(
            "--out",
            type=Path,
            metavar="DIR",
            help="also write each stored checkpoint to DIR as checkpoint-<sequence>-<time>.json "
            "(existing files are kept), to copy off the server",
        )

    def handle(self, *args, public_key: bool, out: Path | None, **options) -> None:
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
        if out is not None:
            written = self.write_files(out)
            self.stderr.write(f"Wrote {written} new checkpoint file(s) to {out}.")

    def write_files(self, directory: Path) -> int:
        """Each stored checkpoint as its own JSON document; a file already there is kept (it
        may be the very copy someone relies on)."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"Cannot create {directory}: {exc.strerror}.") from None
        written = 0
        for checkpoint in stored_checkpoints():
            stamp = checkpoint.signed_at.replace("-", "").replace(":", "").replace(".", "")
            path = directory / f"checkpoint-{checkpoint.sequence:012d}-{stamp}.json"
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(checkpoint.to_json() + "\n")
            written += 1
        return written
