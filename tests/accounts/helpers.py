"""What the account tests share: logging in from an address (and a device), another worker
process, admin writes with a fresh step-up code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.db import connection
from rest_framework.test import APIClient

from tests.conftest import LOGIN_URL, Staff

ROOT = Path(__file__).resolve().parents[2]
STAFF_URL = "/api/v1/staff/"
CHANGES_URL = "/api/v1/staff/changes/"
ENROL_URL = "/api/v1/auth/enrol/"
CONFIRM_URL = "/api/v1/auth/enrol/confirm/"


def login(body: dict, ip: str, device_token: str | None = None, **headers: str):
    if device_token is not None:
        headers["HTTP_X_DEVICE_TOKEN"] = device_token
    return APIClient(REMOTE_ADDR=ip).post(LOGIN_URL, body, format="json", **headers)


def known_device(staff: Staff, ip: str = "192.0.2.1") -> str:
    """Log in once from a device and return the device token it was given."""
    response = login(staff.login_body(otp=staff.fresh_totp()), ip)
    assert response.status_code == 200, response.json()
    return response.json()["device_token"]


def a_wrong_code(staff: Staff) -> str:
    return "000000" if staff.totp() != "000000" else "111111"


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def in_other_process(ip: str, attempts: list[dict], **spec: Any) -> list[list]:
    """Send `attempts` from another worker process (the login URL unless `path=` says)."""
    env = spec.pop("env", {})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.login_process",
            json.dumps({"remote_addr": ip, "attempts": attempts, **spec}),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def admin_post(client: APIClient, admin: Staff, url: str, body: dict | None = None, **extra):
    """An admin write, with the fresh code every admin write needs."""
    return client.post(url, {"otp": admin.fresh_totp(), **(body or {})}, format="json", **extra)


def staff_url(user_id: Any, action: str = "") -> str:
    return f"{STAFF_URL}{user_id}/{action}"


def change_url(change_id: Any, action: str = "") -> str:
    return f"{CHANGES_URL}{change_id}/{action}"
