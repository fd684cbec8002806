"""`manage.py audit_verify [--checkpoint FILE ...] [--public-key FILE]`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import LogEntry
from audit.signing import SignedCheckpoint
from audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute the audit log's hash chain and name the first broken entry. With "
        "--checkpoint, also prove the log still extends checkpoints kept elsewhere (without, "
        "the checkpoints stored in the database are checked, which prove nothing against "
        "someone who can write to it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint", action="append", default=[], type=Path, help="a checkpoint file"
        )
        parser.add_argument(
            "--public-key", type=Path, help="the checkpoint signer's public key (PEM)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=min(2, os.cpu_count() or 1),
            help="processes that check slices of the log in parallel (default: up to 2)",
        )

    def handle(
        self,
        *args,
        checkpoint: list[Path],
        public_key: Path | None,
        workers: int,
        **options,
    ) -> None:
        checkpoints = [self._read_checkpoint(path) for path in checkpoint] or None
        public_key_pem = public_key.read_text(encoding="ascii") if public_key else None
        total = LogEntry.objects.count()
        show_progress = sys.stderr.isatty() and options["verbosity"] > 0

        def progress(done: int) -> None:
            sys.stderr.write(f"\rverifying {done:,} / {total:,} entries")
            sys.stderr.flush()

        try:
            result = verify_chain(
                checkpoints=checkpoints,
                public_key_pem=public_key_pem,
                progress=progress if show_progress else None,
                workers=max(1, workers),
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        if show_progress:
            sys.stderr.write("\n")
        if not result.ok:
            broken = result.first_break
            where = f"entry {broken.sequence}" + (
                f" (id {broken.entry_id})" if broken.entry_id else ""
            )
            raise CommandError(f"Audit chain BROKEN at {where}: {broken.problem}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain OK: {result.entries} entries, head {result.head_sequence} "
                f"{result.head_hash}, {result.checkpoints_checked} checkpoint(s) verified."
            )
        )
        self.stdout.write(f"Verified against: {result.verified_against}. {result.note()}")

    def _read_checkpoint(self, path: Path) -> SignedCheckpoint:
        try:
            return SignedCheckpoint.from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from None
