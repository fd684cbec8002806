"""A realistic, bounded load over HTTP against the product in production mode, then proof that
nothing was lost: every funds invariant checked with SQL, every acknowledged write found in the
database exactly once, and `manage.py audit_verify` over the whole log.

Each client is one desk of staff working at once: a caseworker reading and writing cases,
people, notes and needs and asking for money (each request with an Idempotency-Key, retried
with it after a timeout or a 503); coordinators reading their queues, approving (a second
coordinator too when four eyes are needed) and paying, each step with a real TOTP code (each
person's code works once per 30 seconds, as in life); an auditor reading reports and the log.

    .venv/bin/python bench/load.py                       # 1, 8, 32 clients, 20 s each
    .venv/bin/python bench/load.py --clients 1,8,32 --duration 300 --workers 4   # the 5-minute run

It makes its own database on --server (dropped afterwards unless --keep) and uses --redis.

At every level it also prints what the audit log cost: audit entries written per request, and
the share of busy database backends (sampled from `pg_stat_activity` every 0.2 s) waiting on a
lock in a statement naming the chain head or in a COMMIT (where entries are chained, since chain
version 3). With --control it then runs the same levels against a second database in which the
benchmark itself, as the owner, dropped the trigger that chains entries at commit, so entries
are inserted plainly (nothing in the product switches the chain off), and prints the ratio:

    .venv/bin/python bench/load.py --clients 8 --duration 60 --control
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Client, Person, Product, psql

SAMPLE_EVERY = 0.2  # seconds between samples of pg_stat_activity

TODAY = time.strftime("%Y-%m-%d")
RETRYABLE = {0, 503}  # no answer, or "briefly unavailable": a keyed POST is sent again


# --- what every client saw --------------------------------------------------------------------


@dataclass
class Ledger:
    """Per-endpoint latencies and statuses, and every write the server acknowledged."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    timeline: list[tuple[float, str, int]] = field(default_factory=list)
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    unknown: Counter = field(default_factory=Counter)  # unkeyed writes with no clear answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, endpoint: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1
            self.timeline.append((time.monotonic(), endpoint, status))

    def ack(self, kind: str, ident: str) -> None:
        with self.lock:
            self.acknowledged[kind].add(ident)


def timed(
    ledger: Ledger, endpoint: str, client: Client, method: str, path: str, body=None, headers=None
):
    started = time.monotonic()
    status, answer = client.request(method, path, body, headers)
    ledger.note(endpoint, status, time.monotonic() - started)
    return status, answer


# --- one desk ---------------------------------------------------------------------------------


