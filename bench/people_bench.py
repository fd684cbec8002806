"""People and encryption benchmark (PostgreSQL). Prints its figures; not part of the test suite.

    .venv/bin/python bench/people_bench.py [--people 2000] [--rotate-keys 100000] [--rounds 30]

1. One encrypted value (a 40-character Unicode name in `Person.full_name`): the field's seal
   and open against a bare AES-256-GCM encrypt and decrypt of the same bytes (cipher built once,
   same associated data), in µs per value, and the ratio.
2. `GET /api/v1/people/?page_size=50` as a coordinator (real knox token, every middleware, the
   access entries of the audit log) over --people people with every personal field filled:
   server time per request, p50, against the same request with decryption replaced by a no-op
   (a fixed value of the field's type, no data key unwrapped). The two variants alternate round
   by round. Target: ratio <= 1.3.
3. SQL queries per list request at page_size 10 and at page_size 100. Target: equal.
4. `data_keys_rotate` (what `manage.py rotate_keys` runs) over --rotate-keys data keys after a
   new KEK is made active: data keys rewrapped per second, then a sample checked to unwrap
   with the new KEK alone. Target: >= 5,000/s.

It creates (and at the end drops) its own database, `safe_passage_people_bench` (--database),
on the PostgreSQL server of BENCH_DATABASE_URL, else of DATABASE_URL (only its server: the
database that names is never touched), else postgres://postgres@127.0.0.1:5432. The keys are
fresh scratch keys made for that database; the checkout's `var/` keys are neither read nor
changed. Nothing personal (all values are made up anyway) and no key is ever printed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import pstats
import random
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.scratch import SETTINGS_MODULE, psql, server_url, setup_database  # noqa: E402

LIST_TARGET = 1.3
ROTATE_TARGET = 5000


# -- made-up people ---------------------------------------------------------------------------

FIRST = ["Александра", "Константин", "Οδυσσέας", "Giedrė", "Yevheniia", "Мирослава", "Zoë"]
LAST = ["Ковальчук-Левандовская", "Παπαδοπούλου", "Šimkūnaitė", "Øvergaard-Ström", "Гончаренко"]
LANGUAGES = ["ru", "uk", "en", "de", "pl", "ka", "hy", "ro"]
DOCUMENT_TYPES = ["passport", "internal_passport", "travel_document", "id_card", "other"]


def made_up_name(rng: random.Random, length: int = 40) -> str:
    """A Unicode name of exactly `length` characters (made up, never printed)."""
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(FIRST)}"
    return (name * 2)[:length].strip().ljust(length, "ё")


def made_up_fields(rng: random.Random, n: int) -> dict:
    return {
        "full_name": made_up_name(rng),
        "preferred_name": rng.choice(FIRST),
        "date_of_birth": datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(29000)),
        "phone": f"+7 928 {rng.randrange(10**7):07d}",
        "messenger": f"@bench_{n:06d}",
        "document_type": rng.choice(DOCUMENT_TYPES),
        "document_number": f"{rng.randrange(10**4):04d} {rng.randrange(10**6):06d}",
        "nationality": rng.choice(["Украина", "Россия", "Беларусь", "Sakartvelo"]),
        "languages": rng.sample(LANGUAGES, 3),
        "notes": "Нужна помощь по документам; едет вдвоём, двое детей и собака. " * 4,
    }


def create_staff():
    """A coordinator (sees every person) with a real knox token, as after a login."""
    from django.db import transaction

    from accounts.services import staff_create, token_issue
    from audit.context import audit_context

    with transaction.atomic():
        user, _ = staff_create(
            username="bench-coordinator",
            roles=["coordinator"],
            password=secrets.token_urlsafe(18),
        )
    with audit_context(actor=user):
        token = token_issue(user=user).token
    return user, token


def create_people(user, count: int, rng: random.Random) -> tuple[float, dict]:
    """`count` people through `person_create`, 100 per transaction. Returns the seconds taken
    and {person id: full name} (kept to check the values after rotation, never printed)."""
    from django.db import transaction

    from audit.context import audit_context
    from people.services import person_create

    names: dict = {}
    began = time.perf_counter()
    with audit_context(actor=user):
        for start in range(0, count, 100):
            with transaction.atomic():
                for n in range(start, min(start + 100, count)):
                    fields = made_up_fields(rng, n)
                    person = person_create(created_by=user, **fields)
                    names[person.pk] = fields["full_name"]
    return time.perf_counter() - began, names


def profile_top(profile: cProfile.Profile, title: str, limit: int = 18) -> str:
    """The functions with the most own time (names and timings only, never arguments)."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join([f"   cProfile of {title}, by own time:", *("   " + x for x in lines[start:])])


