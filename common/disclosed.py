"""API views that show records only through the disclosure layer (audit.disclosure).

A viewset with `DisclosedViewMixin` names `output_serializer_class` (a serializer that only
renders the layer's dicts; `get_serializer_class` may pick one per action) and implements
`disclose(record, disclosure)` with its app's disclosure function; `DisclosedListMixin` and
`DisclosedRetrieveMixin` (in place of DRF's list and retrieve mixins) go through it, and so
does `shown(record)` for the answer of a write. The response's collector
is the request's own (`disclosure_for`), whose ACCESS entries the middleware writes before
the response leaves.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from audit.disclosure import Disclosure, disclosure_for


class DisclosedViewMixin:
    output_serializer_class: type[Serializer]

    def disclose(self, record: Model, disclosure: Disclosure) -> dict[str, Any]:
        raise NotImplementedError

    def get_serializer_class(self) -> type[Serializer]:  # what the schema describes
        return self.output_serializer_class

    def shown(self, record: Model) -> dict[str, Any]:
        """`record` as the caller may see it, rendered; noted in the response's collector."""
        disclosed = self.disclose(record, disclosure_for(self.request))
        return self.get_serializer_class()(disclosed).data

    def shown_many(self, records: list[Model]) -> list[dict[str, Any]]:
        disclosure = disclosure_for(self.request)
        disclosed = [self.disclose(record, disclosure) for record in records]
        return self.get_serializer_class()(disclosed, many=True).data


class DisclosedListMixin(DisclosedViewMixin):
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self.shown_many(list(queryset)))
        return self.get_paginated_response(self.shown_many(page))


class DisclosedRetrieveMixin(DisclosedViewMixin):
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.shown(self.get_object()))
