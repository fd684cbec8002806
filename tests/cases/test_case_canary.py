"""The plaintext canary, extended to cases: nothing written into a case appears anywhere at rest.

Through the API, with a unique canary in every encrypted case field, need description, note
body and transition reason: two cases are opened, corrected, moved, given needs and notes, read
every way there is, refused a few bad writes that carry canaries too, and one is erased. Then
the whole database is dumped (`pg_dump` on PostgreSQL, `iterdump` on SQLite) and the dump,
everything the application logged and every audit entry are searched for each canary, as text
and as the hex of its UTF-8 bytes: zero occurrences.
"""

from __future__ import annotations

import logging
import secrets

import pytest

from accounts.roles import Role
from audit.models import LogEntry
from cases.models import Case, Note
from tests.cases.helpers import CASES_URL, case_url, open_case, record_person
from tests.erasure import erase_body
from tests.people.test_plaintext_canary import database_dump, occurrences

pytestmark = pytest.mark.django_db(transaction=True)

# Encrypted choice codes no other table holds: they must not show in clear either.
CONCERN_CODES = ["forced_marriage", "honour_violence", "medical_emergency"]


class Canaries:
    """Unique values, each registered as it is made, so the search misses none."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(6)
        self.values: list[str] = []

    def __call__(self, label: str) -> str:
        value = f"канарейка {label} {self.tag}-{len(self.values)}"
        self.values.append(value)
        return value


def case_secrets(canary: Canaries, label: str) -> dict[str, str]:
    return {
        "summary": canary(f"{label} summary: hiding in the cellar"),
        "location": canary(f"{label} location"),
        "safe_contact": canary(f"{label} safe contact"),
    }


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.json()
    return response.json()


def test_no_case_value_is_stored_logged_or_audited_in_clear(make_staff, client_for, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(make_staff(Role.CASEWORKER))
    lead = client_for(make_staff(Role.COORDINATOR))
    canary = Canaries()
    primary = record_person(client, full_name=canary("primary name"), preferred_name=None)
    member = record_person(client, full_name=canary("member name"), preferred_name=None)

    kept = open_case(
        client,
        primary=primary,
        members=[(member, "partner")],
        protection_concerns=CONCERN_CODES[:2],
        **case_secrets(canary, "kept"),
    )
    erased = open_case(
        client, protection_concerns=CONCERN_CODES[2:], **case_secrets(canary, "gone")
    )
    kept_url, erased_url = case_url(kept["id"]), case_url(erased["id"])
    ok(client.patch(kept_url, {**case_secrets(canary, "corrected"), "risk_level": "critical"}))

    for url in (kept_url, erased_url):
        need = ok(
            client.post(f"{url}needs/", {"category": "housing", "description": canary("need")}), 201
        )
        ok(client.patch(f"{url}needs/{need['id']}/", {"description": canary("need corrected")}))
        for label in ("note", "note correcting the first"):
            ok(client.post(f"{url}notes/", {"body": canary(label)}), 201)
        for to in ("verification", "intake"):
            ok(client.post(f"{url}transition/", {"to": to, "reason": canary(f"reason {to}")}))
    ok(client.post(f"{kept_url}transition/", {"to": "withdrawn", "reason": canary("withdrawn")}))

    for reader in (client, lead):
        assert len(ok(reader.get(CASES_URL))["results"]) == 2
        for url in (kept_url, erased_url):
            for suffix in ("", "needs/", "notes/", "timeline/"):
                ok(reader.get(f"{url}{suffix}"))
    ok(lead.post(f"{erased_url}erase/", erase_body(lead)))
    for url in (kept_url, erased_url):  # after the erasure too
        ok(lead.get(url))
        ok(lead.get(f"{url}notes/"))

    refused = [
        client.patch(kept_url, {"summary": canary("refused patch"), "status": "closed"}),
        client.post(f"{kept_url}transition/", {"to": "nowhere", "reason": canary("bad move")}),
        client.post(f"{kept_url}needs/", {"description": canary("bad"), "category": "yachts"}),
        lead.post(f"{erased_url}notes/", {"body": canary("note on an erased case")}),
        lead.patch(erased_url, {"location": canary("location on an erased case")}),
    ]
    assert [response.status_code for response in refused] == [400, 400, 400, 409, 409]

    dump = database_dump()
    audit_text = "\n".join(
        f"{entry.object_repr} {entry.changes} {entry.additional_data}"
        for entry in LogEntry.objects.all()
    )
    # The dump really holds the cases' sealed columns, in the hex the search also looks for.
    sealed = Note.objects.filter(case_id=kept["id"]).values_list("body", flat=True).first()
    assert sealed.blob.hex() in dump.lower()
    assert Case.objects.values_list("summary", flat=True).get(pk=kept["id"]).blob.hex() in (
        dump.lower()
    )
    assert LogEntry.objects.filter(object_pk=kept["id"]).exists()
    for needle in canary.values + CONCERN_CODES:
        found = {
            "database dump": occurrences(dump, needle),
            "log output": occurrences(caplog.text, needle),
            "audit entries": occurrences(audit_text, needle),
        }
        assert found == dict.fromkeys(found, 0), f"{needle!r} leaked: {found}"
