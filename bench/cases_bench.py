"""Case list benchmark (PostgreSQL). Prints its figures; not part of the test suite.

    .venv/bin/python bench/cases_bench.py [--small 10000] [--large 100000] [--requests 300]

`GET /api/v1/cases/` as it is served (real knox token, every middleware, the access entries of
the audit log, the primary person's name decrypted), at --small and at --large cases, both in
one run: the database is filled to --small, snapshotted (CREATE DATABASE ... TEMPLATE), then
grown to --large. The two sizes are then measured taking turns, in --chunks chunks each, every
chunk in a fresh Python process (as a fresh server worker), so drift of the machine, and the
state the filling leaves in a process, weigh on both sizes alike:

1. Server time per request (the time around the test client's get), p50 and p95, for a
   coordinator (sees every case) and for a caseworker assigned to --assigned cases (the scoped
   query joins the assignments): page 1 and a deep page at page_size=50, and page 1 filtered
   by status=intake&risk_level=critical; the six variants alternate in rounds of ten. The list
   pages by cursor, so a deep page (page 100 for the coordinator, the caseworker's last) is
   reached as a client reaches it: by following `next` links from page 1, untimed, in each
   measuring process; then the request for that cursor is timed.
   Target: p95 at --large <= 1.2x p95 at --small, for each. p95 is also shown without the
   requests that ran a full (generation 2) garbage collection: one in every dozen or so
   requests does, for tens of ms, whatever the number of cases.
2. SQL queries per list request at page_size 10 and at page_size 100, for both. Target: equal.
3. Where the time goes: SQL time per request by statement (page, prefetches, auth, audit; a
   count, if one ever came back). For a variant over target: EXPLAIN ANALYZE of its page query
   at --large.

The cases: --real cases opened through the services (`person_create`, `case_create`,
`case_transition`: data keys, members, assignments, audit entries), the rest bulk-inserted
with real encrypted values (fresh data keys wrapped as `data_key_issue` wraps them, their
ciphers cached on the DataKey instances as it caches them, so every field is sealed and every
blind index computed by the fields' own `pre_save` in `bulk_create`), with members, one
caseworker assignment each, spread statuses, risk levels and times, 1% of the ended ones
erased. Bulk rows have no audit entries (the list does not read them). After each fill:
VACUUM ANALYZE and CHECKPOINT.

It creates (and at the end drops) its own databases, `safe_passage_cases_bench` (--database)
and its `_small` snapshot, on the PostgreSQL server of BENCH_DATABASE_URL, else of
DATABASE_URL (only its server: the database that names is never touched), else
postgres://postgres@127.0.0.1:5432. The keys are fresh scratch keys made for these databases
(and handed to the measuring processes in their environment); the checkout's `var/` keys are
neither read nor changed. Nothing personal (all values are made up anyway) and no key is ever
printed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import math
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.scratch import SETTINGS_MODULE, psql, server_url, setup_database  # noqa: E402

CASES_URL = "/api/v1/cases/"

FLAT_TARGET = 1.2
PAGE_SIZE = 50
DEEP_PAGE = 100
FILTER = "status=intake&risk_level=critical"


def execute(sql: str, params: list | tuple | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# -- made-up people and cases -------------------------------------------------------------------

FIRST = ["Александра", "Константин", "Οδυσσέας", "Giedrė", "Yevheniia", "Мирослава", "Zoë"]
LAST = ["Ковальчук-Левандовская", "Παπαδοπούλου", "Šimkūnaitė", "Øvergaard-Ström", "Гончаренко"]
LANGUAGES = ["ru", "uk", "en", "de", "pl", "ka", "hy", "ro"]
DOCUMENT_TYPES = ["passport", "internal_passport", "travel_document", "id_card", "other"]
SUMMARY = (
    "Задержана дважды, отпущена, сейчас скрывается в чужой квартире; угрозы от родственников. "
    "Нужны документы и билет; связь только через доверенного человека. "
)
# Skewed as a long-running caseload is: most cases are over, a tenth are new.
STATUS_WEIGHTS = {
    "intake": 12,
    "verification": 8,
    "approved": 5,
    "in_transit": 4,
    "sheltered": 10,
    "resettled": 16,
    "closed": 30,
    "rejected": 5,
    "withdrawn": 5,
    "lost_contact": 5,
}
RISK_WEIGHTS = {"critical": 8, "high": 22, "medium": 45, "low": 25}
CONCERNS = ["detained", "threatened_by_family", "outed", "in_hiding", "missing_documents"]
ENDED = {"closed", "rejected", "withdrawn"}
HISTORY_DAYS = 3 * 365


def made_up_name(rng: random.Random, length: int = 40) -> str:
    """A Unicode name of exactly `length` characters (made up, never printed)."""
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(FIRST)}"
    return (name * 2)[:length].strip().ljust(length, "ё")


def person_fields(rng: random.Random, n: int) -> dict:
    return {
        "full_name": made_up_name(rng),
        "preferred_name": rng.choice(FIRST),
        "date_of_birth": datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(29000)),
        "phone": f"+7 928 {rng.randrange(10**7):07d}",
        "messenger": f"@bench_{n:07d}",
        "document_type": rng.choice(DOCUMENT_TYPES),
        "document_number": f"{rng.randrange(10**4):04d} {rng.randrange(10**6):06d}",
        "nationality": rng.choice(["Украина", "Россия", "Беларусь", "Sakartvelo"]),
        "languages": rng.sample(LANGUAGES, 3),
        "notes": "Нужна помощь по документам; едет вдвоём, двое детей и собака. " * 2,
    }


def case_fields(rng: random.Random) -> dict:
    return {
        "risk_level": rng.choices(list(RISK_WEIGHTS), list(RISK_WEIGHTS.values()))[0],
        "summary": SUMMARY * rng.randint(1, 4),
        "location": f"Квартира знакомых, район {rng.randrange(100)}, Владикавказ",
        "safe_contact": f"Signal only, code word {secrets.token_hex(3)}",
        "protection_concerns": rng.sample(CONCERNS, rng.randint(1, 3)),
        "consent_to_store": True,
        "consent_to_share": rng.random() < 0.6,
        "consent_given_on": datetime.date(2023, 1, 1) + datetime.timedelta(rng.randrange(900)),
    }


# -- staff ----------------------------------------------------------------------------------------


def create_staff(caseworkers: int) -> dict:
    """A coordinator and the measured caseworker with real knox tokens (as after a login), and
    `caseworkers` more caseworkers that the other cases are assigned to."""
    from django.db import transaction

    from accounts.services import staff_create, token_issue
    from audit.context import audit_context

    def make(username: str, role: str):
        with transaction.atomic():
            user, _ = staff_create(
                username=username, roles=[role], password=secrets.token_urlsafe(18)
            )
        return user

    coordinator = make("bench-coordinator", "coordinator")
    measured = make("bench-caseworker", "caseworker")
    tokens = {}
    for user in (coordinator, measured):
        with audit_context(actor=user), transaction.atomic():
            tokens[user.pk] = token_issue(user=user).token
    others = [make(f"bench-caseworker-{n:03d}", "caseworker") for n in range(caseworkers)]
    return {"coordinator": coordinator, "measured": measured, "others": others, "tokens": tokens}


# -- cases through the services -------------------------------------------------------------------


def create_real_cases(staff: dict, count: int, mine: int, rng: random.Random) -> tuple[float, set]:
    """`count` cases opened as the API opens them: a primary person (and every third case a
    partner) through `person_create`, the case through `case_create` by a caseworker (who is
    assigned by it), every third one moved on to verification. The measured caseworker opens
    the first `mine`. Returns the seconds taken and the references used."""
    from django.db import transaction

    from audit.context import audit_context
    from cases.services import Member, case_create, case_transition
    from people.services import person_create

    began, references = time.perf_counter(), set()
    for n in range(count):
        caseworker = staff["measured"] if n < mine else staff["others"][n % len(staff["others"])]
        with audit_context(actor=caseworker), transaction.atomic():
            primary = person_create(created_by=caseworker, **person_fields(rng, n))
            members = []
            if n % 3 == 0:
                partner = person_create(created_by=caseworker, **person_fields(rng, n))
                members.append(Member(person=partner, relationship="partner"))
            case = case_create(
                created_by=caseworker, primary_person=primary, members=members, **case_fields(rng)
            )
            if n % 3 == 1:
                case_transition(
                    case=case, actor=caseworker, to="verification", reason="documents seen"
                )
        references.add(case.reference)
    return time.perf_counter() - began, references


# -- cases bulk-inserted ---------------------------------------------------------------------------


@contextlib.contextmanager
def given_timestamps() -> Iterator[None]:
    """auto_now / auto_now_add off for the bulk insert, so created and updated times can be
    spread over years as in a real caseload (not all equal to the second of the insert)."""
    from cases.models import Case, CaseAssignment
    from people.models import Person

    with contextlib.ExitStack() as stack:
        for model, name, flag in (
            (Person, "created_at", "auto_now_add"),
            (Person, "updated_at", "auto_now"),
            (Case, "created_at", "auto_now_add"),
            (Case, "updated_at", "auto_now"),
            (CaseAssignment, "assigned_at", "auto_now_add"),
        ):
            stack.enter_context(mock.patch.object(model._meta.get_field(name), flag, False))
        yield


class BulkFiller:
    """Cases, people, members, assignments and data keys, inserted with bulk_create."""

    def __init__(self, staff: dict, rng: random.Random, references: set) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from encryption.keyring import keyring
        from encryption.sentinels import require_active_kek_sentinel

        self.staff, self.rng, self.references = staff, rng, references
        self.ring = keyring()
        require_active_kek_sentinel(self.ring)
        self.aesgcm = AESGCM
        self.now = datetime.datetime.now(datetime.UTC)
        self.n = 0
        self.collisions = 0
        self.erased = 0
        self.samples: dict = {}  # case id -> (primary full name, summary), checked later

    def data_key(self, owner_label: str, owner_id: uuid.UUID, *, destroyed: bool = False):
        from encryption.datakeys import CIPHER_ATTR, wrap
        from encryption.keyring import KEY_BYTES
        from encryption.models import DataKey

        if destroyed:  # an erased record's key: crypto-shredded
            return DataKey(
                owner_label=owner_label,
                owner_id=owner_id,
                kek_id=self.ring.active_kek_id,
                wrapped=None,
                destroyed_at=self.now,
            )
        key = secrets.token_bytes(KEY_BYTES)
        kek_id, wrapped = wrap(key, owner_label=owner_label, owner_id=owner_id, ring=self.ring)
        data_key = DataKey(
            owner_label=owner_label, owner_id=owner_id, kek_id=kek_id, wrapped=wrapped
        )
        # As data_key_issue leaves it: the fields' pre_save seals with this cipher.
        data_key.__dict__[CIPHER_ATTR] = self.aesgcm(key)
        return data_key

    def reference(self) -> str:
        from cases.models import new_reference

        while (reference := new_reference()) in self.references:
            self.collisions += 1
        self.references.add(reference)
        return reference

    def person(self, creator, created: datetime.datetime, erased_at):
        from people.models import Person

        self.n += 1
        fields = {} if erased_at else person_fields(self.rng, self.n)
        person = Person(
            created_by=creator, created_at=created, updated_at=erased_at or created, **fields
        )
        person.erased_at = erased_at
        person.data_key = self.data_key("people.person", person.id, destroyed=erased_at is not None)
        return person, fields.get("full_name")

    def batch(self, size: int, mine: set) -> tuple[list, ...]:
        from cases.models import Case, CaseAssignment, CaseMember

        rng, staff = self.rng, self.staff
        statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        keys, people, cases, members, assignments = [], [], [], [], []
        for i in range(size):
            age = rng.uniform(1, HISTORY_DAYS)
            created = self.now - datetime.timedelta(days=age)
            updated = created + datetime.timedelta(days=rng.uniform(0, age - 0.5))
            status = rng.choices(statuses, weights)[0]
            erased_at = updated if status in ENDED and rng.random() < 0.01 else None
            caseworker = staff["measured"] if i in mine else rng.choice(staff["others"])
            household = [self.person(caseworker, created, erased_at)]
            if rng.random() < 1 / 3:
                household.append(self.person(caseworker, created, erased_at))
            fields = case_fields(rng)
            if erased_at:
                for name in ("summary", "location", "safe_contact", "protection_concerns"):
                    fields[name] = None
            case = Case(
                reference=self.reference(),
                status=status,
                primary_person=household[0][0],
                created_by=caseworker,
                created_at=created,
                updated_at=updated,
                erased_at=erased_at,
                **fields,
            )
            case.data_key = self.data_key("cases.case", case.id, destroyed=erased_at is not None)
            if erased_at:
                self.erased += 1
            elif len(self.samples) < 200 and rng.random() < 0.05:
                self.samples[case.id] = (household[0][1], fields["summary"])
            keys.append(case.data_key)
            for n, (person, _) in enumerate(household):
                keys.append(person.data_key)
                people.append(person)
                members.append(
                    CaseMember(case=case, person=person, relationship="partner" if n else "primary")
                )
            cases.append(case)
            assignments.append(
                CaseAssignment(
                    case=case,
                    user=caseworker,
                    assigned_by=staff["coordinator"],
                    assigned_at=created,
                )
            )
        return keys, people, cases, members, assignments

    def fill(self, count: int, mine_count: int, batch_size: int) -> float:
        """`count` more cases; `mine_count` of them (spread at random) assigned to the measured
        caseworker. Returns the seconds taken."""
        from django.db import transaction

        from cases.models import Case, CaseAssignment, CaseMember
        from encryption.models import DataKey
        from people.models import Person

        mine = set(self.rng.sample(range(count), mine_count))
        began = time.perf_counter()
        for start in range(0, count, batch_size):
            size = min(batch_size, count - start)
            in_batch = {i - start for i in mine if start <= i < start + size}
            keys, people, cases, members, assignments = self.batch(size, in_batch)
            with transaction.atomic(), given_timestamps():
                DataKey.objects.bulk_create(keys)
                Person.objects.bulk_create(people)
                Case.objects.bulk_create(cases)
                CaseMember.objects.bulk_create(members)
                CaseAssignment.objects.bulk_create(assignments)
        return time.perf_counter() - began


def check_samples(samples: dict) -> bool:
    """Bulk-inserted cases open like any other: names and summaries decrypt to what was made."""
    from cases.models import Case

    cases = list(Case.objects.for_display().filter(pk__in=list(samples)))
    return len(cases) == len(samples) and all(
        (case.primary_person.full_name, case.summary) == samples[case.pk] for case in cases
    )


# -- the list endpoint ----------------------------------------------------------------------------


class ListClient:
    """The real request path: the Django test client through every middleware, a knox token."""

    def __init__(self, user, token: str) -> None:
        from django.conf import settings
        from rest_framework.test import APIClient

        from accounts.throttles import StaffRateThrottle

        hosts = [h for h in settings.ALLOWED_HOSTS if h not in {"*", ""}]
        host = "testserver" if "testserver" in hosts else (hosts[0] if hosts else "testserver")
        self.client = APIClient(SERVER_NAME=host.lstrip("."))
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        # The throttle counts every request in the shared cache: its history is emptied
        # (untimed) before each one, so the benchmark measures one ordinary throttle check
        # and is never refused for sending hundreds of requests a minute.
        self.throttle_key = StaffRateThrottle.cache_format % {
            "scope": StaffRateThrottle.scope,
            "ident": str(user.pk),
        }

    def get(self, query: str) -> tuple[float, object]:
        from django.core.cache import cache

        cache.delete(self.throttle_key)
        began = time.perf_counter()
        response = self.client.get(f"{CASES_URL}?{query}")
        seconds = time.perf_counter() - began
        if response.status_code != 200:
            sys.exit(f"GET {CASES_URL}?{query} answered {response.status_code}")
        return seconds, response


def scenarios(measured, assigned: int) -> list[dict]:
    """(who, what, query string, the cases it selects): the six timed variants. A deep page's
    query string is its cursor, found by `resolve_deep_pages`."""
    from cases.models import Case

    last = math.ceil(assigned / PAGE_SIZE)
    everyone, mine = Case.objects.all(), Case.objects.filter(assignments__user=measured)
    filtered = {"status": "intake", "risk_level": "critical"}
    rows = []
    for who, cases, deep in (("coordinator", everyone, DEEP_PAGE), ("caseworker", mine, last)):
        rows += [
            {"who": who, "what": "page 1", "query": f"page_size={PAGE_SIZE}", "cases": cases},
            {
                "who": who,
                "what": f"page {deep}",
                "query": None,
                "cases": cases,
                "page": deep,
            },
            {
                "who": who,
                "what": "filtered",
                "query": f"page_size={PAGE_SIZE}&{FILTER}",
                "cases": cases.filter(**filtered),
            },
        ]
    return rows


def resolve_deep_pages(clients: dict, rows: list[dict]) -> None:
    """A deep page's query string: its cursor, from following `next` links from page 1 (with
    page 1's query) as a client would. Untimed; the cases do not change meanwhile, so every
    timed request for it reads the same page."""
    for row in rows:
        if row["query"] is not None:
            continue
        query = f"page_size={PAGE_SIZE}"
        for _ in range(row["page"] - 1):
            _, response = clients[row["who"]].get(query)
            following = response.json()["next"]
            if following is None:
                sys.exit(f"{row['who']} {row['what']}: the list ends before that page")
            query = urlsplit(following).query
        row["query"] = query


def check_responses(clients: dict, rows: list[dict]) -> None:
    """Every variant answers no count, and exactly the cases that the list order (read
    straight from the ORM, by offset) puts on that page, their names decrypted."""
    from cases.api import CaseListPagination

    for row in rows:
        _, response = clients[row["who"]].get(row["query"])
        body = response.json()
        count = row["cases"].count()
        start = (row.get("page", 1) - 1) * PAGE_SIZE
        ordered = row["cases"].order_by(*CaseListPagination.ordering)
        expected = [str(pk) for pk in ordered.values_list("pk", flat=True)[start:][:PAGE_SIZE]]
        if set(body) != {"next", "previous", "results"}:
            sys.exit(f"{row['who']} {row['what']}: the answer is not a cursor page")
        ids = [r["id"] for r in body["results"]]
        if not expected or ids != expected:
            sys.exit(f"{row['who']} {row['what']}: the page holds other cases than expected")
        named = [r for r in body["results"] if not r["erased"]]
        if any(not r["primary_person_name"] or not r["summary"] for r in named):
            sys.exit(f"{row['who']} {row['what']}: a name or summary did not decrypt")
        row["count"] = count


class FullCollections:
    """Time spent in full (generation 2) collections of Python's cyclic garbage collector:
    they run every dozen or so requests, inside whichever request crosses the threshold, and
    take tens of milliseconds whatever the number of cases."""

    def __init__(self) -> None:
        self.seconds, self.began = 0.0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self.began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self.began


CONTROL = "control: fixed Python work, no I/O"


def control() -> float:
    """Seconds for a fixed piece of pure-Python work (no database, no collection): how fast
    the machine runs Python at that moment, next to the requests."""
    gc.disable()
    try:
        began = time.perf_counter()
        rows = [{"id": n, "name": f"case {n:05d}", "tags": [n, n + 1]} for n in range(3000)]
        json.dumps([sorted(row.items(), key=str) for row in rows])
        return time.perf_counter() - began
    finally:
        gc.enable()


def timed(clients: dict, rows: list[dict], requests: int, warmup: int) -> dict:
    """{variant: [(seconds, seconds of it in a full garbage collection)]}, the variants
    alternating in rounds of ten requests so that drift hits each alike; and the control,
    timed after every round."""
    per_round = 10
    times: dict[str, list[tuple[float, float]]] = {key(row): [] for row in rows}
    for row in rows:
        for _ in range(warmup):
            clients[row["who"]].get(row["query"])
    watch = FullCollections()
    gc.collect()  # both sizes start from the same collector state
    gc.callbacks.append(watch)
    try:
        for n in range(math.ceil(requests / per_round)):
            for row in rows if n % 2 == 0 else rows[::-1]:
                client = clients[row["who"]]
                for _ in range(per_round):
                    before = watch.seconds
                    seconds = client.get(row["query"])[0]
                    times[key(row)].append((seconds, watch.seconds - before))
                times.setdefault(CONTROL, []).append((control(), 0.0))
    finally:
        gc.callbacks.remove(watch)
    return times


def key(row: dict) -> str:
    return f"{row['who']}, {row['what']}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p95(samples: list[tuple[float, float]], *, without_gc: bool = False) -> float:
    values = [s for s, pause in samples if not (without_gc and pause)]
    return percentile(values, 0.95)


def count_queries(clients: dict) -> dict[str, dict[int, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, dict[int, int]] = {}
    for who, client in clients.items():
        counts[who] = {}
        for page_size in (10, 100):
            with CaptureQueriesContext(connection) as captured:
                _, response = client.get(f"page_size={page_size}")
            if len(response.json()["results"]) != page_size:
                sys.exit(f"{who}: page_size={page_size} returned a short page")
            counts[who][page_size] = len(captured.captured_queries)
    return counts


FIRST_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"(\w+)"')


def statement_label(sql: str) -> str:
    text = sql.lstrip()
    verb = text.split(None, 1)[0].upper()
    if text.upper().startswith("SELECT COUNT("):
        verb = "COUNT"
    match = FIRST_TABLE.search(sql)
    return f"{verb} {match.group(1)}" if match else verb


def sql_split(clients: dict, rows: list[dict], requests: int) -> dict:
    """SQL time per request by statement (full precision, from an execute wrapper), and the
    statements themselves (for EXPLAIN)."""
    from django.db import connection

    split: dict = {}
    for row in rows:
        per_label: dict[str, list[float]] = defaultdict(list)
        totals, sql_totals, statements = [], [], {}
        for _ in range(requests):
            this: dict[str, float] = defaultdict(float)

            def wrapper(execute, sql, params, many, context, this=this, statements=statements):
                began = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    label = statement_label(sql)
                    this[label] += time.perf_counter() - began
                    statements.setdefault(label, (sql, params))

            with connection.execute_wrapper(wrapper):
                seconds, _ = clients[row["who"]].get(row["query"])
            totals.append(seconds)
            sql_totals.append(sum(this.values()))
            for label, spent in this.items():
                per_label[label].append(spent)
        split[key(row)] = {
            "total": statistics.median(totals),
            "sql": statistics.median(sql_totals),
            "labels": {label: statistics.median(v) for label, v in per_label.items()},
            "statements": statements,
        }
    return split


def explain(sql: str, params) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [line for (line,) in cursor.fetchall()]


# -- one measurement, in a fresh process -----------------------------------------------------------


def child_main() -> None:
    """One chunk of one configuration in a fresh Python process (as a freshly started server
    worker would be): the job comes on stdin, the figures go out on stdout's last line."""
    job = json.loads(sys.stdin.read())
    import django

    django.setup()
    from accounts.models import User

    users = {who: User.objects.get(pk=pk) for who, (pk, _) in job["users"].items()}
    clients = {who: ListClient(users[who], token) for who, (_, token) in job["users"].items()}
    rows = scenarios(users["caseworker"], job["assigned"])
    resolve_deep_pages(clients, rows)
    check_responses(clients, rows)
    counts = count_queries(clients)
    times = timed(clients, rows, job["requests"], job["warmup"])
    split = sql_split(clients, rows, job["split_requests"]) if job["split_requests"] else {}
    plans = {}
    if job["explain"]:
        for row in rows:
            statements = split[key(row)]["statements"]
            plans[key(row)] = {
                label: {"sql": statements[label][0], "plan": explain(*statements[label])}
                for label in ("COUNT cases_case", "SELECT cases_case")
                if label in statements
            }
    for figures in split.values():
        figures.pop("statements")
    result = {
        "times": times,
        "counts": counts,
        "split": split,
        "cases": {key(row): row["count"] for row in rows},
        "plans": plans,
    }
    print("RESULT " + json.dumps(result))


