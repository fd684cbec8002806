"""The oversight pages in Debian's Chromium, JavaScript off and on: the report with its charts
(drawn images, not broken ones) and its CSV, an uploaded checkpoint catching a cut log, the
donor view printing on one sheet, the pages at 360 pixels, axe-core on every oversight page,
and each page's weight, server time and queries (printed at the end of the run)."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from accounts.roles import Role
from audit.models import LogEntry
from tests.audit.test_verify_against_outside_checkpoints import cut_the_tail_as_the_owner
from tests.web.browser.support import FIGURES, PAGE_WEIGHT_LIMIT
from tests.web.browser.test_pages_in_chromium import (
    _measure,
    click,
    heading,
    path_of,
    screenshot,
    sign_in,
)
from tests.web.weboversight_books import checkpoint_now, write_books

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def main_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def images_drawn(driver) -> list[tuple[str, int]]:
    """(src, natural width) of every image on the page: a width of 0 is a broken image."""
    return [
        (image.get_attribute("src"), int(image.get_property("naturalWidth")))
        for image in driver.find_elements(By.CSS_SELECTOR, "main img")
    ]


def wait_for_images(driver) -> None:
    """Until every image of the page has loaded or failed."""
    driver.set_script_timeout(10)
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all([...document.querySelectorAll('main img')]"
        ".map(image => image.decode().catch(() => null))).then(() => done(true));"
    )


def fetch_as(driver, url: str) -> tuple[int, str, bytes]:
    """GET `url` with the browser's cookies (what a download would receive)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(url, headers={"Cookie": cookies})  # noqa: S310 - live_server
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.headers["Content-Type"], response.read()


def test_the_report_shows_its_charts_and_offers_the_csv(
    live_server, make_staff, open_browser, javascript
):
    write_books(make_staff)
    auditor = make_staff(Role.AUDITOR)
    driver = open_browser(javascript=javascript)

    sign_in(driver, live_server.url, auditor)
    assert path_of(driver, live_server.url) == "/reports/"
    assert heading(driver) == "Summary report"
    wait_for_images(driver)
    drawn = images_drawn(driver)
    if not javascript:
        screenshot(driver, "reports-by-category")

    assert [src.split("currency=")[1] for src, _width in drawn] == ["EUR", "USD"]
    assert all(width > 300 for _src, width in drawn), drawn
    assert "Travel" in main_text(driver)
    csv_link = driver.find_element(By.LINK_TEXT, "Download this report as CSV")
    status, kind, body = fetch_as(driver, csv_link.get_attribute("href"))
    assert (status, kind) == (200, "text/csv; charset=utf-8")
    assert body.decode().splitlines()[0].startswith("category,currency,allocated")

    click(driver, By.LINK_TEXT, "By month")
    wait_for_images(driver)
    assert heading(driver) == "Summary report"
    assert all(width > 300 for _src, width in images_drawn(driver))
    if not javascript:
        screenshot(driver, "reports-by-month")


def test_an_uploaded_checkpoint_catches_a_cut_log(
    live_server, make_staff, open_browser, javascript, tmp_path: Path
):
    write_books(make_staff)
    kept = checkpoint_now()
    kept_file = tmp_path / "checkpoint.json"
    kept_file.write_text(json.dumps(kept))
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, make_staff(Role.AUDITOR))

    def verify_with_the_file() -> str:
        driver.get(f"{live_server.url}/audit/verify/")
        driver.find_element(By.ID, "id_files").send_keys(str(kept_file))
        click(driver, By.XPATH, "//main//button[normalize-space()='Verify the log']")
        return main_text(driver)

    before = verify_with_the_file()
    if not javascript:
        screenshot(driver, "audit-verify")
    cut_the_tail_as_the_owner(keep_up_to=kept["sequence"] - 3)
    after = verify_with_the_file()
    if not javascript:
        screenshot(driver, "audit-verify-cut")

    assert f"The log holds. It extends the checkpoint you kept at entry {kept['sequence']}" in (
        before
    )
    assert f"The log does not hold: the first problem is at entry {kept['sequence']}." in after
    assert "your file" in after


