"""Serializer helpers shared by the apps."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictInputMixin:
    """Refuse (400) a body naming a field the client may not write, instead of ignoring it:
    a client that sends `{"erased": false}` or `{"status": "approved"}` must learn it was not
    applied, not believe it was."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = sorted(set(data) - writable)
            if refused:
                raise serializers.ValidationError(
                    {name: ["This field cannot be written here."] for name in refused}
                )
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """A CharField that takes only JSON strings: `42` or `true` where text belongs is a client
    error (400), not something to turn into "42"."""

    default_error_messages = {"invalid": "Enter text (a JSON string)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
