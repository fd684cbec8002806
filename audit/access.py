"""A DRF view mixin that writes ACCESS entries for every response revealing personal data."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer, ListSerializer

from audit.events import record_access
from audit.registry import sensitive_fields_of


class AccessLoggedMixin:
    """Logs the records serialised into a successful response, and which fields it revealed.

    Every serializer the view builds with `get_serializer` is remembered; once the response is
    ready, each one's instance (the page of a list, the saved record of a create or update) is
    logged. The revealed fields are the serializer's fields that are sensitive for the model
    (as registered with `audit.registry.register`), or `access_logged_fields` when the
    serializer names them differently. The entries are written before the response leaves, so a
    failure to log means the data is not sent.
    """

    access_logged_fields: Iterable[str] | None = None

    def get_serializer(self, *args, **kwargs) -> BaseSerializer:
        serializer = super().get_serializer(*args, **kwargs)
        self._access_serializers = [*getattr(self, "_access_serializers", []), serializer]
        return serializer

    def access_logged(self, instances: list[Model]) -> list[Model]:
        """The serialised records that revealed anything (a view may leave some out)."""
        return instances

    def revealed_fields(self, model: type[Model], serializer_fields: Iterable[str]) -> set[str]:
        if self.access_logged_fields is not None:
            return set(self.access_logged_fields)
        return set(serializer_fields) & sensitive_fields_of(model)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        serializers, self._access_serializers = getattr(self, "_access_serializers", []), []
        if response.status_code < 400:
            for serializer in serializers:
                if serializer.instance is None:
                    continue
                many = isinstance(serializer, ListSerializer)
                instances = list(serializer.instance) if many else [serializer.instance]
                instances = self.access_logged(instances)
                fields = (serializer.child if many else serializer).fields
                if instances:
                    revealed = self.revealed_fields(type(instances[0]), fields)
                    record_access(instances=instances, fields=revealed, actor=request.user)
        return super().finalize_response(request, response, *args, **kwargs)
