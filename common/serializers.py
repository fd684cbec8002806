"""Serializer helpers shared by the apps."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

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
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """A CharField that takes only JSON strings: `42` or `true` where text belongs is a client
    error (400), not something to turn into "42"."""

    default_error_messages = {"invalid": "Enter text (a JSON string)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
