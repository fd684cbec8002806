"""The oversight pages' forms: the report's period, the audit log's filters, and the upload of
checkpoints kept outside the system.

Each validates with the API's own rule, so a page accepts exactly what the API accepts: the
report's query with `funds.reports_api.SummaryQuery`, the log's filters with
`audit.api.EntryFilter`, each uploaded checkpoint with `audit.api.CheckpointDocumentSerializer`.
"""

from __future__ import annotations

from typing import Any

import orjson
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.api import CheckpointDocumentSerializer, EntryFilter, VerifySerializer
from audit.selectors import entries_all
from audit.signing import SignedCheckpoint
from funds.reports_api import SummaryQuery
from web.forms import PRIVATE_INPUT_ATTRS, SafeForm

# The groupings the report page offers (the API's `case` grouping has no page: by case, the
# figures are the allocations' own, read on each case).
PAGE_GROUPINGS = ("category", "month", "source")

# A checkpoint document is about 300 bytes: these bounds leave room for the most an auditor
# sends at once (the API takes at most 1000 in one request) and refuse anything else unread.
MAX_CHECKPOINT_FILES = 20
MAX_CHECKPOINT_FILE_BYTES = 400_000
MAX_UPLOAD_BYTES = 1_000_000
MAX_CHECKPOINTS = VerifySerializer().fields["checkpoints"].max_length


class ReportQueryForm(SafeForm):
    """The report's period (`from`, `to`) and grouping (`group_by`, one of PAGE_GROUPINGS,
    carried by the links and a hidden input), checked by the API's `SummaryQuery`; `validated`
    is the query as the API reads it."""

    def __init__(self, data: QueryDict | None = None) -> None:
        super().__init__(data)
        date = {"type": "date", **PRIVATE_INPUT_ATTRS}
        self.fields["from"] = forms.CharField(
            label=_("First day"), required=False, widget=forms.DateInput(attrs=date)
        )
        self.fields["to"] = forms.CharField(
            label=_("Last day"),
            required=False,
            widget=forms.DateInput(attrs=date),
        )
        self.validated: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        group_by = (self.data.get("group_by") if self.data else None) or PAGE_GROUPINGS[0]
        if group_by not in PAGE_GROUPINGS:
            self.add_error(None, _("This page groups by category, month or source."))
            return cleaned
        query = SummaryQuery(
            data={
                "group_by": group_by,
                **{name: cleaned[name] for name in ("from", "to") if cleaned.get(name)},
            }
        )
        if not query.is_valid():
            for name, problems in query.errors.items():
                for problem in problems:
                    self.add_error(name if name in self.fields else None, str(problem))
        else:
            self.validated = dict(query.validated_data)
        return cleaned


# The log's filters as the page labels them (the names are the API's query parameters).
ENTRY_FILTER_LABELS = {
    "actor": (_("Staff member (username)"), ""),
    "action": (_("Action"), ""),
    "object_type": (_("Kind of record"), ""),
    "object_id": (_("Record id"), _("A UUID, or a whole number.")),
    "since": (_("From (time)"), _("With its zone, e.g. 2026-11-24T09:00:00Z.")),
    "until": (_("Before (time)"), _("With its zone, e.g. 2026-11-25T00:00:00Z.")),
    "request_id": (_("Request id"), _("The 32 hexadecimal digits of a response's X-Request-ID.")),
    "client_request_id": (_("Client's request id"), ""),
}


def entry_filter(data: QueryDict) -> EntryFilter:
    """The API's filter of the audit log over every entry, its form labelled for the page
    (`EntryFilter` decides what is valid and what matches)."""
    filterset = EntryFilter(data, queryset=entries_all())
    for name, field in filterset.form.fields.items():
        label, help_text = ENTRY_FILTER_LABELS[name]
        field.label, field.help_text, field.required = label, help_text, False
        for attribute, value in PRIVATE_INPUT_ATTRS.items():
            field.widget.attrs.setdefault(attribute, value)
        if isinstance(field, forms.ChoiceField):
            field.choices = [("", _("Any")), *[c for c in field.choices if c[0] != ""]]
    return filterset


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class CheckpointFilesField(forms.FileField):
    """Several files in one field (Django's documented way)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,application/json"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(CheckpointFilesField, self).clean(one, initial) for one in files]


class VerifyForm(SafeForm):
    """Checkpoint files the auditor kept (each one document as `audit_checkpoint` and the
    checkpoints page write it, or a list of them); none is allowed, and then the answer rests
    on the chain only. `checkpoints` is the list of signed checkpoints read from them."""

    files = CheckpointFilesField(
        label=_("Checkpoint files you kept"),
        help_text=_(
            "JSON files saved from the checkpoints page or written by audit_checkpoint. "
            "You may choose several."
        ),
        required=False,
    )

    def clean_files(self) -> list[SignedCheckpoint]:
        uploaded = self.cleaned_data.get("files") or []
        if len(uploaded) > MAX_CHECKPOINT_FILES:
            raise forms.ValidationError(
                ngettext(
                    "Choose at most %(most)s file.",
                    "Choose at most %(most)s files.",
                    MAX_CHECKPOINT_FILES,
                )
                % {"most": MAX_CHECKPOINT_FILES}
            )
        checkpoints: list[SignedCheckpoint] = []
        for number, upload in enumerate(uploaded, start=1):
            checkpoints.extend(_documents_in(upload, number))
        if len(checkpoints) > MAX_CHECKPOINTS:
            raise forms.ValidationError(
                ngettext(
                    "Send at most %(most)s checkpoint at once.",
                    "Send at most %(most)s checkpoints at once.",
                    MAX_CHECKPOINTS,
                )
                % {"most": MAX_CHECKPOINTS}
            )
        return checkpoints


def _documents_in(upload: UploadedFile, number: int) -> list[SignedCheckpoint]:
    """The checkpoints in one uploaded file. Errors name the file by its position, never by
    its name or content (either could hold anything)."""

    def refuse(message: str) -> forms.ValidationError:
        return forms.ValidationError(message % {"number": number})

    if upload.size is None or upload.size > MAX_CHECKPOINT_FILE_BYTES:
        raise refuse(str(_("File %(number)s is too large to be checkpoints.")))
    try:
        # orjson refuses nesting deeper than 1,024 levels (a ValueError), where json would
        # recurse until RecursionError.
        data = orjson.loads(upload.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise refuse(str(_("File %(number)s is not a JSON document."))) from None
    documents = data if isinstance(data, list) else [data]
    if not documents:
        raise refuse(str(_("File %(number)s holds no checkpoint.")))
    body = CheckpointDocumentSerializer(data=documents, many=True)
    if not body.is_valid():
        raise refuse(
            str(
                _(
                    "File %(number)s is not a signed checkpoint: its fields are not those "
                    "of a checkpoint document."
                )
            )
        )
    return list(body.validated_data)
