"""The oversight pages: the summary report with its charts and CSV, a source's donor view, the
audit log and an entry, the chain's verification against checkpoints kept outside, and the
checkpoints with the key that verifies them.

The same reads as the API (`funds.reports`, `funds.selectors`, `audit.selectors`,
`audit.verify.verify_chain`), the same permissions (web.pages), the same strict query rules.
None of these pages shows personal data: the report and the donor view hold figures and
categories only, and the audit log holds no value of a personal field (audit.registry redacts
them before an entry is written).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import asdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

from audit.api import EntryPagination
from audit.selectors import checkpoints_all, entries_all
from audit.signing import key_id_of, load_public_key, public_key_pem, signed_document_of
from audit.verify import DATABASE, OUTSIDE, REQUEST, verify_chain
from common.money import is_currency
from funds import reports
from funds.renderers import CSVRenderer
from funds.reports_api import SummaryQuery
from funds.selectors import sources_visible_to
from web.charts import Series, bar_chart
from web.decorators import page_view
from web.labels import MEASURE_LABELS, SOURCE_KIND_LABELS, category_label
from web.pages import Page
from web.strict import filled_query, unknown_parameters
from web.weboversight_forms import (
    MAX_UPLOAD_BYTES,
    PAGE_GROUPINGS,
    ReportQueryForm,
    VerifyForm,
    entry_filter,
)

# --- The summary report -------------------------------------------------------------------------

# What each grouping's chart draws (every measure is in the table beside it), and which way.
CHART_SERIES = {
    "category": ("allocated", "paid"),
    "month": ("received", "allocated", "paid"),
    "source": ("received", "allocated", "paid"),
}
HORIZONTAL = {"category": True, "month": False, "source": True}
REPORT_PARAMETERS = {"group_by", "from", "to"}


def _grouping_titles() -> dict[str, str]:
    return {"category": _("By category"), "month": _("By month"), "source": _("By source")}


def _group_label(group_by: str, row: dict[str, Any]) -> str:
    key = row[group_by]
    if group_by == "category":
        return category_label(key)
    if group_by == "month":
        year, month = (int(part) for part in key.split("-"))
        return date_format(datetime.date(year, month, 1), "YEAR_MONTH_FORMAT")
    return row.get("source_name") or key


def _report_query(request: HttpRequest) -> tuple[ReportQueryForm, list[str]]:
    """The report's query as its form read it, and what makes it unacceptable (unknown
    parameters); the form's own errors say the rest."""
    form = ReportQueryForm(request.GET)
    return form, unknown_parameters(request, REPORT_PARAMETERS)


def _by_currency(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["currency"]].append(row)
    return dict(grouped)


def _query_string(**values: Any) -> str:
    return urlencode({name: value for name, value in values.items() if value})


@page_view("reports")
def report(request: HttpRequest, page: Page) -> HttpResponse:
    """The summary report for one grouping (`group_by`: category, month or source) and
    period: per currency, a chart (an image of this site) and the table of every measure."""
    form, refused = _report_query(request)
    valid = form.is_valid() and not refused
    group_by = (form.validated.get("group_by") if valid else None) or PAGE_GROUPINGS[0]
    context: dict[str, Any] = {"page": page, "form": form, "refused": refused, "currencies": None}
    period_query = {}
    if valid:
        params = form.validated
        period = reports.Period(start=params.get("from"), end=params.get("to"))
        period_query = {"from": period.start, "to": period.end}
        rows = reports.summary(group_by=group_by, period=period)
        measures = [m for m in reports.MEASURES if rows and m in rows[0]]
        context["currencies"] = [
            {
                "code": currency,
                "chart_url": reverse("web:reports-chart")
                + "?"
                + _query_string(group_by=group_by, currency=currency, **period_query),
                "rows": [
                    {
                        "label": _group_label(group_by, row),
                        "source_id": row.get("source"),
                        "figures": [row[m] for m in measures],
                    }
                    for row in currency_rows
                ],
            }
            for currency, currency_rows in sorted(_by_currency(rows).items())
        ]
        context["measures"] = [MEASURE_LABELS[m] for m in measures]
        context["drawn"] = [MEASURE_LABELS[m] for m in CHART_SERIES[group_by]]
        context["csv_url"] = (
            reverse("web:reports-csv") + "?" + _query_string(group_by=group_by, **period_query)
        )
    context["group_by"] = group_by
    context["groupings"] = [
        {
            "title": title,
            "url": reverse("web:reports") + "?" + _query_string(group_by=name, **period_query),
            "current": name == group_by,
        }
        for name, title in _grouping_titles().items()
    ]
    context["grouping_title"] = _grouping_titles()[group_by]
    return render(request, "web/weboversight/report.html", context, status=200 if valid else 400)


