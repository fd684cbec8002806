"""The case pages in Debian's Chromium, with JavaScript off and on: a caseworker's intake
(record the caller, the duplicate check's outcome, open the case) then a need, a note and a
transition; a coordinator assigning and approving; the Russian interface; axe-core on each case
page; each page's weight, server time and queries at 50 cases beside `GET /api/v1/cases/` on
the same data. Screenshots of the main pages go to var/screenshots/ (`make screenshots`)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from accounts.roles import Role
from cases.models import Case
from cases.services import case_transition
from tests.web.browser.support import (
    FIGURES,
    PAGE_WEIGHT_LIMIT,
    PageFigures,
    first_visit_bytes,
    server_timing,
)
from tests.web.browser.test_pages_in_chromium import (
    click,
    heading,
    path_of,
    screenshot,
    sign_in,
    sign_out,
)
from tests.web.webcases_examples import example_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def type_into(driver, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def main_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def open_details(driver, summary: str) -> None:
    """Open a <details> by its summary (works with JavaScript off: it is the browser's own)."""
    element = driver.find_element(By.XPATH, f"//summary[normalize-space()='{summary}']")
    if element.find_element(By.XPATH, "..").get_attribute("open") is None:
        element.click()


def test_intake_then_a_need_a_note_and_a_transition(
    live_server, make_staff, open_browser, javascript
):
    caseworker = make_staff(Role.CASEWORKER)
    earlier = example_case(make_staff(Role.CASEWORKER).user)  # someone else's caller
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, caseworker)
    assert heading(driver) == "My cases"

    click(driver, By.LINK_TEXT, "New intake")
    type_into(driver, "id_person-full_name", "Example Person")  # as on the earlier case
    type_into(driver, "id_person-phone", "+7 928 444-55-66")
    click(driver, By.XPATH, "//button[@value='check']")

    outcome = main_text(driver)
    assert "A record outside your cases matches: ask a coordinator" in outcome
    assert "Example Partner" not in outcome
    if not javascript:
        outcome_title = driver.find_element(By.ID, "outcome-title")
        driver.execute_script("arguments[0].scrollIntoView()", outcome_title)
        screenshot(driver, "intake-duplicate-check")
    type_into(driver, "id_person-full_name", "Adam Browser-Caller")
    Select(driver.find_element(By.ID, "id_case-risk_level")).select_by_value("critical")
    driver.find_element(By.CSS_SELECTOR, "input[value=in_hiding]").click()
    type_into(driver, "id_case-summary", "Hiding at a relative's; family searching.")
    driver.find_element(By.ID, "id_case-consent_to_store").click()
    click(driver, By.XPATH, "//button[@value='open']")

    case = Case.objects.exclude(pk=earlier.pk).get()
    assert path_of(driver, live_server.url) == f"/cases/{case.pk}/"
    assert heading(driver) == f"Case {case.reference}"
    assert "Hiding at a relative's" in main_text(driver)

    open_details(driver, "Add a need")
    Select(driver.find_element(By.ID, "id_need-category")).select_by_value("travel")
    type_into(driver, "id_need-description", "Train tickets to Moscow")
    click(driver, By.XPATH, "//button[normalize-space()='Add the need']")
    type_into(driver, "id_note-body", "Called back from a safe phone.")
    click(driver, By.XPATH, "//button[normalize-space()='Add the note']")
    type_into(driver, "move-reason-verification", "Documents seen on a video call")
    click(driver, By.XPATH, "//button[normalize-space()='Send for verification']")

    page = main_text(driver)
    for expected in ("Train tickets to Moscow", "Called back from a safe phone.",
                     "Documents seen on a video call", "Verification"):  # fmt: skip
        assert expected in page
    assert Case.objects.get(pk=case.pk).status == "verification"
    if not javascript:
        driver.get(f"{live_server.url}/cases/{case.pk}/")  # from its top
        screenshot(driver, "case")
    click(driver, By.LINK_TEXT, "Cases")
    assert case.reference in main_text(driver)
    if not javascript:
        screenshot(driver, "cases-mine")


def test_a_coordinator_assigns_a_caseworker_and_approves(
    live_server, make_staff, open_browser, javascript
):
    opener, successor = make_staff(Role.CASEWORKER), make_staff(Role.CASEWORKER)
    coordinator = make_staff(Role.COORDINATOR)
    case = example_case(opener.user)
    case_transition(case=case, actor=opener.user, to="verification", reason="checked")
    driver = open_browser(javascript=javascript)
    sign_in(driver, live_server.url, coordinator)
    assert heading(driver) == "All cases"
    if not javascript:
        screenshot(driver, "cases-all")

    click(driver, By.LINK_TEXT, case.reference)
    boxes = {
        box.get_attribute("value"): box
        for box in driver.find_elements(By.CSS_SELECTOR, "input[name=assign-caseworkers]")
    }
    boxes[opener.user.username].click()
    boxes[successor.user.username].click()
    click(driver, By.XPATH, "//button[normalize-space()='Save the caseworkers']")
    type_into(driver, "move-reason-approved", "Verified by two sources")
    click(driver, By.XPATH, "//button[normalize-space()='Approve for evacuation']")

    stored = Case.objects.get(pk=case.pk)
    assert stored.status == "approved"
    assert [a.user.username for a in stored.assignments.all()] == [successor.user.username]
    assert "Approved for evacuation" in main_text(driver)
    if not javascript:
        driver.get(f"{live_server.url}/cases/{case.pk}/#assign")
        screenshot(driver, "case-coordinator")
    sign_out(driver)