@dataclass
class Desk:
    """A caseworker, two coordinators and an auditor, with the desk's open work."""

    port: int
    caseworker: Person
    coordinators: list[Person]
    auditor: Person
    ledger: Ledger
    rng: random.Random
    clients: dict[str, Client] = field(default_factory=dict)
    cases: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    allocations: list[str] = field(default_factory=list)
    waiting: list[dict] = field(default_factory=list)  # requested, needing approvals
    approved: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def client(self, person: Person) -> Client:
        client = self.clients.get(person.username)
        if client is None:
            client = self.clients[person.username] = Client(
                self.port, address=f"10.1.{self.rng.randrange(250)}.{self.rng.randrange(250)}"
            )
            client.token = person.token
        while client.token is None and not self.stop.is_set():
            if client.login(person) != 200:
                time.sleep(0.5)
        return client

    def call(self, endpoint: str, person: Person, method: str, path: str, body=None, headers=None):
        client = self.client(person)
        status, answer = timed(self.ledger, endpoint, client, method, path, body, headers)
        if status == 401:
            client.token = person.token = None  # expired or revoked: sign in again next time
        elif status in RETRYABLE:
            time.sleep(0.25)  # as a person or an app would pause before the next try
        return status, answer

    def keyed(self, endpoint: str, person: Person, path: str, body: dict, *, step_up: bool = False):
        """A money POST with an Idempotency-Key, sent again with the same key until the server
        gives a definite answer (as a careful client does after a timeout or a 503). A step-up
        code may have been spent by an attempt that then failed: a retry asks the person for
        the next one, as the app would (the code is not part of what the key stands for)."""
        key = {"Idempotency-Key": uuid.uuid4().hex}
        stop = time.monotonic() + 60
        while True:
            status, answer = self.call(endpoint, person, "POST", path, body, key)
            retry_later = (
                status == 409 and (answer or {}).get("code") == "idempotency_key_in_progress"
            )
            if (status not in RETRYABLE and not retry_later) or time.monotonic() > stop:
                return status, answer
            time.sleep(0.5)
            if step_up and not retry_later:
                body = {**body, "otp": person.wait_for_totp()}

    # The caseworker's work.

    def open_case(self) -> None:
        cw = self.caseworker
        status, person = self.call(
            "POST people/",
            cw,
            "POST",
            "people/",
            {
                "full_name": f"Bench Person {self.rng.randrange(10**6)}",
                "phone": f"+7928{self.rng.randrange(10**7):07d}",
            },
        )
        if status != 201:
            self.ledger.unknown["person"] += status in RETRYABLE
            return
        self.ledger.ack("person", person["id"])
        self.people.append(person["id"])
        body = {
            "primary_person": person["id"],
            "risk_level": self.rng.choice(["low", "medium", "high", "critical"]),
            "summary": "Bench case.",
            "consent_to_store": True,
            "consent_given_on": TODAY,
        }
        status, case = self.call("POST cases/", cw, "POST", "cases/", body)
        if status != 201:
            self.ledger.unknown["case"] += status in RETRYABLE
            return
        self.ledger.ack("case", case["id"])
        self.cases.append(case["id"])

    def allocate(self, source: str) -> None:
        if not self.cases:
            return
        case = self.rng.choice(self.cases)
        body = {"source": source, "case": case, "category": "travel", "amount": "5000.00"}
        status, allocation = self.keyed(
            "POST funds/allocations/", self.coordinators[0], "funds/allocations/", body
        )
        if status == 201:
            self.ledger.ack("allocation", allocation["id"])
            self.allocations.append(allocation["id"])

    def read_cases(self) -> None:
        self.call("GET cases/", self.caseworker, "GET", "cases/?assigned_to=me")

    def read_case(self) -> None:
        if self.cases:
            self.call(
                "GET cases/{id}/", self.caseworker, "GET", f"cases/{self.rng.choice(self.cases)}/"
            )

    def read_person(self) -> None:
        if self.people:
            self.call(
                "GET people/{id}/",
                self.caseworker,
                "GET",
                f"people/{self.rng.choice(self.people)}/",
            )

    def add_note(self) -> None:
        if self.cases:
            path = f"cases/{self.rng.choice(self.cases)}/notes/"
            status, note = self.call(
                "POST cases/{id}/notes/",
                self.caseworker,
                "POST",
                path,
                {"body": "Called; safe for now."},
            )
            if status == 201:
                self.ledger.ack("note", note["id"])
            else:
                self.ledger.unknown["note"] += status in RETRYABLE

    def add_need(self) -> None:
        if self.cases:
            path = f"cases/{self.rng.choice(self.cases)}/needs/"
            body = {
                "category": self.rng.choice(["food", "travel", "housing"]),
                "description": "Bench need.",
            }
            status, need = self.call("POST cases/{id}/needs/", self.caseworker, "POST", path, body)
            if status == 201:
                self.ledger.ack("need", need["id"])
            else:
                self.ledger.unknown["need"] += status in RETRYABLE

    def request_money(self) -> None:
        if not self.allocations:
            return
        marker = uuid.uuid4().hex
        body = {
            "allocation": self.rng.choice(self.allocations),
            "amount": f"{self.rng.randrange(5, 60)}.00",
            "currency": "EUR",
            "purpose": f"Bench {marker}",
            "method": "cash",
            "payee": "Bench Payee",
        }
        status, item = self.keyed(
            "POST funds/disbursements/", self.caseworker, "funds/disbursements/", body
        )
        if status == 201:
            self.ledger.ack("disbursement", marker)
            self.waiting.append({"id": item["id"], "approved_by": set()})

    # The coordinators' work.

    def read_queue(self) -> None:
        self.call(
            "GET funds/disbursements/?awaiting=me",
            self.coordinators[0],
            "GET",
            "funds/disbursements/?awaiting=me",
        )

    def approve(self) -> bool:
        for item in list(self.waiting):
            for person in self.coordinators:
                if person.username in item["approved_by"]:
                    continue
                code = person.totp_now()
                if code is None:
                    continue
                path = f"funds/disbursements/{item['id']}/approve/"
                status, answer = self.keyed(
                    "POST .../approve/", person, path, {"otp": code}, step_up=True
                )
                if status == 200:
                    self.ledger.ack("approval", f"{item['id']}:{person.username}")
                    item["approved_by"].add(person.username)
                    if answer["status"] == "approved":
                        self.waiting.remove(item)
                        self.approved.append(item["id"])
                return True
        return False

    def pay(self) -> bool:
        if not self.approved:
            return False
        for person in self.coordinators:
            code = person.totp_now()
            if code is None:
                continue
            item = self.approved[0]
            path = f"funds/disbursements/{item}/pay/"
            body = {"otp": code, "receipt_reference": "R-1"}
            status, _ = self.keyed("POST .../pay/", person, path, body, step_up=True)
            if status == 200:
                self.ledger.ack("payment", item)
                self.approved.pop(0)
            return True
        return False

    # The auditor's work.

    def report(self) -> None:
        self.call("GET funds/reports/summary/", self.auditor, "GET", "funds/reports/summary/")

    def audit_log(self) -> None:
        self.call("GET audit/entries/", self.auditor, "GET", "audit/entries/")

    def sign_in(self) -> None:
        """Every person of the desk signs in (before the clock starts: a sign-in is an Argon2
        hash, made once a shift, not once a request)."""
        for person in (self.caseworker, *self.coordinators, self.auditor):
            self.client(person)

    def work(self, until: float, source: str) -> None:
        actions = [
            (self.read_cases, 12),
            (self.read_case, 12),
            (self.read_person, 8),
            (self.add_note, 6),
            (self.add_need, 4),
            (self.open_case, 2),
            (self.request_money, 5),
            (self.read_queue, 4),
            (self.report, 2),
            (self.audit_log, 2),
        ]
        functions, weights = zip(*actions, strict=True)
        while time.monotonic() < until and not self.stop.is_set():
            if (self.pay() or self.approve()) and self.rng.random() < 0.5:
                continue
            if len(self.allocations) < 2 and self.cases:
                self.allocate(source)
            self.rng.choices(functions, weights)[0]()


