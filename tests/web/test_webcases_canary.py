"""The plaintext canary through the case pages: everything typed into intake, a case's
household, needs, notes, transitions and removals, and what the duplicate check searched for,
is nowhere at rest in clear (database dump, sessions, audit entries) nor in the logs."""

from __future__ import annotations

import logging
import secrets

import pytest

from accounts.roles import Role
from cases.models import Case
from tests.web.canary import at_rest
from tests.web.helpers import signed_in_client, text_of
from tests.web.test_webcases_flows import INTAKE, case_fields, person_fields

pytestmark = pytest.mark.django_db(transaction=True)


def test_nothing_typed_into_the_case_pages_is_kept_in_clear(make_staff, caplog):
    caplog.set_level(logging.DEBUG)
    tag = secrets.token_hex(5)
    canary = {name: f"canary-{name}-{tag}" for name in (
        "name", "alias", "document", "summary", "location", "contact", "member",
        "need", "note", "reason", "removal",
    )}  # fmt: skip
    phone = f"+7 928 {secrets.randbelow(900) + 100}-{secrets.randbelow(90) + 10}-77"
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    person = person_fields(
        full_name=canary["name"], preferred_name=canary["alias"], phone=phone,
        document_type="passport", document_number=canary["document"],
    )  # fmt: skip
    checked = web.post(INTAKE, {"step": "check", **person})
    opened = web.post(INTAKE, {"step": "open", **person, **case_fields(
        summary=canary["summary"], location=canary["location"], safe_contact=canary["contact"],
    )})  # fmt: skip
    url = opened["Location"].split("#")[0]
    case = Case.objects.get()
    writes = [
        web.post(f"{url}household/", {"member-relationship": "sibling",
                                       "member-full_name": canary["member"]}),
        web.post(f"{url}needs/", {"need-category": "housing", "need-urgency": "high",
                                  "need-description": canary["need"]}),
        web.post(f"{url}notes/", {"note-body": canary["note"]}),
        web.post(f"{url}transition/", {"move-to": "verification", "move-reason": canary["reason"]}),
    ]  # fmt: skip
    sibling = case.memberships.get(relationship="sibling").person_id
    writes.append(
        web.post(f"{url}household/{sibling}/remove/", {"remove-reason": canary["removal"]})
    )
    page = web.get(url)

    assert checked.status_code == 200
    assert opened.status_code == 302
    assert [w.status_code for w in writes] == [302] * 5
    shown = text_of(page)
    assert canary["summary"] in shown  # the page shows it: the search below can find it
    assert canary["removal"] in shown
    e164 = "+" + "".join(ch for ch in phone if ch.isdigit())  # as the duplicate check reads it
    found = at_rest([*canary.values(), phone, e164], log_text=caplog.text)
    assert found == {}