def test_the_case_pages_in_russian(live_server, make_staff, open_browser, javascript):
    caseworker = make_staff(Role.CASEWORKER)
    case = example_case(caseworker.user)
    driver = open_browser(javascript=javascript, language="ru")
    sign_in(driver, live_server.url, caseworker)

    assert heading(driver) == "Мои дела"
    assert "Критический" in main_text(driver)
    driver.get(f"{live_server.url}/cases/{case.pk}/")
    assert heading(driver) == f"Дело {case.reference}"
    page = main_text(driver)
    for expected in ("Семья", "Потребности", "Заметки", "Хронология", "Отправить на проверку"):
        assert expected in page
    driver.get(f"{live_server.url}/intake/")
    assert heading(driver) == "Новое обращение"
    if not javascript:
        screenshot(driver, "intake-ru")


def test_axe_finds_no_serious_or_critical_problem_on_the_case_pages(
    live_server, make_staff, open_browser
):
    from axe_core_python.selenium import Axe

    caseworker, coordinator = make_staff(Role.CASEWORKER), make_staff(Role.COORDINATOR)
    case = example_case(caseworker.user)
    person = f"/people/{case.primary_person_id}/"
    pages = [
        (caseworker, ["/cases/", "/intake/", f"/cases/{case.pk}/", person]),
        (coordinator, ["/cases/", "/cases/?assigned_to=none", f"/cases/{case.pk}/"]),
    ]
    driver = open_browser(javascript=True)
    problems = {}
    for staff, paths in pages:
        sign_in(driver, live_server.url, staff)
        for path in paths:
            driver.get(f"{live_server.url}{path}")
            for summary in driver.find_elements(By.TAG_NAME, "summary"):
                summary.click()  # the folded forms too
            results = Axe().run(driver)
            serious = [
                f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
                for v in results["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                problems[path] = serious
        sign_out(driver)

    assert problems == {}


def test_the_case_pages_at_360_pixels(live_server, make_staff, open_browser):
    caseworker = make_staff(Role.CASEWORKER)
    case = example_case(caseworker.user)
    driver = open_browser(javascript=False, width=360, height=740)
    sign_in(driver, live_server.url, caseworker)
    overflows = {}
    for path in ("/cases/", "/intake/", f"/cases/{case.pk}/"):
        driver.get(f"{live_server.url}{path}")
        overflows[path] = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    screenshot(driver, "case-360px")

    assert all(value <= 0 for value in overflows.values()), overflows


# --- Weight, server time and queries at 50 cases, beside the API ------------------------------

LOADS = 20
CASES = 50


def _measure(driver, base: str, label: str, path: str, javascript: bool) -> PageFigures:
    weight, requested = first_visit_bytes(driver, f"{base}{path}")
    foreign = [url for url in requested if not url.startswith((base, "data:"))]
    assert foreign == [], f"{path} asked another host for {foreign}"
    figures = PageFigures(page=label, javascript=javascript, first_visit_bytes=weight)
    for _ in range(LOADS):
        app_ms, queries = server_timing(driver, f"{base}{path}")
        figures.server_ms.append(app_ms)
        figures.queries = queries
    return figures


def _api_figures(coordinator, client_for) -> PageFigures:
    """`GET /api/v1/cases/` (its first page, 50 cases) for the same coordinator, on the same
    data, read from the same Server-Timing header."""
    api = client_for(coordinator)
    figures = PageFigures(page="api/v1/cases/?page_size=50", javascript=False)
    for _ in range(LOADS):
        response = api.get("/api/v1/cases/?page_size=50")
        assert response.status_code == 200
        parts = dict(p.strip().split(";", 1) for p in response["Server-Timing"].split(","))
        figures.server_ms.append(float(parts["app"].split("=")[1]))
        figures.queries = int(parts["db"].split('desc="')[1].split(" ")[0])
    return figures


def test_the_case_pages_at_50_cases_are_light_and_measured(
    live_server, make_staff, open_browser, javascript, settings, client_for
):
    settings.UI_SERVER_TIMING = True
    caseworker, coordinator = make_staff(Role.CASEWORKER), make_staff(Role.COORDINATOR)
    cases = [example_case(caseworker.user) for _ in range(CASES)]
    one = cases[0]
    driver = open_browser(javascript=javascript)
    measured = []
    for staff, pages in (
        (caseworker, {"/cases/ (caseworker, 50)": "/cases/", "/intake/": "/intake/"}),
        (coordinator, {
            "/cases/ (coordinator, 50)": "/cases/",
            "/cases/<id>/": f"/cases/{one.pk}/",
            "/people/<id>/": f"/people/{one.primary_person_id}/",
        }),
    ):  # fmt: skip
        sign_in(driver, live_server.url, staff)
        for label, path in pages.items():
            measured.append(_measure(driver, live_server.url, label, path, javascript))
        sign_out(driver)
    if not javascript:
        measured.append(_api_figures(coordinator, client_for))

    FIGURES.extend(measured)
    heavy = {
        f.page: f.first_visit_bytes for f in measured if f.first_visit_bytes > PAGE_WEIGHT_LIMIT
    }
    assert heavy == {}
