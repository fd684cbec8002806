"""An auditor's pages never contain a payee, a name or a note, and every oversight page keeps
the promises every page makes (no caching, the strict policy, labelled controls, quick exit).

The canary: books with a person's name, a case note, a payee, a receipt reference and an
approval comment, each a unique marker; then every oversight page an auditor can reach (each
grouping of the report, each chart, the CSV, the donor view, every page of the log and every
entry, the verification, the checkpoints and their files) is read, and none may hold a marker.
"""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from audit.models import LogEntry
from cases.models import Note
from funds.models import Disbursement
from people.models import Person
from tests.web.helpers import controls_of, signed_in_client, text_of
from tests.web.test_page_safety import CSP
from tests.web.weboversight_books import Books, checkpoint_now, upload, write_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(make_staff) -> Books:
    return write_books(make_staff)


def every_oversight_response(client, books) -> dict[str, object]:
    """{address: response} for every oversight page reachable from the books."""
    seen = {}

    def get(url: str, **query) -> object:
        response = client.get(url, query)
        seen[url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")] = (
            response
        )
        return response

    for grouping in ("category", "month", "source"):
        page = get("/reports/", group_by=grouping)
        for chart in re.findall(r'src="(/reports/chart\.svg\?[^"]+)"', page.content.decode()):
            get(chart.replace("&amp;", "&"))
        get("/reports/summary.csv", group_by=grouping)
    get("/reports/summary.csv", group_by="case")
    get(f"/reports/sources/{books.source_id}/")
    url = "/audit/"
    while url:
        html = get(url).content.decode()
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    for entry_id in LogEntry.objects.values_list("pk", flat=True):
        get(f"/audit/entries/{entry_id}/")
    checkpoint_now()
    get("/audit/checkpoints/")
    get("/audit/checkpoints/all.json")
    get("/audit/public-key.pem")
    get("/audit/verify/")
    seen["/audit/verify/ (POST)"] = client.post(
        "/audit/verify/", {"files": [upload(checkpoint_now())]}
    )
    return seen


def test_an_auditors_pages_never_contain_a_payee_a_name_or_a_note(books, make_staff):
    auditor = signed_in_client(make_staff(Role.AUDITOR))
    markers = [books.person_name, books.note, books.payee, books.receipt, books.comment]

    responses = every_oversight_response(auditor, books)

    assert all(response.status_code == 200 for response in responses.values()), {
        url: r.status_code for url, r in responses.items() if r.status_code != 200
    }
    assert len(responses) > 20
    leaks = {
        url: [marker for marker in markers if marker in response.content.decode()]
        for url, response in responses.items()
    }
    assert {url: found for url, found in leaks.items() if found} == {}


def test_the_markers_are_really_in_the_books(books):
    # Guards the test above against passing because the markers were never stored.
    names = [person.full_name for person in Person.objects.all()]
    notes = [note.body for note in Note.objects.all()]
    payees = [item.payee for item in Disbursement.objects.all()]
    assert books.person_name in names
    assert books.note in notes
    assert books.payee in payees


def test_the_canary_search_finds_what_the_pages_show(books, make_staff):
    # Guards the search itself: the case's reference is no secret, and the log shows it.
    auditor = signed_in_client(make_staff(Role.AUDITOR))

    responses = every_oversight_response(auditor, books)

    assert any(books.case_reference in r.content.decode() for r in responses.values())


def test_every_oversight_page_keeps_the_promises_of_every_page(books, make_staff):
    responses = every_oversight_response(signed_in_client(make_staff(Role.AUDITOR)), books)
    coordinator = signed_in_client(make_staff(Role.COORDINATOR))
    responses["donor view as coordinator"] = coordinator.get(f"/reports/sources/{books.source_id}/")

    for where, response in responses.items():
        policy = response["Content-Security-Policy"]
        assert response["Cache-Control"] == "no-store", where
        assert sorted(part.strip() for part in policy.split(";")) == sorted(CSP), where
        if not response["Content-Type"].startswith("text/html"):
            continue
        page = controls_of(response)
        foreign = [url for url in page.urls if not url.startswith(("/", "#")) or "//" in url]
        assert foreign == [], where
        unlabelled = [
            control
            for control in page.controls
            if control["tag"] != "button"
            and control.get("type") != "hidden"
            and control.get("id") not in page.label_for
        ]
        assert unlabelled == [], where
        assert page.title.endswith("· Safe Passage"), where
        assert 'action="/exit/"' in response.content.decode(), where
        assert "If you leave this session idle, it ends at" in text_of(response), where
