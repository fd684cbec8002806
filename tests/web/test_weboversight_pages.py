"""The oversight pages: the summary report with its charts and CSV, the donor view, the audit
log with the API's filters, an entry, verification against an uploaded checkpoint, and the
checkpoints with the public key. Each is checked from the side of the person who misuses it too:
a query the API refuses is refused, an upload that is not a checkpoint is refused, a cut log is
caught, a too-large body is not read."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.roles import Role
from audit.models import Checkpoint, LogEntry
from funds import reports
from funds.services.sources import source_create
from tests.audit.helpers import owner_without_triggers
from tests.audit.test_verify_against_outside_checkpoints import cut_the_tail_as_the_owner
from tests.funds.helpers import SUMMARY_URL
from tests.web.helpers import controls_of, signed_in_client, text_of
from tests.web.weboversight_books import Books, checkpoint_now, upload, write_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(make_staff) -> Books:
    return write_books(make_staff)


@pytest.fixture
def auditor(make_staff) -> Client:
    return signed_in_client(make_staff(Role.AUDITOR))


REPORT = "/reports/"
CHART = "/reports/chart.svg"
CSV = "/reports/summary.csv"
AUDIT = "/audit/"
VERIFY = "/audit/verify/"
CHECKPOINTS = "/audit/checkpoints/"


# --- The summary report ---------------------------------------------------------------------


def test_the_report_shows_each_currency_with_its_chart_and_the_apis_figures(books, auditor):
    response = auditor.get(REPORT, {"group_by": "category"})

    assert response.status_code == 200
    text = text_of(response)
    expected = reports.summary(group_by="category")
    for row in expected:
        assert row["allocated"] in text
        assert row["paid"] in text
    images = [url for url in controls_of(response).urls if url.startswith(CHART)]
    assert images == [
        f"{CHART}?group_by=category&currency=EUR",
        f"{CHART}?group_by=category&currency=USD",
    ]
    assert "Travel" in text
    assert "Housing" in text
    assert 'alt="Bar chart, By category, in EUR' in response.content.decode()


def test_each_grouping_has_its_page_and_the_period_narrows_it(books, auditor):
    by_source = auditor.get(REPORT, {"group_by": "source"})
    by_month = auditor.get(REPORT, {"group_by": "month", "from": "2000-01-01", "to": "2000-12-31"})

    assert by_source.status_code == by_month.status_code == 200
    assert f"/reports/sources/{books.source_id}/" in by_source.content.decode()
    assert "No money was received, allocated or spent in this period." in text_of(by_month)


@pytest.mark.parametrize(
    "query",
    [
        {"group_by": "case"},  # the API has it; the page does not show cases
        {"group_by": "people"},
        {"from": "2026-02-30"},
        {"from": "2026-05-01", "to": "2026-04-01"},
        {"statu": "closed"},
    ],
)
def test_a_report_query_the_page_does_not_accept_is_a_400(books, auditor, query):
    response = auditor.get(REPORT, query)

    assert response.status_code == 400
    assert 'class="problem"' in response.content.decode()
    assert "<table" not in response.content.decode()
    assert "/reports/chart.svg" not in response.content.decode()


def test_a_period_that_ends_before_it_starts_says_so_in_russian(books, make_staff):
    client = signed_in_client(make_staff(Role.AUDITOR), HTTP_ACCEPT_LANGUAGE="ru")

    response = client.get(REPORT, {"from": "2026-05-01", "to": "2026-04-01"})

    assert response.status_code == 400
    assert "Эта дата не должна быть раньше даты from." in text_of(response)


def test_a_chart_is_an_svg_with_nothing_a_strict_policy_blocks(books, auditor):
    response = auditor.get(CHART, {"group_by": "month", "currency": "EUR"})

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    svg = response.content.decode()
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "style" not in svg.lower()
    assert "<script" not in svg.lower()
    assert "@import" not in svg
    assert "url(http" not in svg
    outside = set(re.findall(r"https?://[^\"' )]+", svg)) - {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    assert outside == set()
    assert root.find("{http://www.w3.org/2000/svg}title").text == "By month, in EUR"


def test_a_chart_speaks_the_pages_language(books, make_staff):
    client = signed_in_client(make_staff(Role.COORDINATOR), HTTP_ACCEPT_LANGUAGE="ru")

    svg = client.get(CHART, {"group_by": "category", "currency": "EUR"}).content.decode()

    assert "Дорога" in svg


@pytest.mark.parametrize(
    "query",
    [
        {"currency": "EUR"},
        {"group_by": "category"},
        {"group_by": "category", "currency": "XXX1"},
        {"group_by": "category", "currency": "EUR", "colour": "red"},
    ],
)
def test_a_chart_query_that_is_not_whole_is_a_400(books, auditor, query):
    assert auditor.get(CHART, query).status_code == 400


def test_a_chart_of_a_currency_with_no_figures_is_a_404(books, auditor):
    assert auditor.get(CHART, {"group_by": "category", "currency": "JPY"}).status_code == 404


def test_the_csv_is_the_apis_csv(books, make_staff, client_for):
    staff = make_staff(Role.AUDITOR)
    page = signed_in_client(staff).get(CSV, {"group_by": "category"})
    api = client_for(staff).get(SUMMARY_URL, {"group_by": "category", "format": "csv"})

    assert page.status_code == api.status_code == 200
    assert page.content == api.content
    assert page["Content-Disposition"] == 'attachment; filename="funds-summary-by-category.csv"'
    assert len(list(csv.reader(io.StringIO(page.content.decode())))) == 3


def test_the_csv_keeps_a_source_name_from_being_a_formula(books, make_staff, auditor):
    source_create(
        created_by=make_staff(Role.COORDINATOR).user,
        name='=HYPERLINK("http://evil.example","x")',
        kind="grant",
        currency="EUR",
        amount_received=Decimal("10.00"),
        received_on=reports.datetime.date(2026, 1, 1),
    )

    body = auditor.get(CSV, {"group_by": "source"}).content.decode()

    assert "'=HYPERLINK" in body


def test_a_csv_query_the_api_refuses_is_refused(books, auditor):
    assert auditor.get(CSV, {"group_by": "colour"}).status_code == 400
    assert auditor.get(CSV, {"from": "yesterday"}).status_code == 400
    assert auditor.get(CSV, {"format": "json"}).status_code == 400


# --- The donor view -------------------------------------------------------------------------


def test_the_donor_view_has_the_sources_figures_and_names_no_case(books, make_staff):
    client = signed_in_client(make_staff(Role.COORDINATOR))

    response = client.get(f"/reports/sources/{books.source_id}/")

    assert response.status_code == 200
    text = text_of(response)
    assert "How your support was used" in text
    assert "Travel" in text
    assert "300.00" in text
    assert "9000.00" in text
    assert books.case_reference not in text
    assert 'href="/static/web/oversight.css"' in response.content.decode()


def test_the_donor_view_of_an_unknown_source_is_a_404(books, make_staff):
    client = signed_in_client(make_staff(Role.COORDINATOR))

    assert client.get("/reports/sources/00000000-0000-0000-0000-000000000001/").status_code == 404


# --- The audit log --------------------------------------------------------------------------


def test_the_log_lists_entries_newest_first_with_links_to_each(books, auditor):
    response = auditor.get(AUDIT)

    assert response.status_code == 200
    last = LogEntry.objects.order_by("-sequence").first()
    html = response.content.decode()
    assert f'href="/audit/entries/{last.pk}/"' in html
    sequences = [int(s) for s in re.findall(r'/audit/entries/\d+/">(\d+)</a>', html)]
    assert sequences == sorted(sequences, reverse=True)
    assert len(sequences) == 50
    assert 'rel="next"' in html


def test_the_next_page_continues_where_the_first_ended(books, auditor):
    first = auditor.get(AUDIT).content.decode()
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")

    second = auditor.get(next_url).content.decode()

    last_on_first = int(re.findall(r'/audit/entries/\d+/">(\d+)</a>', first)[-1])
    first_on_second = int(re.findall(r'/audit/entries/\d+/">(\d+)</a>', second)[0])
    assert first_on_second == last_on_first - 1


def test_the_filters_are_the_apis(books, auditor, make_staff, client_for):
    staff = make_staff(Role.AUDITOR)
    page = signed_in_client(staff).get(
        AUDIT, {"action": "create", "object_type": "funds.disbursement"}
    )
    api = client_for(staff).get(
        "/api/v1/audit/entries/", {"action": "create", "object_type": "funds.disbursement"}
    )

    ids = [int(i) for i in re.findall(r'/audit/entries/(\d+)/"', page.content.decode())]
    assert ids == [entry["id"] for entry in api.json()["results"]]
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"object_id": "Person canary"}, "An object id is a UUID or a whole number."),
        ({"action": "sleep"}, "Use one of:"),
        ({"since": "2026-01-01T00:00"}, "Give the time's zone"),
        ({"actro": "someone"}, "This list has no such query parameter."),
    ],
)
def test_a_filter_the_api_refuses_is_refused_and_not_repeated(books, auditor, query, message):
    response = auditor.get(AUDIT, query)

    assert response.status_code == 400
    assert "<table" not in response.content.decode()
    text = html.unescape(text_of(response))
    assert message in text
    assert "Person canary" not in text


def test_a_forged_cursor_is_a_404(books, auditor):
    assert auditor.get(AUDIT, {"cursor": "bm90IGEgY3Vyc29y"}).status_code == 404


def test_an_entry_shows_its_hashes_and_links_to_its_relatives(books, auditor):
    entry = LogEntry.objects.filter(action=LogEntry.Action.CREATE).order_by("-sequence").first()

    response = auditor.get(f"/audit/entries/{entry.pk}/")

    assert response.status_code == 200
    text = text_of(response)
    assert entry.entry_hash in text
    assert entry.prev_hash in text
    assert f"Audit log entry {entry.sequence}" in text
    assert f"object_id={entry.object_pk}" in response.content.decode()


@pytest.mark.parametrize("pk", ["0", "99999999999", "abc", "1e3", "٣"])
def test_an_entry_that_is_not_there_is_a_404(books, auditor, pk):
    assert auditor.get(f"/audit/entries/{pk}/").status_code == 404


# --- Verification and checkpoints -----------------------------------------------------------


def test_a_kept_checkpoint_proves_the_log(books, auditor):
    kept = checkpoint_now()

    response = auditor.post(VERIFY, {"files": [upload(kept)]})

    assert response.status_code == 200
    text = text_of(response)
    assert f"The log holds. It extends the checkpoint you kept at entry {kept['sequence']}" in text
    assert "your file" in text


def test_an_uploaded_checkpoint_catches_a_cut_log_the_chain_alone_does_not(
    books, auditor, make_staff
):
    kept = checkpoint_now()
    for _ in range(2):
        make_staff()
    cut_the_tail_as_the_owner(keep_up_to=kept["sequence"] - 3)

    chain_only = auditor.post(VERIFY, {})
    with_file = auditor.post(VERIFY, {"files": [upload(kept)]})

    assert "checked against itself only" in text_of(chain_only)
    assert with_file.status_code == 200
    text = text_of(with_file)
    assert f"The log does not hold: the first problem is at entry {kept['sequence']}." in text
    assert "truncated" in text


def test_a_file_downloaded_from_the_checkpoints_page_verifies(books, auditor):
    checkpoint_now()
    stored = Checkpoint.objects.get()
    one = auditor.get(f"/audit/checkpoints/{stored.pk}.json")
    every = auditor.get("/audit/checkpoints/all.json")

    answer = auditor.post(
        VERIFY,
        {
            "files": [
                SimpleUploadedFile("a.json", one.content, "application/json"),
                SimpleUploadedFile("b.json", every.content, "application/json"),
            ]
        },
    )

    assert one["Content-Disposition"].startswith('attachment; filename="checkpoint-')
    assert "The log holds." in text_of(answer)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not text", "File 1 is not a JSON document."),
        (b"{not json", "File 1 is not a JSON document."),
        (b"[]", "File 1 holds no checkpoint."),
        (b"[" * 100_000, "File 1 is not a JSON document."),  # nested past any recursion limit
        (b'{"sequence": 1, "extra": "Person canary"}', "File 1 is not a signed checkpoint"),
    ],
)
def test_a_file_that_is_not_a_checkpoint_is_refused_without_repeating_it(
    books, auditor, content, message
):
    response = auditor.post(VERIFY, {"files": [SimpleUploadedFile("x.json", content)]})

    assert response.status_code == 400
    assert message in text_of(response)
    assert "Person canary" not in response.content.decode()


def test_a_checkpoint_with_a_forged_signature_does_not_hold(books, auditor):
    forged = {**checkpoint_now(), "signature": "A" * 86 + "=="}

    text = text_of(auditor.post(VERIFY, {"files": [upload(forged)]}))

    assert "The log does not hold" in text
    assert "bad signature" in text


def test_a_body_too_large_is_refused_before_it_is_read(books, auditor):
    big = SimpleUploadedFile("big.json", b" " * 1_100_000, "application/json")

    response = auditor.post(VERIFY, {"files": [big]})

    assert response.status_code == 413
    assert "too large" in text_of(response)


def test_a_file_too_large_for_a_checkpoint_is_refused(books, auditor):
    big = SimpleUploadedFile("big.json", b"[" + b" " * 500_000 + b"]", "application/json")

    response = auditor.post(VERIFY, {"files": [big]})

    assert response.status_code == 400
    assert "File 1 is too large to be checkpoints." in text_of(response)


def test_the_verification_form_needs_its_csrf_token(books, make_staff):
    client = signed_in_client(make_staff(Role.AUDITOR), enforce_csrf_checks=True)

    response = client.post(VERIFY, {"files": [upload(checkpoint_now())]})

    assert response.status_code == 403


def test_the_checkpoints_page_gives_the_key_and_each_checkpoint(
    books, auditor, client_for, make_staff
):
    checkpoint_now()
    api = client_for(make_staff(Role.AUDITOR)).get("/api/v1/audit/checkpoints/").json()

    page = auditor.get(CHECKPOINTS)
    key = auditor.get("/audit/public-key.pem")

    assert page.status_code == key.status_code == 200
    assert api["public_key"].strip() in page.content.decode()
    assert key.content.decode() == api["public_key"]
    assert api["results"][0]["entry_hash"] in text_of(page)


def test_a_checkpoint_page_number_that_does_not_exist_is_a_400(books, auditor):
    assert auditor.get(CHECKPOINTS, {"page": "7"}).status_code == 400
    assert auditor.get(CHECKPOINTS, {"page": "x"}).status_code == 400


def test_an_altered_entry_is_named_and_linked(books, auditor):
    entry = LogEntry.objects.order_by("sequence")[5]
    with owner_without_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_logentry SET object_repr = %s WHERE id = %s", ["rewritten", entry.pk]
        )

    response = auditor.post(VERIFY, {})

    text = text_of(response)
    assert f"The log does not hold: the first problem is at entry {entry.sequence}." in text
    assert "altered" in text
    assert f'href="/audit/entries/{entry.pk}/"' in response.content.decode()


def test_a_source_name_that_reads_as_a_formula_is_drawn_as_typed(books, auditor, make_staff):
    """matplotlib reads `$...$` as mathtext: a coordinator's source name must neither break the
    chart (500) nor be drawn as something else."""
    coordinator = make_staff(Role.COORDINATOR)
    source_create(
        created_by=coordinator.user,
        name="$\\evil{x}$ fund",
        kind="grant",
        currency="GBP",
        amount_received=Decimal("1000.00"),
        received_on=datetime.date(2026, 11, 1),
    )

    response = auditor.get(CHART, {"group_by": "source", "currency": "GBP"})

    assert response.status_code == 200
    assert "$\\evil{x}$ fund" in response.content.decode()


def test_the_filter_form_as_a_browser_sends_it_empty_fields_and_all_is_read_as_not_given(
    books, auditor
):
    every_field = {
        "actor": "", "action": "create", "object_type": "funds.disbursement", "object_id": "",
        "since": "", "until": "", "request_id": "", "client_request_id": "",
    }  # fmt: skip

    response = auditor.get(AUDIT, every_field)

    expected = LogEntry.objects.filter(
        content_type__model="disbursement", action=LogEntry.Action.CREATE
    ).count()
    assert response.status_code == 200
    assert response.content.decode().count('href="/audit/entries/') >= expected > 0
