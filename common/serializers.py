"""Serializer helpers shared by the apps."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers

from common.datetimes import parse_client_date, parse_client_datetime

_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}\Z")


class StrictInputMixin:
    """Refuse (400) a body naming a field the client may not write, instead of ignoring it:
    a client that sends `{"erased": false}` or `{"status": "approved"}` must learn it was not
    applied, not believe it was."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = set(data) - writable
            if refused:
                # Only names that look like field names are repeated back: a client's key can
                # be anything, personal data included.
                named = sorted(name for name in refused if _FIELD_NAME.match(name))
                errors = {name: ["This field cannot be written here."] for name in named}
                if len(named) < len(refused):
                    errors["non_field_errors"] = ["The body names fields that do not exist."]
                raise serializers.ValidationError(errors)
            # DRF's CharField turns `42` or `true` into text: a client that sent a number where
            # text belongs (the schema says string) made a mistake, and learns it (400).
            not_text = sorted(
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and not field.read_only
                and name in data
                and data[name] is not None
                and not isinstance(data[name], str)
            )
            if not_text:
                raise serializers.ValidationError(
                    {name: [_("Enter text (a JSON string).")] for name in not_text}
                )
        return super().to_internal_value(data)


class ScopedRecordField(serializers.UUIDField):
    """A body field naming a record by id, resolved through the caller's scope: an id outside
    it reads exactly like one that does not exist (`missing`), never "not yours"."""

    def __init__(self, scope: Callable[[Any], QuerySet], missing: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scope = scope
        self.missing = missing

    def to_internal_value(self, data: Any) -> Any:
        pk = super().to_internal_value(data)
        record = self.scope(self.context["request"].user).filter(pk=pk).first()
        if record is None:
            raise serializers.ValidationError(self.missing)
        return record


class TextField(serializers.CharField):
    """A CharField that takes only JSON strings: `42` or `true` where text belongs is a client
    error (400), not something to turn into "42"."""

    default_error_messages = {"invalid": "Enter text (a JSON string)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateField(serializers.DateField):
    """A date in a body, through the one shared parser (`common.datetimes`): `YYYY-MM-DD`
    between 1900 and 9999, a JSON string, nothing else."""

    def to_internal_value(self, value: Any) -> datetime.date:
        try:
            return parse_client_date(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None


class DateTimeField(serializers.DateTimeField):
    """A time in a body, through the one shared parser (`common.datetimes`): with its zone,
    an offset of at most 14:00, between 1900 and 9999; returned in UTC."""

    def to_internal_value(self, value: Any) -> datetime.datetime:
        try:
            return parse_client_datetime(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None


class EraseSerializer(StrictInputMixin, serializers.Serializer):
    """The body of `erase/` (people and cases): a fresh code from the caller's authenticator
    app. The erase services check it (step-up); this only checks its shape."""

    otp = TextField(max_length=32)
