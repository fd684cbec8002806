"""A second worker process: `python -m tests.login_process SPEC` makes login attempts against the
database and shared cache named by the environment, and prints the HTTP statuses as JSON.

SPEC is `{"remote_addr", "attempts": [body, ...], "device_token": optional}`; with
`"path"` it posts to another endpoint (a step-up, with `"bearer"`). Used by the tests that
prove the lockout, device-token, throttle and step-up counts are shared between processes."""

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
    headers = {}
    if spec.get("device_token"):
        headers["HTTP_X_DEVICE_TOKEN"] = spec["device_token"]
    if spec.get("bearer"):
        headers["HTTP_AUTHORIZATION"] = f"Bearer {spec['bearer']}"
    path = spec.get("path", "/api/v1/auth/login/")
    codes = []
    for attempt in spec["attempts"]:
        response = client.post(
            path, data=json.dumps(attempt), content_type="application/json", **headers
        )
        codes.append([response.status_code, response.json().get("code")])
    sys.stdout.write(json.dumps(codes))


if __name__ == "__main__":
    main()