# --- setup, a run, the checks ---------------------------------------------------------------


def create_people(product: Product, desks: int) -> list[tuple[Person, list[Person], Person]]:
    """Staff for `desks` desks, made in one process by the service `create_staff` calls (one
    `create_staff` per person would take minutes at 32 desks)."""
    import json as json_module

    names = []
    for n in range(desks):
        names += [(f"cw{n}", "caseworker"), (f"au{n}", "auditor")]
        names += [(f"co{n}a", "coordinator"), (f"co{n}b", "coordinator")]
    code = (
        "import json, secrets\n"
        "from accounts.services.staff import staff_create\n"
        f"for name, role in {names!r}:\n"
        "    password = secrets.token_urlsafe(18)\n"
        "    user, enrolment = staff_create(\n"
        "        username='bench-' + name, roles=[role], password=password)\n"
        "    print('STAFF', json.dumps(\n"
        "        [user.username, password, enrolment.secret, enrolment.backup_codes, role]))\n"
    )
    output = product.manage("shell", "-c", code)
    people = {}
    for line in output.splitlines():
        if not line.startswith("STAFF "):
            continue
        line = line.removeprefix("STAFF ")
        username, password, secret, codes, role = json_module.loads(line)
        people[username] = Person(username, password, secret, codes, role)
    return [
        (
            people[f"bench-cw{n}"],
            [people[f"bench-co{n}a"], people[f"bench-co{n}b"]],
            people[f"bench-au{n}"],
        )
        for n in range(desks)
    ]


def make_source(product: Product, person: Person) -> str:
    client = Client(product.port)
    client.login(person)
    body = {"name": "Bench appeal", "kind": "donation_campaign", "currency": "EUR"}
    body.update({"amount": "100000000.00", "received_on": TODAY})
    status, source = client.request("POST", "funds/sources/", body)
    assert status == 201, (status, source)
    return source["id"]