@page_view("reports")
def report_chart(request: HttpRequest, page: Page) -> HttpResponse:
    """One chart of the report as SVG: `group_by`, `currency`, and the period (`from`, `to`)."""
    form = ReportQueryForm(request.GET)
    currency = request.GET.get("currency", "")
    refused = unknown_parameters(request, REPORT_PARAMETERS | {"currency"})
    if (
        refused
        or not form.is_valid()
        or not request.GET.get("group_by")
        or not is_currency(currency)
    ):
        return HttpResponse(status=400)
    group_by = form.validated["group_by"]
    period = reports.Period(start=form.validated.get("from"), end=form.validated.get("to"))
    rows = _by_currency(reports.summary(group_by=group_by, period=period)).get(currency)
    if not rows:
        raise Http404
    drawn = CHART_SERIES[group_by]
    title = _("%(grouping)s, in %(currency)s") % {
        "grouping": _grouping_titles()[group_by],
        "currency": currency,
    }
    svg = bar_chart(
        title=title,
        categories=[_group_label(group_by, row) for row in rows],
        series=[Series(str(MEASURE_LABELS[m]), [Decimal(row[m]) for row in rows]) for m in drawn],
        unit=currency,
        horizontal=HORIZONTAL[group_by],
    )
    return HttpResponse(svg, content_type="image/svg+xml")


@page_view("reports")
def report_csv(request: HttpRequest, page: Page) -> HttpResponse:
    """The API's CSV of the summary (`funds.renderers.CSVRenderer`, which keeps a cell from
    being read as a formula), for the same query: `group_by` (every grouping the API has),
    `from`, `to`."""
    refused = unknown_parameters(request, REPORT_PARAMETERS)
    query = {name: request.GET[name] for name in REPORT_PARAMETERS if request.GET.get(name)}
    checked = SummaryQuery(data=query)
    if refused or not checked.is_valid():
        return HttpResponse(status=400)
    params = checked.validated_data
    period = reports.Period(start=params.get("from"), end=params.get("to"))
    rows = reports.summary(group_by=params["group_by"], period=period)
    response = HttpResponse(
        CSVRenderer().render({"rows": rows}), content_type="text/csv; charset=utf-8"
    )
    filename = f"funds-summary-by-{params['group_by']}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@page_view("reports")
def donor_view(request: HttpRequest, page: Page, pk: str) -> HttpResponse:
    """What a donor may see of one source (`funds.reports.transparency`): totals per category
    and how many cases they reached, laid out to print on one page. No case, person or payee."""
    if request.GET:
        return render(request, "web/400.html", status=400)
    source = get_object_or_404(sources_visible_to(request.user), pk=pk)
    view = reports.transparency(source)
    for row in view["categories"]:
        row["label"] = category_label(row["category"])
    context = {
        "page": page,
        "view": view,
        "kind": SOURCE_KIND_LABELS.get(view["source"]["kind"], view["source"]["kind"]),
        "restricted_to": [category_label(code) for code in view["source"]["restricted_to"]],
        "today": timezone.localdate(),
    }
    return render(request, "web/weboversight/donor.html", context)


# --- The audit log ------------------------------------------------------------------------------


