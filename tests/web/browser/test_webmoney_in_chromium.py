"""The money cycle in a real browser (Debian's Chromium), with JavaScript off and on, across
three browser sessions at once: a caseworker requests money, coordinator A approves it from
the inbox under a fresh code, coordinator B records the payment with its receipt reference and
another fresh code, and the caseworker sees it paid. axe-core checks every money page; each
page's first-visit weight, server time and queries are measured and printed."""

from __future__ import annotations

import secrets

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from accounts.roles import Role
from funds.services.disbursements import disbursement_request
from tests.funds.helpers import funded_case, terms
from tests.web.browser.support import FIGURES, PAGE_WEIGHT_LIMIT, PageFigures
from tests.web.browser.test_pages_in_chromium import (
    _measure,
    click,
    heading,
    path_of,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def main_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def test_the_money_cycle_across_three_browsers(live_server, make_staff, open_browser, javascript):
    base = live_server.url
    caseworker = make_staff(Role.CASEWORKER)
    first, second = make_staff(Role.COORDINATOR), make_staff(Role.COORDINATOR)
    case, allocation = funded_case(caseworker.user, first.user, secrets.token_hex(3))
    payee = f"Aslan D., Western Union {secrets.token_hex(3)}"
    asker, approver, payer = (open_browser(javascript=javascript) for _ in range(3))
    for driver, staff in ((asker, caseworker), (approver, first), (payer, second)):
        sign_in(driver, base, staff)

    # The caseworker asks.
    asker.get(f"{base}/funds/")
    click(asker, By.LINK_TEXT, "Request money")
    assert heading(asker) == "Request money"
    Select(asker.find_element(By.ID, "id_allocation")).select_by_value(str(allocation.pk))
    for field, value in (
        ("id_amount", "180.00"),
        ("id_currency", "EUR"),
        ("id_purpose", "Bus tickets to the border"),
        ("id_payee", payee),
    ):
        asker.find_element(By.ID, field).send_keys(value)
    Select(asker.find_element(By.ID, "id_method")).select_by_value("money_transfer_service")
    if not javascript:
        screenshot(asker, "funds-request")
    click(asker, By.XPATH, "//main//button[normalize-space()='Send the request']")
    assert heading(asker) == "Money request"
    assert "Waiting for approval" in main_text(asker)
    assert payee in main_text(asker)
    request_path = path_of(asker, base)
    assert case.primary_person.full_name not in asker.title

    # Coordinator A reads it in full in the inbox, ticks it and types one code.
    approver.get(f"{base}/funds/")
    assert payee in main_text(approver)
    approver.find_element(By.CSS_SELECTOR, "input[name=selected]").click()
    approver.find_element(By.ID, "id_otp").send_keys(first.fresh_totp())
    if not javascript:
        screenshot(approver, "funds-inbox-coordinator")
    click(approver, By.XPATH, "//main//button[normalize-space()='Approve the ticked requests']")
    assert "Approved 1 request" in main_text(approver)

    # Coordinator B finds it waiting for payment and records it.
    payer.get(f"{base}/funds/")
    click(payer, By.LINK_TEXT, case.reference)
    assert path_of(payer, base) == request_path
    payer.find_element(By.ID, "id_pay-receipt_reference").send_keys("WU 5521-0093")
    payer.find_element(By.ID, "id_pay-otp").send_keys("000000")  # wrong: refused, kept
    click(payer, By.XPATH, "//main//button[normalize-space()='Record the payment']")
    assert "authenticator" in main_text(payer)
    receipt = payer.find_element(By.ID, "id_pay-receipt_reference")
    assert receipt.get_attribute("value") == "WU 5521-0093"
    assert payer.find_element(By.ID, "id_pay-otp").get_attribute("value") == ""
    payer.find_element(By.ID, "id_pay-otp").send_keys(second.fresh_totp())
    click(payer, By.XPATH, "//main//button[normalize-space()='Record the payment']")
    assert "WU 5521-0093" in main_text(payer)
    if not javascript:
        screenshot(payer, "funds-request-paid")

    # The caseworker sees it paid, with both decisions.
    asker.get(f"{base}{request_path}")
    shown = main_text(asker)
    assert "Paid" in shown
    assert first.user.username in shown
    assert second.user.username in shown


MONEY_PAGES = {
    Role.CASEWORKER: ["/funds/", "/funds/disbursements/new/", "{request}"],
    Role.COORDINATOR: [
        "/funds/",
        "{request}",
        "/funds/sources/",
        "/funds/allocations/",
        "/funds/rates/",
    ],
    Role.AUDITOR: ["/funds/", "/funds/disbursements/", "{request}"],
}


def _money_world(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    coordinator = make_staff(Role.COORDINATOR)
    _, allocation = funded_case(caseworker.user, coordinator.user, secrets.token_hex(3))
    for n in range(3):
        item = disbursement_request(
            allocation=allocation, requested_by=caseworker.user, terms=terms(f"Payee {n}")
        )
    return {Role.CASEWORKER: caseworker}, f"/funds/disbursements/{item.pk}/"


def test_the_money_pages_are_light_local_measured_and_pass_axe(
    live_server, make_staff, open_browser, javascript, settings
):
    from axe_core_python.selenium import Axe

    settings.UI_SERVER_TIMING = True
    people, request_path = _money_world(make_staff)
    driver = open_browser(javascript=javascript)
    measured: list[PageFigures] = []
    problems = {}
    for role, paths in MONEY_PAGES.items():
        staff = people.get(role) or make_staff(role)
        sign_in(driver, live_server.url, staff)
        for path in paths:
            path = path.format(request=request_path)
            figures = _measure(driver, live_server.url, path, javascript)
            shown = "/funds/disbursements/<id>/" if path == request_path else path
            figures.page = f"{shown} ({role})"
            measured.append(figures)
            if not javascript and path != request_path:
                screenshot(driver, f"funds-{role}-{path.strip('/').replace('/', '-')}")
            if javascript:
                results = Axe().run(driver)
                serious = [
                    f"{v['id']} ({v['impact']}): {len(v['nodes'])} nodes"
                    for v in results["violations"]
                    if v["impact"] in ("serious", "critical")
                ]
                if serious:
                    problems[f"{path} ({role})"] = serious
        click(driver, By.XPATH, "//header//button[normalize-space()='Sign out']")

    FIGURES.extend(measured)
    assert problems == {}
    heavy = {
        f.page: f.first_visit_bytes for f in measured if f.first_visit_bytes > PAGE_WEIGHT_LIMIT
    }
    assert heavy == {}


def test_the_money_pages_at_360_pixels(live_server, make_staff, open_browser):
    _, request_path = _money_world(make_staff)
    driver = open_browser(javascript=False, width=360, height=740)
    sign_in(driver, live_server.url, make_staff(Role.COORDINATOR))
    overflow = {}
    for path, name in (("/funds/", "funds-inbox-360px"), (request_path, "funds-request-360px")):
        driver.get(f"{live_server.url}{path}")
        screenshot(driver, name)
        overflow[path] = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    assert all(value <= 0 for value in overflow.values()), overflow
