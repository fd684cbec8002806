"""Page-number pagination: `{"count", "next", "previous", "results"}`, `page_size` up to 200;
and cursor pagination: `{"next", "previous", "results"}`, no count, for lists that grow large.

Every list uses one of these two. `page_size` is checked, not guessed: a value that is not a
whole number from 1 to 200 is a 400 (DRF's own would silently fall back to its default).
"""

from __future__ import annotations

import re
from base64 import b64decode
from typing import Any
from urllib import parse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from common.datetimes import parse_client_datetime

_WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}\Z")


class CheckedPageSizeMixin:
    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not _WHOLE_NUMBER.match(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise drf_serializers.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Use a whole number from 1 to %(most)s.") % {"most": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's parameters with the bounds this class checks: `page_size` 1 to 200, `page`
        from 1 (a page past the end is a 404)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            elif parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"].update(minimum=1)
            elif parameter["name"] == getattr(self, "cursor_query_param", None):
                parameter["schema"].update(minLength=1)
        return parameters


class PageNumberPagination(CheckedPageSizeMixin, pagination.PageNumberPagination):
    pass


class CursorPagination(CheckedPageSizeMixin, pagination.CursorPagination):
    """`next`/`previous` links carry an opaque `cursor`; `page_size` up to 200; no `count`.

    A page costs the same however large the list and however far a client has walked: no
    COUNT(*), and no OFFSET over the rows already seen. DRF keeps as the position only the
    value of the first ordering field (the last one a page showed), and passes rows that tie
    with it by a small offset, so the view's ordering must start with a nearly unique field and
    match an index (first field, then the tie-breakers) for every page to be an index scan.

    The position comes back from the client, so it is checked against its model field before
    it reaches a query: anything that does not parse (a time goes through the shared parser,
    `common.datetimes`: no zone, an extreme offset, off the calendar) answers 404 "Invalid
    cursor", like DRF's own decoding errors, instead of a 400 about a field the client never
    named, or a 500.
    """

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any] | None:
        first = self.get_ordering(request, queryset, view)[0].lstrip("-")
        self.position_field = self.get_position_field(queryset, first)
        return super().paginate_queryset(queryset, request, view)

    def get_position_field(self, queryset: QuerySet, name: str) -> models.Field:
        """The model field whose values the position holds (a subclass ordering by an
        annotation names the field it copies)."""
        return queryset.model._meta.get_field(name)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        """DRF's decoding, made strict: DRF reads whatever it can out of the token (`!!!`
        decodes to nothing: the first page; a repeated or unknown key is dropped). Here the
        token must be base64 of a query string naming only `o` (offset), `r` (reverse) and `p`
        (position), each at most once, or the answer is 404 "Invalid cursor"."""
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            pairs = parse.parse_qsl(querystring, keep_blank_values=True, strict_parsing=True)
            names = [name for name, _value in pairs]
            if len(set(names)) != len(names) or not set(names) <= {"o", "r", "p"}:
                raise ValueError("unknown or repeated cursor key")
            tokens = dict(pairs)
            if not _WHOLE_NUMBER.match(tokens.get("o", "0")):
                raise ValueError("the offset is a whole number")
            offset = min(int(tokens.get("o", "0")), self.offset_cutoff)
            if tokens.get("r", "0") not in ("0", "1"):
                raise ValueError("reverse is 0 or 1")
        except ValueError as error:
            raise NotFound(self.invalid_cursor_message) from error
        position = tokens.get("p")
        if position is not None:
            position = self.checked_position(position)
        return pagination.Cursor(offset=offset, reverse=tokens.get("r") == "1", position=position)

    def checked_position(self, position: str) -> str:
        """The position as `_get_position_from_instance` would write it, or NotFound."""
        field = self.position_field
        try:
            if isinstance(field, models.DateTimeField):
                value = parse_client_datetime(position)
            else:
                value = field.to_python(position)
            if isinstance(field, models.IntegerField):  # a number no row can hold
                low, high = connection.ops.integer_field_range(field.get_internal_type())
                if not (low is None or low <= value) or not (high is None or value <= high):
                    raise ValueError("out of the column's range")
        except (ValidationError, OverflowError, ValueError) as error:
            raise NotFound(self.invalid_cursor_message) from error
        return str(value)