def sign_in_all(desks: list[Desk]) -> None:
    threads = [threading.Thread(target=desk.sign_in, daemon=True) for desk in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def sample_head_waits(product: Product, stop: threading.Event, counts: Counter) -> None:
    """Count busy client backends of the product's database, and those waiting on a lock in a
    statement naming the chain head or in a COMMIT, every SAMPLE_EVERY seconds."""
    import psycopg2

    connection = psycopg2.connect(f"{product.server}/{product.database}")
    connection.autocommit = True
    with connection.cursor() as cursor:
        while not stop.is_set():
            cursor.execute(
                "SELECT wait_event_type, query FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'active' AND backend_type = 'client backend'"
            )
            for wait_type, query in cursor.fetchall():
                counts["busy"] += 1
                text = (query or "").strip().upper()
                if wait_type == "Lock" and ("AUDIT_CHAINHEAD" in text or text == "COMMIT"):
                    counts["head"] += 1
            time.sleep(SAMPLE_EVERY)
    connection.close()


def audit_entries(product: Product) -> int:
    return int(psql(product.server, "SELECT count(*) FROM audit_logentry", product.database))


def run_level(
    product: Product, desks: list[Desk], seconds: float, source: str, waits: Counter
) -> tuple[float, int]:
    """Seconds the level ran, and the audit entries written in them (sign-ins not counted)."""
    sign_in_all(desks)
    before = audit_entries(product)
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=desk.work, args=(until, source), daemon=True) for desk in desks
    ]
    stop = threading.Event()
    sampler = threading.Thread(target=sample_head_waits, args=(product, stop, waits))
    started = time.monotonic()
    sampler.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    return elapsed, audit_entries(product) - before


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def print_level(
    clients: int, ledger: Ledger, elapsed: float, baseline: float | None, entries: int, waits
) -> float:
    total = sum(len(v) for v in ledger.latencies.values())
    rate = total / elapsed
    ratio = f"{rate / baseline:.2f}x of 1 client" if baseline else "the baseline"
    print(
        f"\n== {clients} client(s), {elapsed:.0f} s: {total} requests, {rate:.1f} req/s ({ratio})"
    )
    share = waits["head"] / max(waits["busy"], 1)
    print(
        f"audit: {entries / max(total, 1):.2f} entries per request; {100 * share:.1f}% of "
        f"{waits['busy']} busy backend samples waiting on the chain head"
    )
    print(f"{'endpoint':40} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for endpoint in sorted(ledger.latencies):
        values = ledger.latencies[endpoint]
        p50, p95, p99 = (percentile(values, q) * 1000 for q in (50, 95, 99))
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(ledger.statuses[endpoint].items()))
        print(f"{endpoint:40} {len(values):6} {p50:8.0f} {p95:8.0f} {p99:8.0f}  {statuses}")
    return rate


def check_everything(product: Product, ledgers: list[Ledger]) -> list[str]:
    """Every funds invariant by SQL, every acknowledged write present once, audit_verify."""
    problems = []

    def rows(sql: str) -> list[list[str]]:
        return [
            line.split("|")
            for line in psql(product.server, sql, product.database).splitlines()
            if line
        ]

    invariants = {
        "allocation reserved/spent equal the sums of its disbursements": """
            SELECT count(*) FROM funds_allocation a LEFT JOIN (
              SELECT allocation_id,
                     sum(amount_in_source_currency)
                         FILTER (WHERE status IN ('requested', 'approved')) r,
                     sum(amount_in_source_currency) FILTER (WHERE status = 'paid') s
                FROM funds_disbursement GROUP BY allocation_id) d ON d.allocation_id = a.id
             WHERE a.reserved <> coalesce(d.r, 0) OR a.spent <> coalesce(d.s, 0)""",
        "no allocation overspent": (
            "SELECT count(*) FROM funds_allocation WHERE reserved + spent + released > amount"
        ),
        "sources never over-allocated": """
            SELECT count(*) FROM funds_fundingsource s JOIN (
              SELECT source_id, sum(amount - released) a FROM funds_allocation GROUP BY 1) x
              ON x.source_id = s.id WHERE x.a > s.amount_received""",
        "nobody approved their own request": """
            SELECT count(*) FROM funds_approval p
              JOIN funds_disbursement d ON d.id = p.disbursement_id
             WHERE p.approver_id = d.requested_by_id""",
        "nobody paid their own request": (
            "SELECT count(*) FROM funds_disbursement WHERE paid_by_id = requested_by_id"
        ),
        "paid requests have their approvals": """
            SELECT count(*) FROM funds_disbursement d WHERE status = 'paid' AND (
              SELECT count(*) FROM funds_approval p WHERE p.disbursement_id = d.id)
              < CASE WHEN jsonb_array_length(d.approval_reasons) > 0 THEN 2 ELSE 1 END""",
        "one approval per approver": """
            SELECT count(*) FROM (SELECT 1 FROM funds_approval GROUP BY disbursement_id, approver_id
             HAVING count(*) > 1) x""",
    }
    for label, sql in invariants.items():
        try:
            bad = int(rows(sql)[0][0])
        except Exception as error:
            problems.append(f"{label}: could not check ({str(error)[:120]})")
            continue
        print(f"   {'ok ' if bad == 0 else 'BAD'} {label}" + (f": {bad}" if bad else ""))
        if bad:
            problems.append(f"{label}: {bad}")

    acknowledged: dict[str, set[str]] = defaultdict(set)
    unknown: Counter = Counter()
    for ledger in ledgers:
        for kind, ids in ledger.acknowledged.items():
            acknowledged[kind] |= ids
        unknown += ledger.unknown
    present = {
        "person": {r[0] for r in rows("SELECT id FROM people_person")},
        "case": {r[0] for r in rows("SELECT id FROM cases_case")},
        "note": {r[0] for r in rows("SELECT id FROM cases_note")},
        "need": {r[0] for r in rows("SELECT id FROM cases_need")},
        "allocation": {r[0] for r in rows("SELECT id FROM funds_allocation")},
        "approval": {
            f"{r[0]}:{r[1]}"
            for r in rows(
                "SELECT p.disbursement_id, u.username FROM funds_approval p "
                "JOIN accounts_user u ON u.id = p.approver_id"
            )
        },
        "payment": {r[0] for r in rows("SELECT id FROM funds_disbursement WHERE status = 'paid'")},
    }
    markers = Counter(
        r[0][len("Bench ") :]
        for r in rows("SELECT purpose FROM funds_disbursement WHERE purpose LIKE 'Bench %'")
    )
    for kind, ids in sorted(acknowledged.items()):
        found = set(markers) if kind == "disbursement" else present[kind]
        lost = ids - found
        mark = "ok " if not lost else "BAD"
        print(f"   {mark} {kind}: {len(ids)} acknowledged, {len(lost)} missing")
        if lost:
            problems.append(f"{len(lost)} acknowledged {kind} writes missing")
    duplicated = {marker: n for marker, n in markers.items() if n > 1}
    print(
        f"   {'ok ' if not duplicated else 'BAD'} money requests created twice: {len(duplicated)}"
    )
    if duplicated:
        problems.append(f"{len(duplicated)} money requests created more than once")
    if unknown:
        print(f"   unkeyed writes with no answer (may or may not exist): {dict(unknown)}")
    try:
        product.manage("audit_verify")
        entries = rows("SELECT count(*) FROM audit_logentry")[0][0]
        print(f"   ok  audit_verify over {entries} entries")
    except RuntimeError as error:
        problems.append(f"audit_verify failed: {str(error)[-300:]}")
        print("   BAD audit_verify")
    return problems


