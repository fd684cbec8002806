"""Audit log benchmark (PostgreSQL). Prints its figures; not part of the test suite.

    .venv/bin/python bench/audit_bench.py [--entries 1000000] [--writes 2000] [--rounds 3]

1. Audited writes per second against the same writes with auditing off, with 1 and 8
   concurrent writers (each write: one row created in its own transaction), in --rounds
   rounds whose order alternates; the median round's ratio is the figure.
2. `manage.py audit_verify` over --entries entries: entries per second and the verifier's peak
   memory (max RSS of its process), measured at a tenth of the entries and at all of them, so
   the memory can be seen to stay flat.

It creates (and at the end drops) the database `safe_passage_bench` on
postgres://postgres@127.0.0.1:5432 unless BENCH_DATABASE_URL names another.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "safe_passage_bench")
DATABASE_URL = f"{BASE_URL}/{DB_NAME}"


def psql(statement: str) -> None:
    subprocess.run(
        ["psql", f"{BASE_URL}/postgres", "-q", "-c", statement], check=True, capture_output=True
    )


def manage(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def setup_database() -> None:
    psql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    psql(f"CREATE DATABASE {DB_NAME}")
    result = manage("migrate", "--noinput")
    if result.returncode:
        sys.exit(result.stderr)
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _row_write(device_id, n: int, tag: str) -> None:
    """The smallest audited write: one row created in its own transaction."""
    from django.db import transaction

    from accounts.models import BackupCode

    with transaction.atomic():
        BackupCode.objects.create(device_id=device_id, digest=f"{tag}{n:06x}")


def _service_write(user_id, n: int, tag: str) -> None:
    """A typical service call: a staff member's roles changed (locks, reads, two m2m changes)."""
    from accounts.models import User
    from accounts.services import staff_set_roles

    roles = ["admin", "auditor"] if n % 2 else ["admin", "auditor", "coordinator"]
    staff_set_roles(user=User.objects.get(pk=user_id), roles=roles)


WORKLOADS = {"row": _row_write, "service": _service_write}


def _writer(workload: str, target, count: int, audited: bool, tag: str, start, done) -> None:
    """One writer process (as one gunicorn worker would be): its own connection, no GIL shared
    with the others."""
    from auditlog.context import disable_auditlog
    from django.db import connections

    connections.close_all()
    write = WORKLOADS[workload]
    start.wait()
    for i in range(count):
        if audited:
            write(target[i % len(target)], i, tag)
        else:
            with disable_auditlog():
                write(target[i % len(target)], i, tag)
    connections.close_all()
    done.put(None)


def timed_writes(
    workload: str, targets: list, writers: int, total: int, audited: bool, tag: str
) -> float:
    """Seconds for `total` writes, one transaction each, split over `writers` processes; each
    writer works on its own target (no row contention but the audit chain's)."""
    from django.db import connections

    connections.close_all()  # forked children must not share the parent's connection
    context = multiprocessing.get_context("fork")
    start, done = context.Barrier(writers + 1), context.Queue()
    processes = [
        context.Process(
            target=_writer,
            args=(workload, [targets[n]], total // writers, audited, f"{tag}{n:x}", start, done),
        )
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    for _ in processes:
        done.get()
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
        if process.exitcode:
            sys.exit(f"a writer failed with exit code {process.exitcode}")
    return seconds


def bench_writes(total: int, rounds: int = 3) -> None:
    from django.db import transaction

    from accounts.models import BackupCodeDevice
    from accounts.services import staff_create
    from audit.verify import verify_chain

    users = []
    for n in range(8):
        with transaction.atomic():
            user, _ = staff_create(
                username=f"bench-{n}", roles=["admin"], password="bench-password-xyz"
            )
        users.append(user)
    targets = {
        "row": [BackupCodeDevice.objects.get(user=user).pk for user in users],
        "service": [user.pk for user in users],
    }
    if not total:
        return
    print(
        f"\n== audited vs unaudited writes ({total} per case and round, {rounds} rounds, one "
        "transaction each; the median round's ratio) =="
    )
    for workload in ("row", "service"):
        for writers in (1, 8):
            args = (workload, targets[workload], writers, total)
            ratios, plain_rates, audited_rates = [], [], []
            for n in range(rounds):
                # Alternate the order round by round, so that drift on a shared machine hits
                # both alike.
                first_audited = n % 2 == 1
                seconds = {}
                for audited in (first_audited, not first_audited):
                    tag = f"{'a' if audited else 'p'}{writers}r{n}"
                    seconds[audited] = timed_writes(*args, audited=audited, tag=tag)
                ratios.append(seconds[True] / seconds[False])
                plain_rates.append(total / seconds[False])
                audited_rates.append(total / seconds[True])
            print(
                f"{workload:7} write, {writers} writer process(es): unaudited "
                f"{statistics.median(plain_rates):6.0f}/s, audited "
                f"{statistics.median(audited_rates):6.0f}/s, cost ratio "
                f"{statistics.median(ratios):.2f}x (rounds: "
                + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
                + ")"
            )
    result = verify_chain()
    print(f"chain after the concurrent writes: ok={result.ok}, {result.entries} entries")


def fill_log(target: int) -> None:
    """Append entries straight through the chained manager, in batches."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from accounts.models import User
    from audit.models import Action, LogEntry

    user = User.objects.get(username="bench-0")
    content_type = ContentType.objects.get_for_model(User)
    batch = 5000
    while (current := LogEntry.objects.count()) < target:
        size = min(batch, target - current)
        entries = [
            LogEntry(
                content_type=content_type,
                object_pk=str(user.pk),
                object_repr="bench",
                action=Action.UPDATE,
                changes={"is_active": ["True", "False"], "note": [str(current + i), "x"]},
                actor=user,
                remote_addr="192.0.2.10",
                cid=f"{current + i:032x}",
            )
            for i in range(size)
        ]
        with transaction.atomic():
            LogEntry.objects.append(entries)


VERIFY_IN_CHILD = """
import io, resource, sys, time, django
django.setup()
from django.core.management import call_command
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
call_command("audit_verify", verbosity=0, stdout=io.StringIO())
seconds = time.perf_counter() - began
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(seconds, rss_before, peak, workers)
"""


def bench_verify(entries: int) -> None:
    from audit.models import LogEntry

    print("\n== audit_verify (own process, streaming) ==")
    for target in (entries // 10, entries):
        began = time.perf_counter()
        fill_log(target)
        filled = time.perf_counter() - began
        count = LogEntry.objects.count()
        env = {**os.environ, "DATABASE_URL": DATABASE_URL}
        result = subprocess.run(
            [sys.executable, "-c", VERIFY_IN_CHILD],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            sys.exit(result.stderr)
        seconds, rss_start, rss_peak, rss_workers = (float(x) for x in result.stdout.split())
        print(
            f"{count:>9,} entries: verified in {seconds:6.2f} s = {count / seconds:9,.0f} "
            f"entries/s; RSS: verifier {rss_start / 1024:.0f} MiB after start-up, peak "
            f"{rss_peak / 1024:.0f} MiB; largest slice worker {rss_workers / 1024:.0f} MiB "
            f"(log filled in {filled:.0f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each write case")
    parser.add_argument("--verify-only", action="store_true", help="skip the write benchmark")
    args = parser.parse_args()
    setup_database()
    try:
        if args.verify_only:
            bench_writes(0)
        else:
            bench_writes(args.writes, args.rounds)
        bench_verify(args.entries)
    finally:
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    main()
