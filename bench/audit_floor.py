"""What the database alone charges for an audited write (PostgreSQL, pgbench). Prints figures.

    .venv/bin/python bench/audit_floor.py [--seconds 10] [--rounds 3]

`bench/audit_bench.py` times the smallest audited write through Django against the same
write with auditing off. This times the same two transactions with no Python at all, so it
shows how much of that ratio the database's own work sets, whatever the Python side does:

    unaudited: BEGIN; INSERT a backup code; COMMIT
    audited:   BEGIN; INSERT a backup code; INSERT its audit entry; COMMIT
               (the entry as the application writes it: its digest, the transaction id the
               trigger stamps, chained at COMMIT by the deferred trigger, which takes the head)

Both with pgbench's prepared statements (as the application's entry INSERT is), with 1 and
8 clients, --rounds rounds alternating the order; the median round's ratio is the figure.
It creates and drops its own database on the server of BENCH_DATABASE_URL or DATABASE_URL.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.scratch import psql, server_url, setup_database  # noqa: E402

DATABASE = "safe_passage_audit_floor"


def scripts(directory: Path) -> dict[str, Path]:
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from accounts.models import BackupCode, BackupCodeDevice
    from accounts.services import staff_create

    with transaction.atomic():
        user, _ = staff_create(username="floor", roles=["admin"], password="floor-password-xyz")
    device = BackupCodeDevice.objects.get(user=user).pk
    content_type = ContentType.objects.get_for_model(BackupCode).pk
    # Ids from this scratch database, no input: pgbench scripts take no parameters of ours.
    row = (
        "INSERT INTO accounts_backupcode (device_id, digest) "  # noqa: S608
        f"VALUES ('{device}', md5(random()::text) || :client_id);"
    )
    entry = (
        "INSERT INTO audit_logentry (content_type_id, object_pk, object_id, object_repr, "  # noqa: S608
        "action, changes, actor_id, remote_addr, timestamp, additional_data, chain_version, "
        "digest, cid, changes_text, serialized_data, remote_port, actor_email, "
        f"client_request_id) VALUES ({content_type}, '1', 1, 'BackupCode 1', 0, "
        '\'{"digest": ["None", "[redacted]"], "device": ["None", "1"]}\', '
        f"'{user.pk}', '127.0.0.1', now(), NULL, 3, md5(random()::text) || "
        "md5(random()::text), md5(random()::text), '', NULL, NULL, NULL, NULL);"
    )
    paths = {
        "unaudited": directory / "unaudited.sql",
        "audited": directory / "audited.sql",
    }
    paths["unaudited"].write_text(f"BEGIN;\n{row}\nCOMMIT;\n")
    paths["audited"].write_text(f"BEGIN;\n{row}\n{entry}\nCOMMIT;\n")
    return paths


def tps(server: str, script: Path, clients: int, seconds: float) -> float:
    done = subprocess.run(
        [
            "pgbench",
            "--no-vacuum",
            "--protocol=prepared",
            f"--file={script}",
            f"--client={clients}",
            f"--jobs={min(clients, 2)}",
            f"--time={max(1, round(seconds))}",
            f"{server}/{DATABASE}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(re.search(r"^tps = ([0-9.]+)", done.stdout, re.MULTILINE).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = server_url()
    setup_database(server, DATABASE, kek_id="floor")
    try:
        with tempfile.TemporaryDirectory() as directory:
            paths = scripts(Path(directory))
            from django.db import connections

            connections.close_all()
            print(f"== the database's own cost of an audited write ({args.seconds:.0f} s a run) ==")
            for clients in (1, 8):
                ratios, plain, audited = [], [], []
                for n in range(args.rounds):
                    order = ("audited", "unaudited") if n % 2 else ("unaudited", "audited")
                    rate = {kind: tps(server, paths[kind], clients, args.seconds) for kind in order}
                    ratios.append(rate["unaudited"] / rate["audited"])
                    plain.append(rate["unaudited"])
                    audited.append(rate["audited"])
                print(
                    f"{clients} client(s): unaudited {statistics.median(plain):6.0f}/s, audited "
                    f"{statistics.median(audited):6.0f}/s, cost ratio "
                    f"{statistics.median(ratios):.2f}x (rounds: "
                    + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
                    + ")"
                )
    finally:
        from django.db import connections

        connections.close_all()
        psql(server, f'DROP DATABASE IF EXISTS "{DATABASE}"')


if __name__ == "__main__":
    main()
