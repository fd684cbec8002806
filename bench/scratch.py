"""What the PostgreSQL benchmarks share: a scratch database of their own, migrated, with
scratch keys, on the server named by BENCH_DATABASE_URL or DATABASE_URL (only its server: the
database those name is never touched)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
SETTINGS_MODULE = "config.settings_test"  # the real settings, plus the test client's host


def server_url() -> str:
    """scheme://user@host:port of the server to use, without a database name."""
    for name in ("BENCH_DATABASE_URL", "DATABASE_URL"):
        value = os.environ.get(name, "").strip()
        if not value:
            continue
        parts = urlsplit(value)
        if parts.scheme.startswith("postgres") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
        if name == "BENCH_DATABASE_URL":
            sys.exit("BENCH_DATABASE_URL must be a postgres:// URL.")
    return DEFAULT_SERVER


def psql(server: str, statement: str, database: str = "postgres") -> None:
    subprocess.run(
        ["psql", f"{server}/{database}", "-q", "-c", statement], check=True, capture_output=True
    )


def scratch_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def setup_database(server: str, name: str, *, kek_id: str) -> None:
    """(Re)create `name`, point this process at it with scratch keys, migrate, set Django up."""
    psql(server, f'DROP DATABASE IF EXISTS "{name}"')
    psql(server, f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{server}/{name}"
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    # Scratch keys for a scratch database: never the developer's keys in var/.
    for variable in ("ENCRYPTION_KEKS_FILE", "ENCRYPTION_INDEX_KEY_FILE"):
        os.environ.pop(variable, None)
    os.environ["ENCRYPTION_KEKS"] = f"{kek_id}:{scratch_key()}"
    os.environ["ENCRYPTION_INDEX_KEY"] = scratch_key()
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(result.stderr)
    import django

    django.setup()