def _path_of(link: str | None) -> str | None:
    """A paginator's absolute link as a path and query on this site."""
    if not link:
        return None
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@page_view("audit")
def audit_log(request: HttpRequest, page: Page) -> HttpResponse:
    """The log, newest first, through the API's filters (`audit.api.EntryFilter`) and its
    cursor pages; a filter value the API refuses is refused here too (400, named)."""
    filterset = entry_filter(filled_query(request))
    offered = set(filterset.base_filters) | {"cursor", "page_size"}
    refused = unknown_parameters(request, offered)
    context: dict[str, Any] = {
        "page": page,
        "form": filterset.form,
        "refused": refused,
        "entries": None,
    }
    status = 400
    if not refused and filterset.is_valid():
        paginator = EntryPagination()
        try:
            entries = paginator.paginate_queryset(filterset.qs, Request(request))
        except NotFound:
            raise Http404 from None
        except ValidationError as refusal:
            context["refused"] = [str(p) for ps in refusal.detail.values() for p in ps]
        else:
            status = 200
            context["entries"] = [_entry_row(entry) for entry in entries]
            context["next_url"] = _path_of(paginator.get_next_link())
            context["previous_url"] = _path_of(paginator.get_previous_link())
            context["filtered"] = any(request.GET.get(name) for name in filterset.base_filters)
    return render(request, "web/weboversight/audit_log.html", context, status=status)


def _entry_row(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "sequence": entry.sequence,
        "timestamp": entry.timestamp,
        "action": entry.action_name,
        "actor": entry.actor.username if entry.actor else None,
        "object_type": f"{entry.content_type.app_label}.{entry.content_type.model}",
        "object_pk": entry.object_pk,
        "object_repr": entry.object_repr,
    }


@page_view("audit")
def audit_entry(request: HttpRequest, page: Page, pk: str) -> HttpResponse:
    """One entry: everything the API's `audit/entries/{id}/` gives, its hashes included."""
    if request.GET:
        return render(request, "web/400.html", status=400)
    if not _is_id(pk):
        raise Http404
    entry = get_object_or_404(entries_all(), pk=int(pk))
    row = _entry_row(entry)
    detail = {
        **row,
        "changes": _pretty(entry.changes),
        "additional_data": _pretty(entry.additional_data),
        "remote_addr": entry.remote_addr,
        "cid": entry.cid,
        "client_request_id": entry.client_request_id,
        "chain_version": entry.chain_version,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }
    log = reverse("web:audit") + "?"
    related = {
        "object": log + _query_string(object_type=row["object_type"], object_id=entry.object_pk),
        "actor": log + _query_string(actor=row["actor"]) if row["actor"] else None,
        "request": log + _query_string(request_id=entry.cid) if _is_request_id(entry.cid) else None,
    }
    context = {"page": page, "entry": detail, "related": related}
    return render(request, "web/weboversight/audit_entry.html", context)


def _is_id(text: str) -> bool:
    """A row's id as a path or query writes it: 1 to 18 ASCII digits (`str.isdigit` would also
    take other scripts' digits, which `int` reads as numbers)."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def _is_request_id(cid: str | None) -> bool:
    return bool(cid) and len(cid) == 32 and all(c in "0123456789abcdef" for c in cid)


def _pretty(value: Any) -> str | None:
    if value in (None, "", {}, []):
        return None
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


# --- Verification and checkpoints ---------------------------------------------------------------


def _too_large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES
    except ValueError:
        return True


@csrf_exempt  # checked by _audit_verify, once the body is known to be small enough to read
def audit_verify(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST (multipart): recompute the chain and check it against the uploaded
    checkpoints and the stored ones, as the API's `audit/verify/` does. A body larger than
    MAX_UPLOAD_BYTES is refused unread (it changes nothing, so it needs no CSRF check); a
    smaller one is read into memory only, never to a temporary file."""
    if request.method == "POST":
        if _too_large(request):
            return _verify_too_large(request)
        request.upload_handlers = [MemoryFileUploadHandler(request)]
    return _audit_verify(request)


