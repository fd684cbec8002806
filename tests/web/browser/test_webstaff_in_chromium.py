"""The staff, account and enrolment pages in Debian's Chromium, JavaScript off and on: an admin's
panic button ends another person's open browser session, a new member enrols with the QR code
drawn on the page and lands signed in, one ends one's own other session; axe-core on every page,
screenshots, and each page's weight, server time and queries."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from selenium.webdriver.common.by import By

from accounts.roles import Role
from accounts.services import staff_create_by_admin, staff_roles_request
from tests.web.browser.support import FIGURES, PAGE_WEIGHT_LIMIT
from tests.web.browser.test_pages_in_chromium import (
    _measure,
    click,
    heading,
    path_of,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def type_into(driver, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def main_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def test_an_admins_panic_button_ends_another_persons_open_browser_session(
    live_server, make_staff, open_browser, javascript
):
    base = live_server.url
    admin, caseworker = make_staff(Role.ADMIN), make_staff(Role.CASEWORKER)
    theirs = open_browser(javascript=javascript)
    sign_in(theirs, base, caseworker)
    assert path_of(theirs, base) == "/cases/"
    mine = open_browser(javascript=javascript)
    sign_in(mine, base, admin)
    assert path_of(mine, base) == "/staff/"

    click(mine, By.LINK_TEXT, caseworker.user.username)
    assert heading(mine) == f"Staff member {caseworker.user.username}"
    type_into(mine, "id_deactivate-otp", admin.fresh_totp())
    click(mine, By.XPATH, "//button[normalize-space()='Deactivate and end every session']")

    assert "The account is deactivated" in main_text(mine)
    if not javascript:
        screenshot(mine, "staff-member")
    click(theirs, By.LINK_TEXT, "Your account")
    assert "ended=revoked" in path_of(theirs, base)
    assert "Your session has ended." in main_text(theirs)


def test_a_new_member_enrols_with_the_qr_code_and_lands_signed_in(
    live_server, make_staff, open_browser, javascript
):
    base = live_server.url
    admin = make_staff(Role.ADMIN)
    code = staff_create_by_admin(
        username="new-auditor", roles=[Role.AUDITOR], actor=admin.user
    ).enrolment.code
    password = "a long passphrase for the browser"
    driver = open_browser(javascript=javascript)

    driver.get(f"{base}/enrol/")
    type_into(driver, "id_username", "new-auditor")
    type_into(driver, "id_code", code)
    type_into(driver, "id_password", password)
    click(driver, By.CSS_SELECTOR, "main form button[type=submit]")

    qr = driver.find_element(By.CSS_SELECTOR, "svg.qr")
    assert qr.is_displayed()
    assert qr.size["width"] >= 150
    assert qr.size["width"] == qr.size["height"]
    assert qr.get_attribute("aria-label")
    if not javascript:
        screenshot(driver, "enrol-qr")
    secret = driver.find_element(By.CSS_SELECTOR, ".code-once").text.replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    assert len(driver.find_elements(By.CSS_SELECTOR, ".backup-codes li")) == 10
    type_into(driver, "id_password", password)
    type_into(driver, "id_otp", f"{TOTP(key).token():06d}")
    click(driver, By.XPATH, "//button[normalize-space()='Finish and sign in']")

    assert path_of(driver, base) == "/reports/"
    click(driver, By.LINK_TEXT, "Your account")
    assert "new-auditor" in main_text(driver)


def test_one_ends_ones_own_other_session_from_the_account_page(
    live_server, make_staff, open_browser, javascript
):
    base = live_server.url
    staff = make_staff(Role.COORDINATOR)
    laptop = open_browser(javascript=javascript)
    sign_in(laptop, base, staff)
    phone = open_browser(javascript=javascript)
    sign_in(phone, base, staff, code=staff.fresh_totp())

    laptop.get(f"{base}/account/")
    rows = laptop.find_elements(By.CSS_SELECTOR, "main tbody tr")
    assert len(rows) == 2
    if not javascript:
        screenshot(laptop, "account-sessions")
    click(laptop, By.XPATH, "//button[normalize-space()='End']")

    assert path_of(laptop, base) == "/account/"
    assert len(laptop.find_elements(By.CSS_SELECTOR, "main tbody tr")) == 1
    phone.get(f"{base}/cases/")
    assert "/login/" in path_of(phone, base)


def _admin_world(make_staff):
    """Two admins and a member with a grant waiting, so every staff page has something on it."""
    admin, other_admin = make_staff(Role.ADMIN), make_staff(Role.ADMIN)
    member = make_staff(Role.AUDITOR)
    staff_roles_request(
        user=member.user, roles=[Role.AUDITOR, Role.CASEWORKER], actor=other_admin.user
    )
    return admin, member


def test_the_staff_pages_are_light_local_and_measured(
    live_server, make_staff, open_browser, javascript, settings
):
    settings.UI_SERVER_TIMING = True
    base = live_server.url
    admin, member = _admin_world(make_staff)
    driver = open_browser(javascript=javascript)
    measured = [_measure(driver, base, "/enrol/", javascript)]
    sign_in(driver, base, admin)
    paths = {
        "/staff/": "staff-list",
        "/staff/new/": "staff-new",
        "/staff/changes/": "staff-changes",
        f"/staff/{member.user.pk}/": None,
        "/account/password/": "account-password",
    }
    for path, shot in paths.items():
        figures = _measure(driver, base, path, javascript)
        if shot is None:
            figures.page = "/staff/<id>/"
        measured.append(figures)
        if shot and not javascript:
            screenshot(driver, shot)

    FIGURES.extend(measured)
    heavy = {
        f.page: f.first_visit_bytes for f in measured if f.first_visit_bytes > PAGE_WEIGHT_LIMIT
    }
    assert heavy == {}


def test_the_staff_pages_at_360_pixels(live_server, make_staff, open_browser):
    base = live_server.url
    admin, member = _admin_world(make_staff)
    driver = open_browser(javascript=False, width=360, height=740)
    sign_in(driver, base, admin)
    overflow = {}
    for path in ("/staff/", f"/staff/{member.user.pk}/", "/staff/changes/", "/account/"):
        driver.get(f"{base}{path}")
        overflow[path] = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    driver.get(f"{base}/staff/{member.user.pk}/")
    screenshot(driver, "staff-member-360px")

    assert all(excess <= 0 for excess in overflow.values()), overflow


def test_axe_finds_no_serious_or_critical_problem_on_the_staff_pages(
    live_server, make_staff, open_browser
):
    from axe_core_python.selenium import Axe

    base = live_server.url
    admin, member = _admin_world(make_staff)
    driver = open_browser(javascript=True)
    problems = {}

    def check(name: str) -> None:
        results = Axe().run(driver)
        serious = [
            f"{violation['id']} ({violation['impact']}): {len(violation['nodes'])} nodes"
            for violation in results["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        if serious:
            problems[name] = serious

    driver.get(f"{base}/enrol/")
    check("/enrol/")
    code = staff_create_by_admin(username="axe-enrols", roles=["auditor"], actor=admin.user)
    type_into(driver, "id_username", "axe-enrols")
    type_into(driver, "id_code", code.enrolment.code)
    type_into(driver, "id_password", "a long passphrase for axe")
    click(driver, By.CSS_SELECTOR, "main form button[type=submit]")
    check("/enrol/ (the QR code)")
    sign_in(driver, base, admin)
    for path in (
        "/staff/",
        "/staff/new/",
        "/staff/changes/",
        f"/staff/{member.user.pk}/",
        "/account/",
        "/account/password/",
    ):
        driver.get(f"{base}{path}")
        check(path)
    # A refused form, with its problems shown.
    driver.get(f"{base}/staff/new/")
    click(driver, By.CSS_SELECTOR, "main form button[type=submit]")
    check("/staff/new/ (refused)")

    assert problems == {}