def build_desks(product: Product, staff, ledger: Ledger, seed: int) -> list[Desk]:
    return [
        Desk(product.port, cw, cos, au, ledger, random.Random(seed + n))  # noqa: S311 (a workload)
        for n, (cw, cos, au) in enumerate(staff)
    ]


def run_all(args, levels: list[int], *, control: bool) -> tuple[dict[int, float], list[str]]:
    """Prepare a product, run every level, check everything (not the control's chain, which it
    has none of); requests/s by level, and the problems found."""
    suffix = "_control" if control else ""
    product = Product(
        server=args.server,
        redis_url=args.redis,
        port=args.port,
        workers=args.workers,
        database=f"safe_passage_load{suffix}",
        app_role=f"safe_passage_load{suffix}_app",
    )
    label = " (control: entries inserted plainly, no chain)" if control else ""
    print(
        f"\npreparing: {product.database}, {args.workers} gunicorn workers, "
        f"Redis {args.redis}{label}; PostgreSQL synchronous_commit="
        + psql(product.server, "SHOW synchronous_commit").strip()
    )
    product.prepare()
    if control:
        psql(
            product.server,
            "DROP TRIGGER IF EXISTS audit_logentry_chain ON audit_logentry",
            product.database,
        )
    rates: dict[int, float] = {}
    problems: list[str] = []
    try:
        staff = create_people(product, max(levels))
        product.start()
        source = make_source(product, staff[0][1][0])
        ledgers, baseline = [], None
        for n, clients in enumerate(levels):
            ledger, waits = Ledger(), Counter()
            desks = build_desks(product, staff[:clients], ledger, seed=1000 * n)
            elapsed, entries = run_level(product, desks, args.duration, source, waits)
            rates[clients] = print_level(clients, ledger, elapsed, baseline, entries, waits)
            baseline = baseline or rates[clients]
            ledgers.append(ledger)
        if not control:
            print("\nchecks:")
            problems = check_everything(product, ledgers)
    finally:
        product.stop()
        if not args.keep:
            product.drop()
    return rates, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels, comma-separated")
    parser.add_argument("--duration", type=float, default=20, help="seconds per level")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--control",
        action="store_true",
        help="run the levels again with entries inserted plainly (the chain trigger dropped)",
    )
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",")]
    rates, problems = run_all(args, levels, control=False)
    if args.control:
        control_rates, _ = run_all(args, levels, control=True)
        print("\nthe chain's cost: requests/s with the plain-insert control / with the chain")
        for clients in levels:
            print(
                f"   {clients:3} client(s): {control_rates[clients]:7.1f} / {rates[clients]:7.1f}"
                f" = {control_rates[clients] / rates[clients]:.2f}x"
            )
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
