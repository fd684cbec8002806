"""The audit log under a small mixed load (PostgreSQL). Prints its figures; not a test.

    .venv/bin/python bench/audit_load.py [--clients 8] [--duration 20] [--people 120]

A bounded driver, not a load test of the whole product: `--clients` processes (as gunicorn
workers would be), each with its own connection and a staff member's real token, go through the
API with the Django test client (every middleware, the real URL conf) for `--duration` seconds,
repeating one mix:

    GET people/?page_size=50     a list of 50 people (50 records revealed)
    GET people/<id>/             one person
    GET cases/<id>/              one case
    POST people/                 a new person (a change, audited)

While they run, a sampler reads `pg_stat_activity` every 0.2 s and counts, among the busy
backends of the bench database, those waiting on a lock in a statement that names the chain
head (the head's `SELECT ... FOR UPDATE` or `UPDATE`) or in a COMMIT (where the chain is built,
at commit, since chain version 3).

It prints requests per second, audit entries written per request, and the share of busy
backend samples waiting on the chain head; then the same run with the control: the benchmark
itself drops, in its own scratch database, the trigger that chains entries at commit, so
entries are inserted plainly (no setting or variable of the product switches the chain off).
Run on a build before chain version 3, the control is skipped (`--no-control`).

It creates (and at the end drops) the database `--database` on the server of
BENCH_DATABASE_URL, else DATABASE_URL, as `bench/scratch.py` does.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.scratch import psql, server_url, setup_database  # noqa: E402

SAMPLE_EVERY = 0.2


def make_staff(username: str, role: str) -> tuple:
    import secrets

    from django.db import transaction

    from accounts.services import staff_create, token_issue
    from audit.context import audit_context

    with transaction.atomic():
        user, _ = staff_create(username=username, roles=[role], password=secrets.token_urlsafe(18))
    with audit_context(actor=user), transaction.atomic():
        token = token_issue(user=user).token
    return user, token


def seed(clients: int, people: int) -> list[dict]:
    """Per client: a caseworker, a token, some people and one case of theirs."""
    from django.db import transaction

    from audit.context import audit_context
    from cases.services import case_create
    from people.services import person_create

    seeded = []
    for n in range(clients):
        user, token = make_staff(f"load-{n}", "caseworker")
        with audit_context(actor=user), transaction.atomic():
            persons = [
                person_create(created_by=user, full_name=f"Made-up Person {n}-{i:04d}")
                for i in range(people // clients)
            ]
            case = case_create(
                created_by=user,
                primary_person=persons[0],
                risk_level="high",
                summary="Needs to leave within the week.",
                consent_to_store=True,
            )
        seeded.append(
            {"token": token, "people": [str(p.pk) for p in persons], "case": str(case.pk)}
        )
    return seeded


def api_client(token: str):
    from django.conf import settings
    from rest_framework.test import APIClient

    hosts = [h for h in settings.ALLOWED_HOSTS if h not in {"*", ""}]
    host = "testserver" if "testserver" in hosts else (hosts[0] if hosts else "testserver")
    client = APIClient(SERVER_NAME=host.lstrip("."))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def client_loop(seeded: dict, duration: float, start, results) -> None:
    from django.db import connections

    connections.close_all()
    client = api_client(seeded["token"])
    people, case = seeded["people"], seeded["case"]
    start.wait()
    done, failed, n = 0, 0, 0
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        person = people[n % len(people)]
        n += 1
        for method, url, body in (
            ("get", "/api/v1/people/?page_size=50", None),
            ("get", f"/api/v1/people/{person}/", None),
            ("get", f"/api/v1/cases/{case}/", None),
            ("post", "/api/v1/people/", {"full_name": f"Walk-in {os.getpid()}-{n}"}),
        ):
            response = getattr(client, method)(url, body, format="json")
            done += 1
            failed += response.status_code >= 400
    connections.close_all()
    results.put((done, failed))


def sampler(database: str, stop: threading.Event, counts: Counter) -> None:
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=database, user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        while not stop.is_set():
            cursor.execute(
                "SELECT wait_event_type, query FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND state = 'active' "
                "AND backend_type = 'client backend'",
                [database],
            )
            for wait_type, query in cursor.fetchall():
                counts["busy"] += 1
                text = (query or "").strip().upper()
                if wait_type == "Lock" and ("AUDIT_CHAINHEAD" in text or text == "COMMIT"):
                    counts["head"] += 1
            time.sleep(SAMPLE_EVERY)
    connection.close()


def run_phase(label: str, database: str, seeded: list[dict], duration: float) -> dict:
    from django.db import connections

    from audit.models import LogEntry

    before = LogEntry.objects.count()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(len(seeded) + 1), context.Queue()
    processes = [
        context.Process(target=client_loop, args=(s, duration, start, results)) for s in seeded
    ]
    for process in processes:
        process.start()
    counts: Counter = Counter()
    stop = threading.Event()
    watcher = threading.Thread(target=sampler, args=(database, stop, counts))
    watcher.start()
    start.wait()
    began = time.perf_counter()
    totals = [results.get() for _ in processes]
    seconds = time.perf_counter() - began
    stop.set()
    watcher.join()
    for process in processes:
        process.join()
    requests = sum(done for done, _ in totals)
    failed = sum(bad for _, bad in totals)
    entries = LogEntry.objects.count() - before
    figures = {
        "label": label,
        "requests/s": requests / seconds,
        "entries/request": entries / max(requests, 1),
        "head wait share": counts["head"] / max(counts["busy"], 1),
        "failed": failed,
        "samples": counts["busy"],
    }
    print(
        f"{label:34} {figures['requests/s']:7.1f} req/s  "
        f"{figures['entries/request']:5.2f} entries/request  "
        f"head wait {100 * figures['head wait share']:5.1f}% of {counts['busy']} busy samples"
        f"  ({failed} failed requests)"
    )
    return figures


def plain_insert_control() -> None:
    """The control: entries inserted with no chaining at commit (the chain trigger dropped in
    this scratch database by the benchmark, as the owner)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS audit_logentry_chain ON audit_logentry")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--people", type=int, default=120)
    parser.add_argument("--database", default="safe_passage_audit_load")
    parser.add_argument("--no-control", dest="control", action="store_false")
    args = parser.parse_args()
    os.environ["API_THROTTLE_RATE"] = "1000000/s"
    server = server_url()
    setup_database(server, args.database, kek_id="bench-load")
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            synchronous = cursor.fetchone()[0]
        seeded = seed(args.clients, args.people)
        print(
            f"\n== {args.clients} clients, {args.duration:.0f} s each, synchronous_commit="
            f"{synchronous} =="
        )
        run_phase("chained (as built)", args.database, seeded, args.duration)
        if args.control:
            plain_insert_control()
            run_phase("control: entries inserted plainly", args.database, seeded, args.duration)
    finally:
        from django.db import connections

        connections.close_all()
        psql(server, f'DROP DATABASE IF EXISTS "{args.database}"')


if __name__ == "__main__":
    main()
