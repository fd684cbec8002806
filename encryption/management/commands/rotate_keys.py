"""`manage.py rotate_keys [--new-kek ID] [--batch-size N]`: rewrap every data key under the
active key-encryption key.

The usual rotation, with keys in the environment or a secrets manager:

1. put the new KEK first in `ENCRYPTION_KEKS`, keep the old ones after it, restart the servers
   (new data keys are now wrapped by the new KEK);
2. run `rotate_keys` (it rewraps the rest, in batches, printing progress; if it is stopped it
   can simply be run again);
3. once it reports nothing left under the old KEK, remove the old KEK from the configuration.

When the KEKs come from a file this process can write (`ENCRYPTION_KEKS_FILE`, or `var/` in
development), `--new-kek ID` does step 1's edit itself: it generates a key and writes it first
in the file (and does nothing else: the servers must restart with it before keys are rewrapped
under it, or they could not open them).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from encryption.keyring import INDEX_SENTINEL_ID, KEK_ID_PATTERN, keyring, new_key_text, parse_keks
from encryption.models import DataKey
from encryption.sentinels import require_usable_keys
from encryption.services import data_keys_rotate


class Command(BaseCommand):
    help = "Rewrap every data key under the active key-encryption key (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-kek",
            metavar="ID",
            help="Generate a new KEK with this id, make it active in the key file, then rewrap.",
        )
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, new_kek: str | None, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            require_usable_keys()  # wrong keys: stop before anything is written
            if new_kek:
                # Only the key file changes now. Servers still running with the old list could
                # not open keys rewrapped under a KEK they have not loaded: rewrapping waits
                # until they have restarted with it.
                self.add_kek(new_kek)
                return
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        ring = keyring()
        self.stdout.write(f"Active key-encryption key: {ring.active_kek_id!r}.")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(f"  rewrapped {done}/{total} data keys ({rate:,.0f} keys/s)")

        done = data_keys_rotate(batch_size=batch_size, on_batch=progress)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Rewrapped {done} data key(s) in {elapsed:.1f} s."))
        in_use = set(
            DataKey.objects.filter(destroyed_at__isnull=True)
            .order_by()
            .values_list("kek_id", flat=True)
            .distinct()
        )
        retired = sorted(set(ring.keks) - in_use - {ring.active_kek_id})
        if retired:
            self.stdout.write(
                "No data key is wrapped by "
                + ", ".join(repr(kek_id) for kek_id in retired)
                + " any more: once every server runs with the new active key, remove it from "
                "the configuration (and its copies), so old backups can no longer be opened."
            )

    def add_kek(self, kek_id: str) -> None:
        path = settings.ENCRYPTION_KEKS_PATH
        if not path:
            raise CommandError(
                "The KEKs do not come from a file (ENCRYPTION_KEKS_FILE): add the new key first "
                "in ENCRYPTION_KEKS yourself, restart, and run rotate_keys without --new-kek."
            )
        if not KEK_ID_PATTERN.match(kek_id) or kek_id == INDEX_SENTINEL_ID:
            raise CommandError(
                "A KEK id is 1-32 letters, digits, '.', '_' or '-' (not 'blind-index')."
            )
        if kek_id in keyring().keks:
            raise CommandError(f"Key-encryption key {kek_id!r} already exists.")
        current = Path(path).read_text(encoding="utf-8")
        updated = f"{kek_id}:{new_key_text()}\n{current.strip()}\n"
        parse_keks(updated)  # refuse to write a file the next start could not read
        # A fresh file (mode 0600, never an existing one whose mode or owner we did not choose)
        # beside the old one, then an atomic rename: the file holds the old list or the new.
        descriptor, temporary = tempfile.mkstemp(dir=Path(path).parent, prefix=".keks-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(updated)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(
            f"Added key-encryption key {kek_id!r} to {path}, first, so it is the active key "
            "from the next start. Now restart every server (they will wrap new data keys with "
            "it), then run `manage.py rotate_keys` to rewrap the existing ones."
        )