def test_the_audit_log_filters_and_opens_an_entry(
    live_server, make_staff, open_browser, javascript
):
    write_books(make_staff)
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, make_staff(Role.AUDITOR))

    click(driver, By.LINK_TEXT, "Audit log")
    if javascript is False:
        screenshot(driver, "audit-log")
    filters = driver.find_element(By.CSS_SELECTOR, "details.filters")
    if not filters.get_attribute("open"):
        filters.find_element(By.TAG_NAME, "summary").click()
    driver.find_element(By.ID, "id_object_type").send_keys("funds.disbursement")
    driver.find_element(By.ID, "id_action").send_keys("create")
    click(driver, By.XPATH, "//main//button[normalize-space()='Filter']")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.entries tbody tr")
    expected = LogEntry.objects.filter(
        content_type__model="disbursement", action=LogEntry.Action.CREATE
    ).count()
    assert len(rows) == expected == 2
    rows[0].find_element(By.TAG_NAME, "a").click()

    assert heading(driver).startswith("Audit log entry ")
    assert "funds.disbursement" in main_text(driver)


def test_the_donor_view_prints_on_one_sheet(live_server, make_staff, open_browser):
    books = write_books(make_staff)
    driver = open_browser(javascript=False)
    sign_in(driver, live_server.url, make_staff(Role.COORDINATOR))

    driver.get(f"{live_server.url}/reports/sources/{books.source_id}/")
    screenshot(driver, "donor-view")
    pdf = base64.b64decode(
        driver.execute_cdp_cmd(
            "Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": False}
        )["data"]
    )

    assert heading(driver) == "How your support was used"
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    assert b"Quick exit" not in pdf  # the page's header is not printed


def test_the_oversight_pages_at_360_pixels(live_server, make_staff, open_browser):
    books = write_books(make_staff)
    driver = open_browser(javascript=False, width=360, height=740)
    sign_in(driver, live_server.url, make_staff(Role.AUDITOR, Role.COORDINATOR))
    overflowing = {}
    for path in (
        "/reports/",
        "/reports/?group_by=source",
        f"/reports/sources/{books.source_id}/",
        "/audit/",
        "/audit/verify/",
        "/audit/checkpoints/",
    ):
        driver.get(f"{live_server.url}{path}")
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            overflowing[path] = overflow
        if path == "/reports/":
            screenshot(driver, "reports-360px")

    assert overflowing == {}


def oversight_paths(books) -> list[str]:
    entry = LogEntry.objects.order_by("-sequence").values_list("pk", flat=True).first()
    return [
        "/reports/",
        "/reports/?group_by=month",
        "/reports/?group_by=source",
        f"/reports/sources/{books.source_id}/",
        "/audit/",
        f"/audit/entries/{entry}/",
        "/audit/verify/",
        "/audit/checkpoints/",
    ]


def test_axe_finds_no_serious_or_critical_problem_on_the_oversight_pages(
    live_server, make_staff, open_browser
):
    from axe_core_python.selenium import Axe

    books = write_books(make_staff)
    checkpoint_now()
    driver = open_browser(javascript=True)
    sign_in(driver, live_server.url, make_staff(Role.AUDITOR, Role.COORDINATOR))
    problems = {}
    for path in oversight_paths(books):
        driver.get(f"{live_server.url}{path}")
        results = Axe().run(driver)
        serious = [
            f"{violation['id']} ({violation['impact']}): {len(violation['nodes'])} nodes"
            for violation in results["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        if serious:
            problems[path] = serious

    assert problems == {}


def test_the_oversight_pages_are_light_local_and_measured(
    live_server, make_staff, open_browser, javascript, settings
):
    settings.UI_SERVER_TIMING = True
    books = write_books(make_staff)
    checkpoint_now()
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, make_staff(Role.AUDITOR, Role.COORDINATOR))

    measured = [
        _measure(driver, live_server.url, path, javascript) for path in oversight_paths(books)
    ]
    if not javascript:
        driver.get(f"{live_server.url}/audit/checkpoints/")
        screenshot(driver, "audit-checkpoints")

    FIGURES.extend(measured)
    heavy = {
        f.page: f.first_visit_bytes for f in measured if f.first_visit_bytes > PAGE_WEIGHT_LIMIT
    }
    assert heavy == {}
    assert all(figures.first_visit_bytes > 0 for figures in measured)


def test_the_report_in_russian(live_server, make_staff, open_browser):
    write_books(make_staff)
    driver = open_browser(javascript=False, language="ru")
    sign_in(driver, live_server.url, make_staff(Role.AUDITOR))

    click(driver, By.LINK_TEXT, "По месяцам")
    wait_for_images(driver)
    screenshot(driver, "reports-ru")

    assert heading(driver) == "Сводный отчёт"
    assert "ноябрь 2026" in main_text(driver).lower()
    assert all(width > 300 for _src, width in images_drawn(driver))
