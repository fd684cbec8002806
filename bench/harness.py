"""The product started as the README's Production section says, and clients that talk to it
over HTTP as staff do: what the CI smoke test (`bench/smoke.py`), `bench/load.py` and
`bench/faults.py` share.

`Product` makes a database of its own on a PostgreSQL server it is given (migrated by the
owner, served as the least-privileged role `manage.py audit_app_role` makes), writes the secrets
to files (`*_FILE`), and starts gunicorn with `config/gunicorn.py` in production mode, behind a
pretend TLS proxy: `TRUSTED_PROXY_COUNT=1`, and each client sends `X-Forwarded-Proto: https`
as the proxy would. Nothing here imports Django: clients know only HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
API = "/api/v1/"


def run(args: list[str], env: dict[str, str], *, stdin: str | None = None) -> str:
    done = subprocess.run(
        args, env=env, cwd=ROOT, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = f"{done.stdout[-2000:]}{done.stderr[-4000:]}"
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{tail}")
    return done.stdout


def psql(server: str, statement: str, database: str = "postgres") -> str:
    done = subprocess.run(
        ["psql", f"{server}/{database}", "-qAtX", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


# --- second factors, as an authenticator app computes them (RFC 6238: SHA-1, 6 digits, 30 s) ----


def totp_at(secret_b32: str, step: int) -> str:
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


@dataclass
class Person:
    """A staff member as their own device knows them: password, TOTP secret, backup codes."""

    username: str
    password: str
    secret: str
    backup_codes: list[str]
    role: str
    last_step: int = -1  # the server accepts each 30-second code once
    token: str | None = None  # once signed in, kept: signing in hashes a password (Argon2)

    def totp_now(self) -> str | None:
        """The current code, or None when it was used already (wait for the next 30 s)."""
        step = int(time.time() // 30)
        if step <= self.last_step:
            return None
        self.last_step = step
        return totp_at(self.secret, step)

    def wait_for_totp(self) -> str:
        while (code := self.totp_now()) is None:
            time.sleep(max(0.05, 30 - time.time() % 30 + 0.05))
        return code

    def login_code(self) -> str:
        """A backup code for signing in (keeps the 30-second codes for the step-ups)."""
        return self.backup_codes.pop()


_URI_SECRET = re.compile(r"otpauth://\S+")


def parse_enrolment(output: str) -> tuple[str, list[str]]:
    """(TOTP secret, backup codes) from what `manage.py create_staff` prints."""
    uri = _URI_SECRET.search(output).group(0)
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Backup codes"))
    codes = [line.strip() for line in lines[start + 1 :] if line.startswith("  ")]
    return secret, codes


# --- the product ----------------------------------------------------------------------------


@dataclass
class Product:
    """One deployment: its own database on `server`, its secrets, its gunicorn."""

    server: str  # postgres://owner@host:port, without a database
    redis_url: str | None
    port: int = 8765
    workers: int = 4
    database: str = "safe_passage_smoke"
    app_role: str = "safe_passage_smoke_app"
    home: Path = field(default_factory=lambda: Path(f"/tmp/safe-passage-{uuid.uuid4().hex[:8]}"))  # noqa: S108
    process: subprocess.Popen | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def app_password(self) -> str:
        path = self.home / "app-role-password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(24))
        return path.read_text()

    def database_url(self, *, owner: bool) -> str:
        parts = urlsplit(self.server)
        if owner:
            return f"{self.server}/{self.database}"
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        return f"postgres://{self.app_role}:{self.app_password}@{host}/{self.database}"

    def env(self, *, owner: bool = False) -> dict[str, str]:
        """The README's production environment, secrets in files."""
        secrets_dir = self.home / "secrets"
        (secrets_dir / "database-url").write_text(self.database_url(owner=owner))
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "ENCRYPTION_", "CACHE_"))
        }
        env.update(
            {
                "DJANGO_ENV": "production",
                "DJANGO_SECRET_KEY_FILE": str(secrets_dir / "django-secret-key"),
                "DATABASE_URL_FILE": str(secrets_dir / "database-url"),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "TRUSTED_PROXY_COUNT": "1",
                "ENCRYPTION_KEKS_FILE": str(secrets_dir / "encryption-keks"),
                "ENCRYPTION_INDEX_KEY_FILE": str(secrets_dir / "encryption-index-key"),
                "DJANGO_STATIC_ROOT": str(self.home / "static"),
                "CACHE_KEY_PREFIX": f"sp-{self.home.name}",
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "WEB_CONCURRENCY": str(self.workers),
                "GUNICORN_ACCESS_LOG": str(self.home / "access.log"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def prepare(self) -> None:
        """A fresh database, migrated by the owner; the app role; static files."""
        (self.home / "secrets").mkdir(parents=True, exist_ok=True)
        key = lambda: base64.b64encode(os.urandom(32)).decode()  # noqa: E731
        (self.home / "secrets" / "django-secret-key").write_text(secrets.token_urlsafe(50))
        (self.home / "secrets" / "encryption-keks").write_text(f"bench-1:{key()}\n")
        (self.home / "secrets" / "encryption-index-key").write_text(key())
        psql(self.server, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        psql(self.server, f'CREATE DATABASE "{self.database}"')
        owner = self.env(owner=True)
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], owner)
        run(
            [PYTHON, "manage.py", "audit_app_role", self.app_role, "--password-stdin"],
            owner,
            stdin=self.app_password + "\n",
        )
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], self.env())

    def create_staff(self, username: str, role: str) -> Person:
        """`manage.py create_staff`, as the README's staff section says."""
        password = secrets.token_urlsafe(18)
        output = run(
            [PYTHON, "manage.py", "create_staff", username, "--role", role, "--password-stdin"],
            self.env(),
            stdin=password + "\n",
        )
        secret, codes = parse_enrolment(output)
        return Person(username, password, secret, codes, role)

    def manage(self, *args: str, owner: bool = False) -> str:
        return run([PYTHON, "manage.py", *args], self.env(owner=owner))

    def start(self, timeout: float = 60) -> None:
        log = (self.home / "server.log").open("ab")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = self.probe("/readyz")
            if status == 200:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.home / 'server.log'}")
            time.sleep(0.2)
        raise RuntimeError(f"the server did not become ready; see {self.home / 'server.log'}")

    def probe(self, path: str) -> tuple[int, dict[str, Any] | None]:
        try:
            return Client(self.port, timeout=2).request("GET", path)
        except OSError:
            return 0, None

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def drop(self) -> None:
        """The database, the role, and the secrets and logs under `home`."""
        psql(self.server, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        psql(self.server, f'DROP ROLE IF EXISTS "{self.app_role}"')
        shutil.rmtree(self.home, ignore_errors=True)


# --- a client --------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection, as one staff member's browser or app would hold."""

    def __init__(self, port: int, *, timeout: float = 30, address: str = "10.0.0.1") -> None:
        self.port, self.timeout, self.address = port, timeout, address
        self.token: str | None = None
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """(status, parsed JSON body or None). Status 0: no answer (refused, reset, timeout)."""
        sent = {
            "Host": "127.0.0.1",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Accept": "application/json",
        }
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        if not path.startswith("/"):
            path = API + path
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
            self.connection.request(method, path, body=payload, headers=sent)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, None
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def login(self, person: Person) -> int:
        status, body = self.request(
            "POST",
            "auth/login/",
            {"username": person.username, "password": person.password, "otp": person.login_code()},
        )
        if status == 200:
            self.token = person.token = body["token"]
        return status
