"""A second worker process: `python -m tests.login_process SPEC` makes login attempts against the
database and shared cache named by the environment, and prints the HTTP statuses as JSON.

Used by the tests that prove lockout and throttle counts are shared between processes."""

from __future__ import annotations

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.test import Client  # noqa: E402


def main() -> None:
    spec = json.loads(sys.argv[1])
    client = Client(REMOTE_ADDR=spec["remote_addr"])
    codes = []
    for attempt in spec["attempts"]:
        response = client.post(
            "/api/v1/auth/login/", data=json.dumps(attempt), content_type="application/json"
        )
        codes.append([response.status_code, response.json().get("code")])
    sys.stdout.write(json.dumps(codes))


if __name__ == "__main__":
    main()
