"""`manage.py import_rates FILE`: import the ECB's euro reference rates (daily or history CSV).

The operator downloads the file (https://www.ecb.europa.eu/stats/eurofxref/eurofxref.zip or
eurofxref-hist.zip, unzipped); nothing is fetched here. Importing a file again adds nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.exceptions import InvalidInput
from funds import ecb
from funds.services.rates import ECB_SOURCE, ImportConflict, ecb_rates_import


class Command(BaseCommand):
    help = "Import the ECB's euro reference rates from its daily or history CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="eurofxref.csv or eurofxref-hist.csv")
        parser.add_argument(
            "--source", default=ECB_SOURCE, help=f"where the figures came from ({ECB_SOURCE!r})"
        )

    def handle(self, *args, file: Path, source: str, **options) -> None:
        if not source.strip() or len(source) > 200:
            raise CommandError("--source must be 1 to 200 characters.")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        try:
            parsed = ecb.parse(text)
            result = ecb_rates_import(figures=parsed.figures, rate_source=source.strip())
        except (ecb.EcbFileError, ImportConflict) as exc:
            raise CommandError(str(exc)) from None
        except InvalidInput as exc:
            raise CommandError(f"{exc.message} Nothing was imported.") from None
        self.stdout.write(
            f"Imported {result.created} rate(s); {result.present} were there already; "
            f"{parsed.missing} N/A figure(s) skipped."
        )
        if result.not_current:
            self.stdout.write(
                "Skipped currencies that are no longer legal tender: "
                + ", ".join(sorted(result.not_current))
                + "."
            )
