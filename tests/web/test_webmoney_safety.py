"""What every page promises (tests/web/test_page_safety.py), on the money pages that need a
real record or a posted form to be seen, as each role that may see them: never cached, the
strict policy, nothing from another host, every control labelled and keeping nothing typed,
quick exit and the language switch, and no payee or name in a title."""

from __future__ import annotations

import secrets

import pytest

from accounts.roles import Role
from funds.services.disbursements import disbursement_approve, disbursement_request
from tests.funds.helpers import funded_case, terms
from tests.web.helpers import controls_of, signed_in_client
from tests.web.test_page_safety import CSP

pytestmark = pytest.mark.django_db


def check(where: str, response, *, secrets_not_in_title: tuple[str, ...]) -> list[str]:
    problems = []
    policy = response["Content-Security-Policy"]
    if response["Cache-Control"] != "no-store":
        problems.append(f"{where}: cached")
    if sorted(part.strip() for part in policy.split(";")) != sorted(CSP):
        problems.append(f"{where}: policy {policy}")
    page = controls_of(response)
    foreign = [url for url in page.urls if not url.startswith(("/", "#", "?")) or "//" in url]
    if foreign:
        problems.append(f"{where}: links elsewhere {foreign}")
    for control in page.controls:
        if control["tag"] == "button" or control.get("type") == "hidden":
            continue
        if control.get("id") not in page.label_for:
            problems.append(f"{where}: unlabelled {control}")
        typed = control["tag"] == "textarea" or control.get("type") in (None, "", "text", "date")
        if typed and control.get("autocomplete") != "off":
            problems.append(f"{where}: keeps what is typed {control.get('name')}")
    if page.html_lang != "en":
        problems.append(f"{where}: language {page.html_lang}")
    html = response.content.decode()
    if 'action="/exit/"' not in html or 'action="/language/"' not in html:
        problems.append(f"{where}: no quick exit or language switch")
    problems += [f"{where}: title names {s}" for s in secrets_not_in_title if s in page.title]
    return problems


def test_every_money_page_with_a_record_or_a_form_keeps_the_promises(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    first, second = make_staff(Role.COORDINATOR), make_staff(Role.COORDINATOR)
    auditor = make_staff(Role.AUDITOR)
    case, allocation = funded_case(caseworker.user, first.user, secrets.token_hex(3))
    payee = f"Payee {secrets.token_hex(4)}"
    waiting = disbursement_request(
        allocation=allocation, requested_by=caseworker.user, terms=terms(payee)
    )
    approved = disbursement_request(
        allocation=allocation, requested_by=caseworker.user, terms=terms(payee)
    )
    disbursement_approve(disbursement=approved, approver=first.user)
    secret = (payee, case.primary_person.full_name)
    base = "/funds/disbursements/"
    seen = []
    for staff in (caseworker, second, auditor):
        client = signed_in_client(staff)
        for item in (waiting, approved):
            seen.append((f"{base}{item.pk}/ as {staff.user}", client.get(f"{base}{item.pk}/")))
    cw, coordinator = signed_in_client(caseworker), signed_in_client(second)
    seen += [
        ("change page", cw.get(f"{base}{waiting.pk}/change/")),
        ("change refused", cw.post(f"{base}{waiting.pk}/change/", {"amount": "-1"})),
        ("request refused", cw.post(f"{base}new/", {"amount": "abc"})),
        ("approve refused", coordinator.post(f"{base}{waiting.pk}/approve/", {})),
        ("reject refused", coordinator.post(f"{base}{waiting.pk}/reject/", {})),
        ("pay refused", coordinator.post(f"{base}{approved.pk}/pay/", {"pay-otp": "000000"})),
        ("several refused", coordinator.post("/funds/approve/", {"otp": "1"})),
        ("source refused", coordinator.post("/funds/sources/", {"amount": "1"})),
        ("allocation refused", coordinator.post("/funds/allocations/", {"amount": "1"})),
        ("rate refused", coordinator.post("/funds/rates/", {"rate": "x"})),
        ("inbox", coordinator.get("/funds/")),
    ]

    problems = [
        p for where, response in seen for p in check(where, response, secrets_not_in_title=secret)
    ]

    assert [response.status_code for _, response in seen[:6]] == [200] * 6
    assert problems == []