# -- 1. one value -------------------------------------------------------------------------------


def bench_value(person, value: str, ops: int, repeats: int) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from encryption.datakeys import CIPHER_ATTR, NONCE_BYTES, unwrap
    from encryption.fields import FORMAT_V1
    from people.models import Person

    field = Person._meta.get_field("full_name")
    plaintext = value.encode("utf-8")
    aad = field.aad(bytes([FORMAT_V1]) + person.data_key.pk.bytes, person)
    bare = AESGCM(unwrap(person.data_key))  # the same data key, built once as the field does
    sealed = field.seal(person, value)
    if field.open(person, sealed) != value:
        sys.exit("the encrypted field does not give back what it sealed")
    nonce = os.urandom(NONCE_BYTES)
    bare_ct = bare.encrypt(nonce, plaintext, aad)
    urandom = os.urandom

    def run_seal() -> None:
        for _ in range(ops):
            field.seal(person, value)

    def run_open() -> None:
        for _ in range(ops):
            field.open(person, sealed)

    def run_bare_encrypt() -> None:
        for _ in range(ops):
            bare.encrypt(urandom(NONCE_BYTES), value.encode("utf-8"), aad)

    def run_bare_decrypt() -> None:
        for _ in range(ops):
            bare.decrypt(nonce, bare_ct, aad).decode("utf-8")

    def run_unwrap() -> None:  # what the first read of a freshly loaded record adds, once
        data_key = person.data_key
        for _ in range(ops):
            data_key.__dict__.pop(CIPHER_ATTR, None)
            AESGCM(unwrap(data_key))
        data_key.__dict__[CIPHER_ATTR] = bare

    cases = {
        "seal": run_seal,
        "bare_encrypt": run_bare_encrypt,
        "open": run_open,
        "bare_decrypt": run_bare_decrypt,
        "unwrap": run_unwrap,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for run in cases.values():  # warm up
        run()
    for _ in range(repeats):  # interleaved, so drift hits every case alike
        for name, run in cases.items():
            began = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - began) / ops * 1e6)
    return {name: (min(values), statistics.median(values)) for name, values in times.items()}


def report_value(figures: dict, ops: int, repeats: int) -> None:
    print(f"\n== 1. one value: full_name, 40 Unicode characters ({repeats} x {ops} ops) ==")
    print(f"{'':34}{'best µs':>9}{'median µs':>11}")
    rows = [
        ("EncryptedTextField.seal", "seal"),
        ("bare AESGCM.encrypt", "bare_encrypt"),
        ("EncryptedTextField.open", "open"),
        ("bare AESGCM.decrypt", "bare_decrypt"),
        ("data key unwrap (once per record)", "unwrap"),
    ]
    for label, key in rows:
        best, median = figures[key]
        print(f"{label:34}{best:9.2f}{median:11.2f}")
    for what, field_key, bare_key in (
        ("seal / bare encrypt", "seal", "bare_encrypt"),
        ("open / bare decrypt", "open", "bare_decrypt"),
    ):
        best = figures[field_key][0] / figures[bare_key][0]
        median = figures[field_key][1] / figures[bare_key][1]
        print(f"ratio {what}: {median:.2f}x (median), {best:.2f}x (best)")


# -- 2. and 3. the list endpoint ------------------------------------------------------------------

NOOP_TEXT = "x" * 40
NOOP_DATE = datetime.date(2000, 1, 1)
NOOP_LIST = ["ru", "uk", "en"]


def noop_open(self, instance, sealed):
    """Benchmark-only stand-in for EncryptedField.open: a fixed value of the field's type, no
    data key unwrapped, nothing decrypted."""
    from encryption.fields import EncryptedDateField, EncryptedJSONField

    if isinstance(self, EncryptedDateField):
        return NOOP_DATE
    if isinstance(self, EncryptedJSONField):
        return list(NOOP_LIST)
    return NOOP_TEXT


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

    def get(self, page_size: int) -> tuple[float, object]:
        from django.core.cache import cache

        cache.delete(self.throttle_key)
        began = time.perf_counter()
        response = self.client.get(f"/api/v1/people/?page_size={page_size}")
        seconds = time.perf_counter() - began
        if response.status_code != 200:
            sys.exit(f"GET /api/v1/people/ answered {response.status_code}")
        return seconds, response


