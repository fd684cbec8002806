"""The production smoke test CI runs: the product started exactly as the README's Production
section says (production settings, secrets from files, PostgreSQL as the application role from
`manage.py audit_app_role`, Redis, gunicorn with config/gunicorn.py), then one walk over HTTP:
sign in -> person and case -> allocation -> money request -> approval -> payment -> the
auditor's log -> `manage.py audit_verify`. Exits non-zero at the first thing that is wrong.

    .venv/bin/python bench/smoke.py --server postgres://postgres@127.0.0.1:5432 \
        --redis redis://127.0.0.1:6379/14
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Client, Product


def expect(label: str, status: int, body, wanted: int):
    if status != wanted:
        raise SystemExit(f"FAIL {label}: {status} (wanted {wanted}): {body}")
    print(f"ok   {label} ({status})")
    return body


def walk(product: Product) -> None:
    people = {
        name: product.create_staff(f"smoke-{name}", role)
        for name, role in [
            ("caseworker", "caseworker"),
            ("approver", "coordinator"),
            ("payer", "coordinator"),
            ("auditor", "auditor"),
        ]
    }
    clients = {name: Client(product.port) for name in people}
    for name, client in clients.items():
        expect(f"login as {name}", client.login(people[name]), None, 200)
    worker, approver, payer, auditor = (clients[n] for n in people)

    person = expect(
        "caseworker records a person",
        *worker.request("POST", "people/", {"full_name": "Smoke Person", "phone": "+79280000000"}),
        201,
    )
    case = expect(
        "caseworker opens a case",
        *worker.request(
            "POST",
            "cases/",
            {
                "primary_person": person["id"],
                "risk_level": "high",
                "summary": "Smoke test.",
                "consent_to_store": True,
                "consent_given_on": time.strftime("%Y-%m-%d"),
            },
        ),
        201,
    )
    source = expect(
        "coordinator records a source",
        *approver.request(
            "POST",
            "funds/sources/",
            {
                "name": "Smoke appeal",
                "kind": "donation_campaign",
                "currency": "EUR",
                "amount": "1000.00",
                "received_on": time.strftime("%Y-%m-%d"),
            },
        ),
        201,
    )
    allocation = expect(
        "coordinator allocates to the case",
        *approver.request(
            "POST",
            "funds/allocations/",
            {"source": source["id"], "case": case["id"], "category": "travel", "amount": "300.00"},
        ),
        201,
    )
    key = {"Idempotency-Key": f"smoke-{uuid.uuid4().hex}"}
    body = {
        "allocation": allocation["id"],
        "amount": "120.00",
        "currency": "EUR",
        "purpose": "Bus tickets",
        "method": "cash",
        "payee": "Smoke Payee",
    }
    item = expect(
        "caseworker requests money",
        *worker.request("POST", "funds/disbursements/", body, key),
        201,
    )
    again = expect(
        "the same request retried with its key",
        *worker.request("POST", "funds/disbursements/", body, key),
        201,
    )
    if again["id"] != item["id"]:
        raise SystemExit("FAIL a keyed retry created a second request")
    url = f"funds/disbursements/{item['id']}/"
    expect(
        "coordinator approves with a fresh code",
        *approver.request("POST", url + "approve/", {"otp": people["approver"].wait_for_totp()}),
        200,
    )
    paid = expect(
        "another coordinator pays with a fresh code",
        *payer.request(
            "POST",
            url + "pay/",
            {"otp": people["payer"].wait_for_totp(), "receipt_reference": "SMOKE-1"},
        ),
        200,
    )
    if paid["status"] != "paid":
        raise SystemExit(f"FAIL the request is {paid['status']}, not paid")
    entries = expect("auditor reads the log", *auditor.request("GET", "audit/entries/"), 200)
    if not entries["results"]:
        raise SystemExit("FAIL the audit log is empty")
    status, ready = product.probe("/readyz")
    expect("readyz", status, ready, 200)
    print(product.manage("audit_verify").strip().splitlines()[-1])
    print("ok   audit_verify")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    product = Product(server=args.server, redis_url=args.redis, port=args.port, workers=2)
    started = time.monotonic()
    product.prepare()
    try:
        product.start()
        walk(product)
    except BaseException:
        log = product.home / "server.log"
        if log.exists():
            print("--- server log (tail) ---")
            print(log.read_text()[-6000:])
        raise
    finally:
        product.stop()
        product.drop()
    print(f"smoke test passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
