"""Faults injected under load: what clients saw, how long recovery took, and whether anything
was lost or written twice.

It starts a PostgreSQL cluster and a Redis of its own (own ports, data under /tmp: never the
shared ones), the product on them in production mode (bench/harness.py), and bench/load.py's
desks working throughout. Then, one after the other:

1. `worker-kill`: one gunicorn worker is killed (SIGKILL), mid-request, three times;
2. `postgres-restart`: its PostgreSQL cluster restarts (`pg_ctl restart -m fast`);
3. `redis-stop`: its Redis is stopped for --outage seconds, then started again;
4. `redis-partition`: its Redis is replaced for --outage seconds by a server that accepts
   connections and never answers.

For each it prints the answers clients got from the fault's start until the service was back
(any 500 is a failure), and the recovery time (from the end of the fault until an
authenticated request and `/readyz` both answer 200). Then bench/load.py's checks: funds
invariants, every acknowledged write present exactly once, `audit_verify`.

    .venv/bin/python bench/faults.py                           # 8 clients, 10 s outages
    .venv/bin/python bench/faults.py --clients 32 --outage 30  # the issue's size
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from harness import Client, Product
from load import Ledger, build_desks, check_everything, create_people, make_source, sign_in_all

PG_BIN = Path("/usr/lib/postgresql") / max(os.listdir("/usr/lib/postgresql"), key=int) / "bin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*args: str) -> None:
    # initdb and pg_ctl refuse to run as root.
    command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
    subprocess.run(command, check=True, capture_output=True)


class OwnPostgres:
    """A throwaway PostgreSQL cluster: its own data directory and port, trust auth on localhost."""

    def __init__(self, home: Path) -> None:
        self.data = home / "pgdata"
        self.port = free_port()
        self.log = home / "postgres.log"

    def create(self) -> None:
        self.data.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
        as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        self.start()

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200"
        as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", *args,
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        self.pg_ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.data, ignore_errors=True)

    @property
    def server(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"


class OwnRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(50):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class SilentServer:
    """Accepts connections on `port` and never answers: a network partition."""

    def __init__(self, port: int) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(128)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        for held in self.held:
            held.close()


def recovered_after(product: Product, probe: Client, since: float, limit: float = 120) -> float:
    """Seconds from `since` until an authenticated request and /readyz both answer 200."""
    while time.monotonic() - since < limit:
        if probe.request("GET", "auth/me/")[0] == 200 and product.probe("/readyz")[0] == 200:
            return time.monotonic() - since
        time.sleep(0.1)
    return float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--outage", type=float, default=10, help="seconds Redis is away")
    parser.add_argument("--calm", type=float, default=5, help="seconds of load between faults")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    home = Path(f"/tmp/safe-passage-faults-{os.getpid()}")  # noqa: S108
    postgres, redis = OwnPostgres(home), OwnRedis()
    print(f"own PostgreSQL on port {postgres.port}, own Redis on port {redis.port}")
    postgres.create()
    redis.start()
    product = Product(
        server=postgres.server, redis_url=f"redis://127.0.0.1:{redis.port}/0", port=free_port(),
        workers=args.workers, database="safe_passage_faults", app_role="safe_passage_faults_app",
        home=home / "product",
    )  # fmt: skip
    problems: list[str] = []
    try:
        product.prepare()
        staff = create_people(product, args.clients + 1)
        product.start()
        source = make_source(product, staff[0][1][0])
        probe = Client(product.port, timeout=5)
        probe.login(staff[-1][0])
        ledger = Ledger()
        desks = build_desks(product, staff[: args.clients], ledger, seed=7)
        sign_in_all(desks)
        until = time.monotonic() + 3600  # the desks work until told to stop
        threads = [
            threading.Thread(target=desk.work, args=(until, source), daemon=True) for desk in desks
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.calm)

        def worker_kill() -> None:
            for _ in range(3):
                victim = random.choice(product.worker_pids())  # noqa: S311
                os.kill(victim, signal.SIGKILL)
                time.sleep(1)

        def postgres_restart() -> None:
            postgres.restart()

        def redis_stop() -> None:
            redis.stop()
            time.sleep(args.outage)
            redis.start()

        def redis_partition() -> None:
            redis.stop()
            silent = SilentServer(redis.port)
            time.sleep(args.outage)
            silent.close()
            redis.start()

        results = []
        for name, fault in [
            ("worker-kill", worker_kill),
            ("postgres-restart", postgres_restart),
            ("redis-stop", redis_stop),
            ("redis-partition", redis_partition),
        ]:
            started = time.monotonic()
            fault()
            ended = time.monotonic()
            recovery = recovered_after(product, probe, ended)
            time.sleep(2)
            window = [
                (endpoint, status)
                for at, endpoint, status in list(ledger.timeline)
                if started <= at <= time.monotonic()
            ]
            seen = Counter(status for _, status in window)
            odd = Counter(pair for pair in window if pair[1] not in (200, 201, 503))
            results.append((name, ended - started, recovery, seen, odd))
            print(f"{name}: done in {ended - started:.1f} s, recovered {recovery:.1f} s later")
            time.sleep(args.calm)
        for desk in desks:
            desk.stop.set()
        for thread in threads:
            thread.join(timeout=90)

        print(f"\n{args.clients} clients, {args.workers} workers, outages of {args.outage:.0f} s")
        print(f"{'fault':18} {'lasted s':>9} {'recovery s':>11}  {'500s':>5}  what clients saw")
        for name, lasted, recovery, seen, odd in results:
            statuses = " ".join(f"{s}:{n}" for s, n in sorted(seen.items()))
            print(f"{name:18} {lasted:9.1f} {recovery:11.1f}  {seen.get(500, 0):5}  {statuses}")
            for (endpoint, status), n in sorted(odd.items()):
                print(f"{'':47}{status} x{n}: {endpoint}")
            if seen.get(500):
                problems.append(f"{name}: {seen[500]} answers were 500")
            if recovery == float("inf"):
                problems.append(f"{name}: did not recover")
        total = Counter(status for _, _, status in ledger.timeline)
        print(f"{'whole run':18} {'':9} {'':11}  {total.get(500, 0):5}  "
              + " ".join(f"{s}:{n}" for s, n in sorted(total.items())))  # fmt: skip
        if total.get(500):
            problems.append(f"{total[500]} answers were 500 over the whole run")
        print("\nchecks:")
        problems += check_everything(product, [ledger])
    finally:
        product.stop()
        redis.stop()
        postgres.destroy()
        shutil.rmtree(home, ignore_errors=True)  # its secrets and logs
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("\nno 500, nothing lost or duplicated, the audit chain verifies")


if __name__ == "__main__":
    main()