def check_noop(client: ListClient, page_size: int) -> None:
    """The no-op variant really opens nothing, and both variants return full pages."""
    from encryption import fields
    from encryption.fields import EncryptedField

    with (
        mock.patch.object(EncryptedField, "open", noop_open),
        mock.patch.object(fields, "cipher_for", wraps=fields.cipher_for) as cipher_for,
    ):
        _, response = client.get(page_size)
    if cipher_for.call_count or len(response.json()["results"]) != page_size:
        sys.exit("the no-op variant unwrapped a data key or returned a short page")
    _, response = client.get(page_size)
    if len(response.json()["results"]) != page_size:
        sys.exit("the list returned a short page")


def bench_list(
    client: ListClient, page_size: int, rounds: int, per_round: int, profile: bool
) -> dict:
    from encryption.fields import EncryptedField

    check_noop(client, page_size)
    times: dict[str, list[float]] = {"decrypting": [], "no-op": []}
    round_ratios = []
    for _ in range(3):  # warm up both
        client.get(page_size)
        with mock.patch.object(EncryptedField, "open", noop_open):
            client.get(page_size)
    for n in range(rounds):
        order = ["decrypting", "no-op"] if n % 2 == 0 else ["no-op", "decrypting"]
        this_round: dict[str, list[float]] = {}
        for variant in order:
            patch = (
                mock.patch.object(EncryptedField, "open", noop_open)
                if variant == "no-op"
                else mock.patch.object(EncryptedField, "open", EncryptedField.open)
            )
            with patch:
                this_round[variant] = [client.get(page_size)[0] for _ in range(per_round)]
            times[variant] += this_round[variant]
        round_ratios.append(
            statistics.median(this_round["decrypting"]) / statistics.median(this_round["no-op"])
        )
    if profile:  # after the timed rounds, so it slows none of them
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(per_round * 4):
            client.get(page_size)
        profiler.disable()
        profiled = profile_top(profiler, f"{per_round * 4} decrypting list requests")
    else:
        profiled = ""
    return {"times": times, "round_ratios": round_ratios, "profile": profiled}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report_list(figures: dict, people: int, page_size: int, rounds: int, per_round: int) -> float:
    times = figures["times"]
    print(
        f"\n== 2. GET /api/v1/people/?page_size={page_size} over {people:,} people "
        f"({rounds} alternating rounds x {per_round} requests per variant) =="
    )
    for variant in ("decrypting", "no-op"):
        values = [t * 1000 for t in times[variant]]
        print(
            f"{variant:>10}: p50 {percentile(values, 0.5):7.2f} ms, "
            f"p90 {percentile(values, 0.9):7.2f} ms, best {min(values):7.2f} ms "
            f"({len(values)} requests)"
        )
    ratio = percentile(times["decrypting"], 0.5) / percentile(times["no-op"], 0.5)
    per_round = sorted(figures["round_ratios"])
    print(
        f"ratio of p50s: {ratio:.2f}x (target <= {LIST_TARGET}); per-round ratios: "
        f"median {statistics.median(per_round):.2f}, range {per_round[0]:.2f}-{per_round[-1]:.2f}"
    )
    decrypting, noop = (percentile(times[v], 0.5) * 1000 for v in ("decrypting", "no-op"))
    fields = page_size * 10
    print(
        f"decryption adds {decrypting - noop:.2f} ms per page: "
        f"{page_size} data keys unwrapped and {fields} fields opened, "
        f"{(decrypting - noop) * 1000 / fields:.1f} µs per field opened (unwraps included)"
    )
    if figures["profile"]:
        print(figures["profile"])
    return ratio