@page_view("audit", methods=("POST",))
def _verify_too_large(request: HttpRequest, page: Page) -> HttpResponse:
    context = {"page": page, "form": VerifyForm(), "too_large": True}
    return render(request, "web/weboversight/audit_verify.html", context, status=413)


@csrf_protect
@page_view("audit", methods=("GET", "HEAD", "POST"))
def _audit_verify(request: HttpRequest, page: Page) -> HttpResponse:
    if request.GET:
        return render(request, "web/400.html", status=400)
    if request.method != "POST":
        context = {"page": page, "form": VerifyForm()}
        return render(request, "web/weboversight/audit_verify.html", context)
    form = VerifyForm(request.POST, request.FILES)
    context: dict[str, Any] = {"page": page, "form": form}
    if not form.is_valid():
        return render(request, "web/weboversight/audit_verify.html", context, status=400)
    held = form.cleaned_data["files"]
    try:
        result = verify_chain(checkpoints=held, source=REQUEST, with_stored=True)
    except ImproperlyConfigured:
        context["no_public_key"] = True
        return render(request, "web/weboversight/audit_verify.html", context, status=409)
    context["result"] = result
    context["outside"] = result.verified_against == OUTSIDE
    context["checks"] = [
        {**check.as_dict(), "yours": check.source != DATABASE} for check in result.checks
    ]
    context["form"] = VerifyForm()
    return render(request, "web/weboversight/audit_verify.html", context)


def _public_key() -> tuple[str | None, str | None]:
    try:
        key = load_public_key()
    except ImproperlyConfigured:
        return None, None
    return public_key_pem(key), key_id_of(key)


CHECKPOINTS_PER_PAGE = 50


@page_view("audit")
def audit_checkpoints(request: HttpRequest, page: Page) -> HttpResponse:
    """The stored checkpoints, newest first (each to download as the document to keep), and the
    public key that verifies them."""
    refused = unknown_parameters(request, {"page"})
    pages = Paginator(checkpoints_all(), CHECKPOINTS_PER_PAGE)
    number = request.GET.get("page", "1")
    if refused or not _is_id(number) or not 1 <= int(number) <= pages.num_pages:
        return render(request, "web/400.html", status=400)
    shown = pages.page(int(number))
    pem, key_id = _public_key()
    context = {"page": page, "checkpoints": shown, "public_key": pem, "key_id": key_id}
    return render(request, "web/weboversight/audit_checkpoints.html", context)


def _json_download(documents: Any, filename: str) -> HttpResponse:
    body = json.dumps(documents, indent=2, sort_keys=True) + "\n"
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@page_view("audit")
def audit_checkpoint_file(request: HttpRequest, page: Page, pk: str) -> HttpResponse:
    """One stored checkpoint as the signed document `audit_checkpoint --out` writes."""
    if request.GET or not _is_id(pk):
        raise Http404
    document = signed_document_of(get_object_or_404(checkpoints_all(), pk=int(pk)))
    stamp = "".join(c for c in document.signed_at if c.isdigit() or c == "T")
    return _json_download(asdict(document), f"checkpoint-{document.sequence:012d}-{stamp}Z.json")


@page_view("audit")
def audit_checkpoints_file(request: HttpRequest, page: Page) -> HttpResponse:
    """Every stored checkpoint in one file (a JSON list), oldest first."""
    if request.GET:
        return render(request, "web/400.html", status=400)
    documents = [asdict(signed_document_of(c)) for c in checkpoints_all().order_by("sequence")]
    return _json_download(documents, "checkpoints.json")


@page_view("audit")
def audit_public_key(request: HttpRequest, page: Page) -> HttpResponse:
    """The checkpoints' public key (PEM), or 404 when none is configured."""
    if request.GET:
        return render(request, "web/400.html", status=400)
    pem, key_id = _public_key()
    if pem is None:
        raise Http404
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="audit-checkpoint-key-{key_id}.pem"'
    return response
