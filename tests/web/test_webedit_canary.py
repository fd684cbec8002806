"""The plaintext canary through the edit pages: what is typed into a case's details and a
person's record (and what a refused form sent back) is nowhere at rest in clear (database
dump, sessions, audit entries) nor in the logs; the pages show it, so the search can find it."""

from __future__ import annotations

import logging
import secrets

import pytest

from accounts.roles import Role
from tests.web.canary import at_rest
from tests.web.helpers import signed_in_client, text_of
from tests.web.test_webedit_pages import case_body, person_body
from tests.web.webcases_examples import example_case

pytestmark = pytest.mark.django_db(transaction=True)


def test_nothing_typed_into_the_edit_pages_is_kept_in_clear(make_staff, caplog):
    caplog.set_level(logging.DEBUG)
    tag = secrets.token_hex(5)
    canary = {name: f"canary-{name}-{tag}" for name in (
        "summary", "location", "contact", "name", "alias", "document", "notes", "refused",
    )}  # fmt: skip
    caseworker = make_staff(Role.CASEWORKER)
    web = signed_in_client(caseworker)
    case = example_case(caseworker.user)
    case_url, person_url = f"/cases/{case.pk}/edit/", f"/people/{case.primary_person_id}/edit/"

    writes = [
        web.post(case_url, case_body(summary=canary["summary"], location=canary["location"],
                                     safe_contact=canary["contact"])),
        web.post(person_url, person_body(full_name=canary["name"], preferred_name=canary["alias"],
                                         document_type="passport",
                                         document_number=canary["document"],
                                         notes=canary["notes"])),
    ]  # fmt: skip
    refused = web.post(case_url, case_body(risk_level="", summary=canary["refused"]))

    assert [w.status_code for w in writes] == [302, 302]
    assert refused.status_code == 400
    assert canary["summary"] in text_of(web.get(f"/cases/{case.pk}/"))
    assert canary["notes"] in text_of(web.get(f"/people/{case.primary_person_id}/"))
    found = at_rest(canary.values(), log_text=caplog.text)
    assert found == {}