def count_queries(client: ListClient, page_sizes: tuple[int, ...]) -> dict[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for page_size in page_sizes:
        with CaptureQueriesContext(connection) as captured:
            _, response = client.get(page_size)
        if len(response.json()["results"]) != page_size:
            sys.exit(f"page_size={page_size} returned a short page")
        counts[page_size] = len(captured.captured_queries)
    return counts


# -- 4. key rotation ------------------------------------------------------------------------------


def fill_data_keys(target: int) -> tuple[float, dict]:
    """Data keys up to `target` in all, inserted directly in batches, wrapped under the current
    keyring as `data_key_issue` wraps them. Returns the seconds taken and {id: key} (kept to
    check the rotation, never printed)."""
    from django.db import transaction

    from encryption.datakeys import wrap
    from encryption.keyring import KEY_BYTES, keyring
    from encryption.models import DataKey
    from encryption.sentinels import require_active_kek_sentinel

    ring = keyring()
    require_active_kek_sentinel(ring)
    keys: dict = {}
    began = time.perf_counter()
    missing = target - DataKey.objects.count()
    batch = 5000
    while missing > 0:
        rows = []
        for _ in range(min(batch, missing)):
            key, owner_id = secrets.token_bytes(KEY_BYTES), uuid.uuid4()
            kek_id, wrapped = wrap(key, owner_label="people.person", owner_id=owner_id, ring=ring)
            row = DataKey(
                id=uuid.uuid4(),
                owner_label="people.person",
                owner_id=owner_id,
                kek_id=kek_id,
                wrapped=wrapped,
            )
            keys[row.id] = key
            rows.append(row)
        with transaction.atomic():
            DataKey.objects.bulk_create(rows)
        missing -= len(rows)
    return time.perf_counter() - began, keys


def bench_rotation(
    target: int, batch_size: int, people_names: dict, profile: bool, rng: random.Random
) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings

    from encryption.datakeys import unwrap
    from encryption.keyring import keyring, new_key_text
    from encryption.models import DataKey
    from encryption.services import data_keys_rotate, data_keys_to_rotate
    from people.models import Person

    fill_seconds, keys = fill_data_keys(target)
    total = DataKey.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {DataKey._meta.db_table}")
    new_id = f"bench-new-{secrets.token_hex(3)}"
    new_entry = f"{new_id}:{new_key_text()}"
    batches: list[tuple[int, float]] = []
    with override_settings(ENCRYPTION_KEKS=f"{new_entry},{settings.ENCRYPTION_KEKS}"):

        def on_batch(done: int, _total: int) -> None:
            batches.append((done, time.perf_counter() - began))

        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        began = time.perf_counter()
        done = data_keys_rotate(batch_size=batch_size, on_batch=on_batch)
        seconds = time.perf_counter() - began
        if profiler:
            profiler.disable()
        left = data_keys_to_rotate(keyring())

    # Everything must now open with the new KEK alone: the old one could be retired.
    with override_settings(ENCRYPTION_KEKS=new_entry):
        ring = keyring()
        sample_ids = rng.sample(sorted(keys), min(1000, len(keys)))
        sample = list(DataKey.objects.filter(pk__in=sample_ids))
        keys_ok = len(sample) == len(sample_ids) and all(
            data_key.kek_id == new_id and unwrap(data_key, ring=ring) == keys[data_key.pk]
            for data_key in sample
        )
        person_ids = rng.sample(sorted(people_names), min(200, len(people_names)))
        people = list(Person.objects.with_keys().filter(pk__in=person_ids))
        people_ok = len(people) == len(person_ids) and all(
            person.full_name == people_names[person.pk] for person in people
        )
    return {
        "total": total,
        "fill_seconds": fill_seconds,
        "filled": len(keys),
        "done": done,
        "seconds": seconds,
        "batches": batches,
        "left": left,
        "keys_checked": len(sample),
        "keys_ok": keys_ok,
        "people_checked": len(people),
        "people_ok": people_ok,
        "profile": profile_top(profiler, f"data_keys_rotate over {done:,} keys")
        if profiler
        else "",
    }


def report_rotation(figures: dict, batch_size: int) -> float:
    rate = figures["done"] / figures["seconds"]
    print(f"\n== 4. data_keys_rotate over {figures['total']:,} data keys ==")
    print(
        f"filled {figures['filled']:,} data keys directly in {figures['fill_seconds']:.1f} s "
        f"(plus the people's own keys)"
    )
    print(
        f"rewrapped {figures['done']:,} in {figures['seconds']:.2f} s = {rate:,.0f} data keys/s "
        f"(batch size {batch_size}; target >= {ROTATE_TARGET:,}/s); left to rotate: "
        f"{figures['left']}"
    )
    batches = figures["batches"]
    if len(batches) >= 2:
        rates, previous_done, previous_t = [], 0, 0.0
        for done, t in batches:
            rates.append((done - previous_done) / max(t - previous_t, 1e-9))
            previous_done, previous_t = done, t
        middle = rates[len(rates) // 2]
        print(
            f"per batch: first {rates[0]:,.0f}/s, middle {middle:,.0f}/s, last {rates[-1]:,.0f}/s"
        )
    print(
        f"check with the new KEK alone: {figures['keys_checked']} sampled data keys unwrap to "
        f"the original keys: {figures['keys_ok']}; {figures['people_checked']} sampled people's "
        f"full names open unchanged: {figures['people_ok']}"
    )
    if figures["profile"]:
        print("(rotation timed under cProfile: slower than without --profile)")
        print(figures["profile"])
    return rate


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000, help="people to create (>= 100)")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30, help="alternating rounds (list)")
    parser.add_argument("--per-round", type=int, default=5, help="requests per variant a round")
    parser.add_argument("--value-ops", type=int, default=5000, help="ops per timing (one value)")
    parser.add_argument("--value-repeats", type=int, default=15)
    parser.add_argument(
        "--rotate-keys", type=int, default=100_000, help="data keys in all (0: skip rotation)"
    )
    parser.add_argument("--batch-size", type=int, default=2000, help="rotation batch size")
    parser.add_argument("--database", default="safe_passage_people_bench")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile lists and rotation")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    if args.people < 100 or args.people < args.page_size:
        parser.error("--people must be at least 100 and at least --page-size")
    if min(args.rounds, args.per_round, args.value_ops, args.value_repeats, args.batch_size) < 1:
        parser.error("counts must be at least 1")

    server = server_url()
    setup_database(server, args.database, kek_id="bench-old")
    rng = random.Random(args.seed)  # noqa: S311 (made-up people, not keys)
    results: list[tuple[str, str, bool | None]] = []
    try:
        from django.db import connection

        version = connection.cursor().connection.server_version
        print(
            f"PostgreSQL {version // 10000}.{version % 100}, database "
            f"{args.database!r} (scratch), settings {SETTINGS_MODULE}, "
            f"cache {'Redis' if os.environ.get('REDIS_URL') else 'database'}"
        )
        user, token = create_staff()
        seconds, names = create_people(user, args.people, rng)
        print(
            f"created {args.people:,} people with every personal field filled in "
            f"{seconds:.1f} s ({args.people / seconds:,.0f}/s, person_create)"
        )

        from people.models import Person

        person = Person.objects.with_keys().get(pk=next(iter(names)))
        value = made_up_name(rng)
        figures = bench_value(person, value, args.value_ops, args.value_repeats)
        report_value(figures, args.value_ops, args.value_repeats)
        for what, field_key, bare_key in (
            ("seal vs bare encrypt", "seal", "bare_encrypt"),
            ("open vs bare decrypt", "open", "bare_decrypt"),
        ):
            ratio = figures[field_key][1] / figures[bare_key][1]
            results.append((f"one value, {what}", f"{ratio:.2f}x (no target)", None))

        client = ListClient(user, token)
        listed = bench_list(client, args.page_size, args.rounds, args.per_round, args.profile)
        ratio = report_list(listed, args.people, args.page_size, args.rounds, args.per_round)
        results.append(
            (
                f"list p50, decrypting / no-op (<= {LIST_TARGET})",
                f"{ratio:.2f}x",
                ratio <= LIST_TARGET,
            )
        )

        counts = count_queries(client, (10, 100))
        print("\n== 3. SQL queries per list request ==")
        for page_size, count in counts.items():
            print(f"page_size={page_size:>3}: {count} queries")
        equal = len(set(counts.values())) == 1
        results.append(
            ("queries, page_size 10 vs 100 (equal)", f"{counts[10]} vs {counts[100]}", equal)
        )

        if args.rotate_keys:
            rotation = bench_rotation(args.rotate_keys, args.batch_size, names, args.profile, rng)
            rate = report_rotation(rotation, args.batch_size)
            results.append(
                (f"rotation (>= {ROTATE_TARGET:,}/s)", f"{rate:,.0f} keys/s", rate >= ROTATE_TARGET)
            )
            verified = rotation["keys_ok"] and rotation["people_ok"] and not rotation["left"]
            results.append(("rotation, sample opens with new KEK only", str(verified), verified))

        print("\n== summary ==")
        for what, figure, met in results:
            verdict = "" if met is None else ("MET" if met else "NOT MET")
            print(f"{what:46} {figure:>16}  {verdict}".rstrip())
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            psql(server, f'DROP DATABASE IF EXISTS "{args.database}"')


if __name__ == "__main__":
    main()
