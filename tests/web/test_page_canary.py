"""The plaintext canary through the pages: passwords, codes, the raw token and whatever was
typed into the sign-in form appear nowhere at rest, in the logs or in the audit log."""

from __future__ import annotations

import logging
import secrets

import pytest
from django.test import Client

from accounts import services
from tests.web.canary import at_rest
from tests.web.helpers import ACCOUNT, EXIT, LANGUAGE, LOGOUT, sign_in_through_the_form

pytestmark = pytest.mark.django_db(transaction=True)


def test_nothing_typed_or_issued_on_the_pages_is_kept_in_clear(make_staff, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    issued_tokens: list[str] = []
    real_login = services.login

    def spying_login(**kwargs):
        issued = real_login(**kwargs)
        issued_tokens.append(issued.token)
        return issued

    monkeypatch.setattr("web.views.login", spying_login)
    staff = make_staff()
    tag = secrets.token_hex(6)
    typed_by_mistake = f"canary-password-in-the-username-{tag}"
    wrong_password = f"canary-wrong-password-{tag}"
    backup_code = staff.backup_codes[0]

    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    failures = [
        sign_in_through_the_form(client, staff, username=typed_by_mistake),
        sign_in_through_the_form(client, staff, password=wrong_password),
    ]
    first = sign_in_through_the_form(client, staff, otp=backup_code)
    visited = [client.get(ACCOUNT), client.post(LANGUAGE, {"language": "en"})]
    client.post(LOGOUT)
    code = staff.totp()
    second = sign_in_through_the_form(client, staff, otp=code)
    client.post(EXIT)

    assert [response.status_code for response in failures] == [401, 401]
    assert first.status_code == second.status_code == 302
    assert [response.status_code for response in visited] == [200, 302]
    assert len(issued_tokens) == 2
    needles = [typed_by_mistake, wrong_password, staff.password, backup_code, *issued_tokens]
    assert at_rest(needles, log_text=caplog.text) == {}


def test_a_password_typed_into_the_username_field_is_not_kept_by_the_lockout(make_staff):
    typed_by_mistake = f"canary-password-in-the-username-{secrets.token_hex(6)}"

    sign_in_through_the_form(Client(), make_staff(), username=typed_by_mistake)

    assert at_rest([typed_by_mistake], log_text="") == {}


def test_the_canary_search_finds_what_is_there(make_staff, caplog):
    # Guards the test above against passing because the search cannot see.
    staff = make_staff()
    client = Client()
    sign_in_through_the_form(client, staff)
    marker = f"canary-{secrets.token_hex(6)}"
    logging.getLogger("probe").warning(marker)

    found = at_rest([staff.user.username, marker], log_text=caplog.text)

    assert found[marker] == {"log output": 1}
    assert {"database dump", "audit entries"} <= set(found[staff.user.username])
