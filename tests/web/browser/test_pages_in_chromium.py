"""The pages in a real browser (Debian's Chromium), each test with JavaScript off and on:
signing in with a TOTP code, quick exit, the idle timeout, a deactivation ending an open
session, the Russian interface, and the keyboard. axe-core checks every page with JavaScript
on; each page's first-visit weight, server time and queries are measured and printed."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from accounts.roles import Role
from accounts.services import staff_deactivate
from tests.conftest import Staff
from tests.web.browser.support import (
    FIGURES,
    PAGE_WEIGHT_LIMIT,
    SCREENSHOTS,
    PageFigures,
    first_visit_bytes,
    server_timing,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def navigates(driver, act) -> None:
    """Do `act` (a click, a key) and wait until the browser has left the current page and
    finished loading the next one."""
    page = driver.find_element(By.TAG_NAME, "html")
    act()

    def left(driver) -> bool:
        try:
            page.tag_name  # noqa: B018 - touching the old page's root is the test
        except WebDriverException:  # stale, or "does not belong to the document"
            return driver.execute_script("return document.readyState") == "complete"
        return False

    WebDriverWait(driver, 10).until(left)


def click(driver, by: str, value: str) -> None:
    navigates(driver, driver.find_element(by, value).click)


def sign_out(driver) -> None:
    click(driver, By.XPATH, "//header//button[normalize-space()='Sign out']")


def sign_in(driver, base: str, staff: Staff, *, code: str | None = None) -> None:
    driver.get(f"{base}/login/")
    driver.find_element(By.ID, "id_username").send_keys(staff.user.username)
    driver.find_element(By.ID, "id_password").send_keys(staff.password)
    driver.find_element(By.ID, "id_otp").send_keys(code or staff.totp())
    click(driver, By.CSS_SELECTOR, "main form button[type=submit]")


def path_of(driver, base: str) -> str:
    return driver.current_url.removeprefix(base)


def heading(driver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def screenshot(driver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def scripts_ran(driver) -> bool:
    """The optional script marks <html class="js">; with JavaScript off it never runs."""
    return "js" in (driver.find_element(By.TAG_NAME, "html").get_attribute("class") or "")


def test_signing_in_with_a_totp_code_lands_on_the_roles_main_page(
    live_server, make_staff, open_browser, javascript
):
    staff = make_staff(Role.CASEWORKER)
    driver = open_browser(javascript=javascript)

    sign_in(driver, live_server.url, staff)

    assert path_of(driver, live_server.url) == "/cases/"
    assert heading(driver) == "My cases"
    assert driver.title == "Cases · Safe Passage"
    assert scripts_ran(driver) is javascript
    nav = [link.text for link in driver.find_elements(By.CSS_SELECTOR, "nav a")]
    assert nav == ["Cases", "New intake", "Open needs", "Money", "Your account"]
    click(driver, By.LINK_TEXT, "Your account")
    assert staff.user.username in driver.find_element(By.TAG_NAME, "main").text


def test_quick_exit_ends_the_session_and_leaves_for_the_neutral_page(
    live_server, make_staff, open_browser, javascript
):
    staff = make_staff(Role.COORDINATOR)
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, staff)

    click(driver, By.CSS_SELECTOR, "form.quick-exit button")

    assert path_of(driver, live_server.url) == "/recipe/"
    assert "Safe Passage" not in driver.page_source
    assert driver.get_cookies() == []  # Clear-Site-Data emptied the site's cookies
    driver.get(f"{live_server.url}/account/")
    assert path_of(driver, live_server.url) == "/login/?next=%2Faccount%2F"


def test_an_idle_session_ends(live_server, make_staff, open_browser, javascript, settings):
    settings.UI_IDLE_TIMEOUT = timedelta(seconds=2)
    staff = make_staff(Role.AUDITOR)
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, staff)
    assert path_of(driver, live_server.url) == "/reports/"

    if javascript:
        # The optional script leaves the page by itself once the session's end has passed.
        WebDriverWait(driver, 10).until(lambda d: "/login/" in d.current_url)
    else:
        time.sleep(3)
        click(driver, By.LINK_TEXT, "Your account")

    assert "/login/" in driver.current_url
    assert "idle for too long" in driver.find_element(By.TAG_NAME, "main").text
    driver.get(f"{live_server.url}/reports/")
    assert "/login/" in driver.current_url


def test_a_deactivation_ends_an_open_browser_session(
    live_server, make_staff, open_browser, javascript
):
    staff = make_staff(Role.CASEWORKER)
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, staff)
    assert path_of(driver, live_server.url) == "/cases/"

    staff_deactivate(user=staff.user)
    click(driver, By.LINK_TEXT, "Your account")

    assert path_of(driver, live_server.url) == "/login/?next=%2Faccount%2F&ended=revoked"
    assert "Your session has ended." in driver.find_element(By.TAG_NAME, "main").text


def test_the_russian_interface_and_the_language_switch(
    live_server, make_staff, open_browser, javascript
):
    staff = make_staff(Role.COORDINATOR)
    driver = open_browser(javascript=javascript, language="ru")

    driver.get(f"{live_server.url}/login/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ru"
    assert heading(driver) == "Вход"
    sign_in(driver, live_server.url, staff)
    assert heading(driver) == "Все дела"  # noqa: RUF001 - Russian, not Latin look-alikes
    assert "При бездействии сеанс завершится в" in driver.find_element(By.TAG_NAME, "footer").text
    if not javascript:
        screenshot(driver, "cases-ru")

    click(driver, By.CSS_SELECTOR, "form.language button[value=en]")

    assert path_of(driver, live_server.url) == "/cases/"
    assert heading(driver) == "All cases"
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_the_keyboard_reaches_everything_and_signs_in(
    live_server, make_staff, open_browser, javascript
):
    staff = make_staff(Role.ADMIN)
    driver = open_browser(javascript=javascript)
    driver.get(f"{live_server.url}/login/")
    body = driver.find_element(By.TAG_NAME, "body")

    def tab() -> object:
        driver.switch_to.active_element.send_keys(Keys.TAB)
        return driver.switch_to.active_element

    body.send_keys(Keys.TAB)
    skip = driver.switch_to.active_element
    assert skip.text == "Skip to main content"
    assert skip.value_of_css_property("outline-style") != "none"  # focus is visible
    skip.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main"
    for field, value in (
        ("id_username", staff.user.username),
        ("id_password", staff.password),
        ("id_otp", staff.totp()),
    ):
        focused = tab()
        assert focused.get_attribute("id") == field
        focused.send_keys(value)
    submit = tab()
    navigates(driver, lambda: submit.send_keys(Keys.ENTER))
    assert path_of(driver, live_server.url) == "/staff/"

    reached = []
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    for _ in range(12):
        element = driver.switch_to.active_element
        reached.append(element.text or element.get_attribute("value"))
        element.send_keys(Keys.TAB)
    for control in ("Skip to main content", "Quick exit", "Staff", "Your account", "Русский"):
        assert control in reached
    assert "Sign out" in reached


# --- Every page: axe-core, screenshots, weight and timing --------------------------------------

PAGES_BY_ROLE = {
    Role.CASEWORKER: ["/cases/", "/funds/", "/account/"],
    Role.COORDINATOR: ["/reports/"],
    Role.AUDITOR: ["/audit/"],
    Role.ADMIN: ["/staff/"],
}
LOADS = 20


def _measure(driver, base: str, path: str, javascript: bool) -> PageFigures:
    weight, requested = first_visit_bytes(driver, f"{base}{path}")
    foreign = [url for url in requested if not url.startswith((base, "data:"))]
    assert foreign == [], f"{path} asked another host for {foreign}"
    figures = PageFigures(page=path, javascript=javascript, first_visit_bytes=weight)
    for _ in range(LOADS):
        app_ms, queries = server_timing(driver, f"{base}{path}")
        figures.server_ms.append(app_ms)
        figures.queries = queries
    return figures


def test_every_page_is_light_local_and_measured(
    live_server, make_staff, open_browser, javascript, settings
):
    settings.UI_SERVER_TIMING = True
    driver = open_browser(javascript=javascript)
    measured = [_measure(driver, live_server.url, "/login/", javascript)]
    if not javascript:
        screenshot(driver, "login")
    for role, paths in PAGES_BY_ROLE.items():
        sign_in(driver, live_server.url, make_staff(role))
        for path in paths:
            measured.append(_measure(driver, live_server.url, path, javascript))
            if not javascript:
                screenshot(driver, path.strip("/") or "home")
        sign_out(driver)
    measured.append(_measure(driver, live_server.url, "/recipe/", javascript))

    FIGURES.extend(measured)
    heavy = {
        f.page: f.first_visit_bytes for f in measured if f.first_visit_bytes > PAGE_WEIGHT_LIMIT
    }
    assert heavy == {}
    assert all(figures.first_visit_bytes > 0 for figures in measured)


def test_the_pages_at_360_pixels(live_server, make_staff, open_browser):
    driver = open_browser(javascript=False, width=360, height=740)
    driver.get(f"{live_server.url}/login/")
    screenshot(driver, "login-360px")
    sign_in(driver, live_server.url, make_staff(Role.COORDINATOR))
    driver.get(f"{live_server.url}/account/")
    screenshot(driver, "account-360px")

    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_axe_finds_no_serious_or_critical_problem_on_any_page(
    live_server, make_staff, open_browser
):
    from axe_core_python.selenium import Axe

    driver = open_browser(javascript=True)
    driver.get(f"{live_server.url}/login/")
    pages = {"/login/": None, "/no-such-page/": None, "/recipe/": None}
    problems = {}

    def check(path: str) -> None:
        driver.get(f"{live_server.url}{path}")
        results = Axe().run(driver)
        serious = [
            f"{violation['id']} ({violation['impact']}): {len(violation['nodes'])} nodes"
            for violation in results["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        if serious:
            problems[path] = serious

    for path in pages:
        check(path)
    for role, paths in PAGES_BY_ROLE.items():
        sign_in(driver, live_server.url, make_staff(role))
        for path in paths:
            check(path)
        sign_out(driver)

    assert problems == {}