def run_child(job: dict, server: str, database: str) -> dict:
    """One chunk in a fresh process, on `database` (same scratch keys), its figures back."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child"],
        input=json.dumps(job),
        env={**os.environ, "DATABASE_URL": f"{server}/{database}"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"a measuring process failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.rstrip("\n").split("\n")[-1].removeprefix("RESULT "))
    result["counts"] = {
        who: {int(size): n for size, n in by_size.items()}
        for who, by_size in result["counts"].items()
    }
    return result


def measure_all(args, server: str, configs: list[dict], users: dict) -> dict:
    """Every configuration in --chunks chunks, the configurations taking turns (in a rotating
    order), each chunk in a fresh process: drift of the machine hits every size alike."""
    per_chunk = max(10, math.ceil(args.requests / args.chunks / 10) * 10)
    results: dict[str, dict] = {}
    began = time.perf_counter()
    for chunk in range(args.chunks):
        shift = chunk % len(configs)
        for config in configs[shift:] + configs[:shift]:
            last = chunk == args.chunks - 1
            job = {
                "users": users,
                "assigned": args.assigned,
                "requests": per_chunk,
                "warmup": args.warmup,
                "split_requests": args.split_requests if last else 0,
                "explain": last and config["size"] == "large",
            }
            figures = run_child(job, server, config["database"])
            merged = results.setdefault(
                config["name"], {**figures, "times": defaultdict(list), "chunk_counts": []}
            )
            for name, samples in figures["times"].items():
                merged["times"][name] += samples
            merged["chunk_counts"].append(figures["counts"])
            if last:
                merged["split"], merged["plans"] = figures["split"], figures["plans"]
    seconds = time.perf_counter() - began
    print(
        f"\nmeasured {len(configs)} configurations x {args.chunks} chunks of {per_chunk} "
        f"requests per variant (after {args.warmup} warm-up requests per variant), taking "
        f"turns, each chunk in a fresh process, in {seconds:.0f} s"
    )
    return results


def report_config(config: dict, figures: dict, split_requests: int) -> None:
    times, counts = figures["times"], figures["chunk_counts"]
    print(f"\n-- {config['label']} --")
    print(
        f"{'':30}{'cases':>8}{'p50 ms':>8}{'p95 ms':>8}{'best':>7}   "
        "p95 w/o full GC; requests with a full GC, its median pause"
    )
    for name, samples in times.items():
        if name == CONTROL:
            continue
        values = [s * 1000 for s, _ in samples]
        pauses = [pause * 1000 for _, pause in samples if pause]
        pause = f"{statistics.median(pauses):5.1f} ms" if pauses else "    -"
        print(
            f"{name:30}{figures['cases'][name]:8,}{percentile(values, 0.5):8.2f}"
            f"{percentile(values, 0.95):8.2f}{min(values):7.2f}"
            f"{p95(samples, without_gc=True) * 1000:9.2f}; "
            f"{len(pauses) / len(samples):4.0%}, {pause}"
        )
    control_ms = [seconds * 1000 for seconds, _ in times[CONTROL]]
    print(
        f"{CONTROL}, after each round: p50 {percentile(control_ms, 0.5):.2f} ms, "
        f"p95 {percentile(control_ms, 0.95):.2f} ms ({len(control_ms)} times)"
    )
    for who in ("coordinator", "caseworker"):
        seen = sorted({(c[who][10], c[who][100]) for c in counts})
        print(
            f"queries per request, {who}: "
            + " | ".join(f"page_size=10: {a}, page_size=100: {b}" for a, b in seen)
        )
    print(f"SQL time per request (median of {split_requests} requests, ms), by statement:")
    for name, split in figures["split"].items():
        parts = ", ".join(
            f"{label} {spent * 1000:.2f}"
            for label, spent in sorted(split["labels"].items(), key=lambda item: -item[1])
            if spent >= 0.0002
        )
        print(
            f"  {name}: request {split['total'] * 1000:.1f}, SQL {split['sql'] * 1000:.1f} "
            f"({parts})"
        )


def settle(server: str, database: str) -> None:
    """After a bulk insert: statistics and visibility map up to date (autovacuum may be off),
    and the dirty pages written out now rather than by the checkpointer during the timing."""
    psql(server, "VACUUM ANALYZE", database)
    psql(server, "CHECKPOINT", database)


def copy_database(server: str, source: str, target: str) -> None:
    """A snapshot of `source` (no session may be connected to it meanwhile)."""
    from django.db import connection, connections

    version = connection.cursor().connection.server_version
    connections.close_all()
    strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
    psql(server, f'DROP DATABASE IF EXISTS "{target}"')
    psql(server, f'CREATE DATABASE "{target}" TEMPLATE "{source}"{strategy}')


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    if sys.argv[1:] == ["--child"]:
        child_main()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000, help="cases, first size")
    parser.add_argument("--large", type=int, default=100_000, help="cases, second size")
    parser.add_argument("--real", type=int, default=300, help="cases opened through services")
    parser.add_argument("--assigned", type=int, default=200, help="the caseworker's cases")
    parser.add_argument("--real-mine", type=int, default=50, help="of them opened by services")
    parser.add_argument("--caseworkers", type=int, default=40, help="other caseworkers")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per variant")
    parser.add_argument("--chunks", type=int, default=5, help="turns per configuration")
    parser.add_argument("--warmup", type=int, default=10, help="per variant and chunk")
    parser.add_argument("--split-requests", type=int, default=30, help="requests for the split")
    parser.add_argument("--batch-size", type=int, default=2000, help="bulk insert batch")
    parser.add_argument("--database", default="safe_passage_cases_bench")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    if not args.real_mine <= args.assigned <= args.small - args.real + args.real_mine:
        parser.error("need --real-mine <= --assigned <= the caseworker's share of --small")
    if not args.real <= args.small <= args.large or args.small < DEEP_PAGE * PAGE_SIZE:
        parser.error(f"need --real <= --small <= --large and --small >= {DEEP_PAGE * PAGE_SIZE}")
    if args.real_mine > args.real or min(args.requests, args.chunks, args.warmup) < 1:
        parser.error("counts must be at least 1 and --real-mine <= --real")

    server = server_url()
    databases = [args.database, f"{args.database}_small"]
    setup_database(server, args.database, kek_id="bench-cases")
    rng = random.Random(args.seed)  # noqa: S311 (made-up cases, not keys)
    try:
        run(args, server, databases, rng)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            for name in databases:
                psql(server, f'DROP DATABASE IF EXISTS "{name}"')


def run(args, server: str, databases: list[str], rng: random.Random) -> None:
    from django.db import connection

    version = connection.cursor().connection.server_version
    settings = dict(
        execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers', 'autovacuum', 'work_mem', 'max_parallel_workers_per_gather')"
        )
    )
    configured = ", ".join(f"{name} {value}" for name, value in sorted(settings.items()))
    print(
        f"PostgreSQL {version // 10000}.{version % 100} ({configured}), "
        f"scratch databases {', '.join(databases)}, settings {SETTINGS_MODULE}, "
        f"cache {'Redis' if os.environ.get('REDIS_URL') else 'database'}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    staff = create_staff(args.caseworkers)
    seconds, references = create_real_cases(staff, args.real, args.real_mine, rng)
    per_case = seconds / args.real
    print(
        f"opened {args.real:,} cases through the services (person_create x1-2, case_create, "
        f"every third case_transition; audit entries and all) in {seconds:.1f} s = "
        f"{per_case * 1000:.1f} ms a case: {args.large:,} that way would take "
        f"{per_case * args.large / 60:.0f} min"
    )
    filler = BulkFiller(staff, rng, references)
    bulk = args.small - args.real
    seconds = filler.fill(bulk, args.assigned - args.real_mine, args.batch_size)
    print(
        f"bulk-inserted {bulk:,} cases in {seconds:.1f} s = {bulk / seconds:,.0f} cases/s "
        f"(data keys wrapped, fields sealed, blind indexes computed; no audit entries)"
    )
    settle(server, args.database)
    small_db = databases[1]
    copy_database(server, args.database, small_db)
    grow = args.large - args.small
    seconds = filler.fill(grow, 0, args.batch_size)
    print(
        f"snapshot {small_db!r} taken at {args.small:,} cases; then bulk-inserted {grow:,} "
        f"more cases in {seconds:.1f} s = {grow / seconds:,.0f} cases/s into "
        f"{args.database!r}; VACUUM ANALYZE and CHECKPOINT after each fill"
    )
    settle(server, args.database)
    configs = [
        {"name": "small", "size": "small", "database": small_db},
        {"name": "large", "size": "large", "database": args.database},
    ]
    for config in configs:
        cases = getattr(args, config["size"])
        config["label"] = f"{cases:,} cases"

    users = {
        who: [str(staff[name].pk), staff["tokens"][staff[name].pk]]
        for who, name in (("coordinator", "coordinator"), ("caseworker", "measured"))
    }
    results = measure_all(args, server, configs, users)
    print(f"\n== GET {CASES_URL} ==")
    for config in configs:
        report_config(config, results[config["name"]], args.split_requests)
    report_data(staff, filler)
    summary(args, results)


def report_data(staff: dict, filler: BulkFiller) -> None:
    from accounts.models import User
    from audit.models import LogEntry
    from cases.models import Case, CaseAssignment, CaseMember

    mine = CaseAssignment.objects.filter(user=staff["measured"]).count()
    print(
        f"\ndata at the large size: {Case.objects.count():,} cases, "
        f"{CaseMember.objects.count():,} members, {CaseAssignment.objects.count():,} "
        f"assignments ({mine} of the measured caseworker; {User.objects.count()} staff), "
        f"{filler.erased} erased; {len(filler.samples)} sampled bulk cases decrypt to what was "
        f"inserted: {check_samples(filler.samples)}; reference collisions met while "
        f"generating: {filler.collisions}; audit log {LogEntry.objects.count():,} entries "
        f"(mostly the access entries of the requests)"
    )


def variants(figures: dict) -> list[str]:
    return [name for name in figures["times"] if name != CONTROL]


def ratio_interval(
    before: list, after: list, without_gc: bool, seed: int, draws: int = 1000
) -> tuple[float, float, float]:
    """p95(after) / p95(before), and the 2.5th and 97.5th percentiles of that ratio over
    bootstrap resamples of both: how far the sampling noise alone moves it."""
    rng = random.Random(seed)  # noqa: S311 (resampling, not keys)
    a = [s for s, pause in before if not (without_gc and pause)]
    b = [s for s, pause in after if not (without_gc and pause)]
    ratios = sorted(
        percentile(rng.choices(b, k=len(b)), 0.95) / percentile(rng.choices(a, k=len(a)), 0.95)
        for _ in range(draws)
    )
    return (
        percentile(b, 0.95) / percentile(a, 0.95),
        percentile(ratios, 0.025),
        percentile(ratios, 0.975),
    )


def summary(args, results: dict) -> None:
    small, large = results["small"], results["large"]
    verdicts: list[tuple[str, str, bool | None]] = []
    print(
        f"\n== p95 at {args.large:,} / p95 at {args.small:,} cases (target <= {FLAT_TARGET}); "
        "[95% bootstrap interval] =="
    )
    print(f"{'':30}{'all requests':>20}{'w/o full GC':>20}")
    over = []
    for name in variants(small):
        line, figures = f"{name:30}", []
        for without_gc in (False, True):
            ratio, low, high = ratio_interval(
                small["times"][name], large["times"][name], without_gc, args.seed
            )
            figures.append((ratio, low, high))
            line += f"{ratio:7.2f}x [{low:.2f}-{high:.2f}]"
        print(line)
        ratio, low, high = figures[0]
        noisy = " (interval spans the target)" if low <= FLAT_TARGET < high else ""
        verdicts.append(
            (
                f"p95 flat, {name}",
                f"{ratio:.2f}x [{low:.2f}-{high:.2f}]{noisy}",
                ratio <= FLAT_TARGET,
            )
        )
        if max(figures[0][0], figures[1][0]) > FLAT_TARGET:
            over.append(name)
    control_ratio = percentile([s for s, _ in large["times"][CONTROL]], 0.5) / percentile(
        [s for s, _ in small["times"][CONTROL]], 0.5
    )
    print(
        f"{CONTROL}, p50 at {args.large:,} / at {args.small:,}: {control_ratio:.2f}x (the "
        "machine's own difference between the two, nothing to do with cases)"
    )
    verdicts.append(("control, p50 large / small (no target)", f"{control_ratio:.2f}x", None))
    for who in ("coordinator", "caseworker"):
        pairs = [
            (counts[who][10], counts[who][100])
            for size in (small, large)
            for counts in size["chunk_counts"]
        ]
        verdicts.append(
            (
                f"queries, page_size 10 vs 100, {who}",
                " / ".join(f"{a} vs {b}" for a, b in sorted(set(pairs))),
                all(a == b for a, b in pairs),
            )
        )

    shown: set[str] = set()
    for name in over:
        for label, plan in large["plans"][name].items():
            if plan["sql"] in shown:
                continue
            if not shown:
                print(
                    f"\n== EXPLAIN (ANALYZE, BUFFERS) at {args.large:,} cases, "
                    "variants over target =="
                )
            shown.add(plan["sql"])
            print(f"\n-- {name}: {label} --")
            print("\n".join(plan["plan"]))

    print("\n== summary ==")
    for what, figure, met in verdicts:
        verdict = "" if met is None else ("MET" if met else "NOT MET")
        print(f"{what:40} {figure:>48}  {verdict}".rstrip())


if __name__ == "__main__":
    main()
