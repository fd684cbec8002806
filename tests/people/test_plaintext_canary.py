"""The plaintext canary: personal values sent through the API appear nowhere at rest.

People are recorded, corrected, checked for duplicates, listed and one is erased, all through
the API with unique canary values in every personal field. Then the whole database is dumped
(`pg_dump` on PostgreSQL, `iterdump` on SQLite) and the dump, everything the application
logged and every audit entry are searched for each canary, as text and as the hex of its
UTF-8 bytes (how both dumps print binary columns): zero occurrences.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess

import pytest
from django.db import connection

from accounts.roles import Role
from audit.models import LogEntry
from tests.erasure import erase_body
from tests.people.helpers import PEOPLE_URL, person_url

pytestmark = pytest.mark.django_db(transaction=True)


def canary_person(tag: str, phone_digits: str, birth: str) -> dict[str, object]:
    return {
        "full_name": f"Канарейка Full {tag}",
        "preferred_name": f"canary-preferred-{tag}",
        "date_of_birth": birth,
        "phone": f"+7 928 {phone_digits[:3]}-{phone_digits[3:5]}-{phone_digits[5:]}",
        "messenger": f"signal:canary-messenger-{tag}",
        "document_type": "travel_document",
        "document_number": f"CANARYDOC{tag.upper()}",
        "nationality": f"canary-nation-{tag}",
        "languages": [f"canary-language-{tag}"],
        "notes": f"canary notes {tag}: hiding at the canary safe house",
    }


def needles(body: dict[str, object], phone_digits: str) -> list[str]:
    values = [str(value) for key, value in body.items() if key not in ("languages",)]
    values += [str(item) for item in body["languages"]]
    values.remove("travel_document")  # a choice also used by other people, searched below
    values.append(f"928{phone_digits}")  # the E.164 digits the blind index is built from
    return values


def database_dump() -> str:
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        environment = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
        result = subprocess.run(
            [
                "pg_dump",
                "--host",
                settings["HOST"] or "127.0.0.1",
                "--port",
                str(settings["PORT"] or 5432),
                "--username",
                settings["USER"],
                settings["NAME"],
            ],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=True,
        )
        return result.stdout
    return "\n".join(connection.connection.iterdump())


def occurrences(haystack: str, needle: str) -> int:
    lowered = haystack.lower()
    return lowered.count(needle.lower()) + lowered.count(needle.encode().hex())


def test_no_personal_value_is_stored_logged_or_audited_in_clear(make_staff, client_for, caplog):
    caplog.set_level(logging.DEBUG)
    caseworker, coordinator = make_staff(Role.CASEWORKER), make_staff(Role.COORDINATOR)
    client, lead = client_for(caseworker), client_for(coordinator)
    tag = secrets.token_hex(6)
    first = canary_person(f"a{tag}", "3141592", "1979-08-23")
    corrected = canary_person(f"b{tag}", "2718281", "1981-02-27")
    second = canary_person(f"c{tag}", "1618033", "1983-11-05")

    created = client.post(PEOPLE_URL, first)
    other = client.post(PEOPLE_URL, second)
    assert created.status_code == other.status_code == 201
    person_id = created.json()["id"]
    assert client.patch(person_url(person_id), corrected).status_code == 200
    for body in (first, corrected, second):
        query = {key: body[key] for key in ("phone", "full_name", "document_number")}
        assert client.post(f"{PEOPLE_URL}duplicates/", query).status_code == 200
    assert client.get(PEOPLE_URL).json()["count"] == 2
    assert client.get(person_url(person_id)).json()["full_name"] == corrected["full_name"]
    assert lead.post(person_url(other.json()["id"], "erase/"), erase_body(lead)).status_code == 200

    dump = database_dump()
    audit_text = "\n".join(
        f"{entry.object_repr} {entry.changes} {entry.additional_data}"
        for entry in LogEntry.objects.all()
    )
    assert person_id in dump  # the dump really holds the people table
    assert LogEntry.objects.filter(object_pk=person_id).exists()
    for body, digits in ((first, "3141592"), (corrected, "2718281"), (second, "1618033")):
        for needle in needles(body, digits):
            found = {
                "database dump": occurrences(dump, needle),
                "log output": occurrences(caplog.text, needle),
                "audit entries": occurrences(audit_text, needle),
            }
            assert found == dict.fromkeys(found, 0), f"a canary ({len(needle)} chars) leaked"
    assert occurrences(dump, "travel_document") == 0
