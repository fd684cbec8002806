"""Page-number pagination: `{"count", "next", "previous", "results"}`, `page_size` up to 200;
and cursor pagination: `{"next", "previous", "results"}`, no count, for lists that grow large."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


class CursorPagination(pagination.CursorPagination):
    """`next`/`previous` links carry an opaque `cursor`; `page_size` up to 200; no `count`.

    A page costs the same however large the list and however far a client has walked: no
    COUNT(*), and no OFFSET over the rows already seen. DRF keeps as the position only the
    value of the first ordering field (the last one a page showed), and passes rows that tie
    with it by a small offset, so the view's ordering must start with a nearly unique field and
    match an index (first field, then the tie-breakers) for every page to be an index scan.

    The position comes back from the client, so it is checked against its model field before
    it reaches a query: anything that does not parse (or a time without a zone, which the
    database would read in some zone of its own) answers 404 "Invalid cursor", like DRF's own
    decoding errors, instead of a 400 about a field the client never named, or a 500.
    """

    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any] | None:
        first = self.get_ordering(request, queryset, view)[0].lstrip("-")
        self.position_field = queryset.model._meta.get_field(first)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        return cursor._replace(position=self.checked_position(cursor.position))

    def checked_position(self, position: str) -> str:
        """The position as `_get_position_from_instance` would write it, or NotFound."""
        try:
            value = self.position_field.to_python(position)
            if isinstance(value, datetime.datetime):
                if timezone.is_naive(value):
                    raise ValidationError("no time zone")
                value = value.astimezone(datetime.UTC)
        except (ValidationError, OverflowError, ValueError) as error:
            raise NotFound(self.invalid_cursor_message) from error
        return str(value)
