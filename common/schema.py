"""The OpenAPI document says what the server really does (drf-spectacular's `AutoSchema`,
extended once for every view, never by hand per view).

- **Errors.** Every operation lists each error status it can answer, all in the one error shape
  (`common.errors`, component `Error`). They are derived from what the view is made of, the
  same things that raise them:

  | status | when |
  |---|---|
  | 400 | a write (its body, malformed JSON too), a list's query, an `Idempotency-Key` |
  | 401 | the view authenticates (no, or a dead, bearer token) |
  | 403 | a permission beyond "signed in", or a write (a right lost while it ran) |
  | 404 | any operation (a `?format=` it lacks; a record out of scope; a page past the end) |
  | 406 | every operation (an `Accept` it cannot meet) |
  | 409 | every write (a broken invariant; a concurrent change on PostgreSQL) |
  | 413, 415 | every write (too large a body; not JSON) |
  | 422 | an `Idempotency-Key` reused for another request |
  | 429 | the view has throttles |
  | 401, 403, 429 | a body with a `password` or an `otp` (a wrong one; a lockout) |

- **Closed bodies.** A request body read by a serializer with `StrictInputMixin` (which refuses
  unknown fields with a 400) is `additionalProperties: false`.
- **`Idempotency-Key`** is a documented header on the operations that honour it: those whose
  method is marked with `honours_idempotency_key` (`funds.idempotency`).
- **Filters** (`StrictFilterSetExtension`): each filter's enum, format or pattern, as the filter
  checks it; `page` and `page_size` with their bounds.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_parameter_type, force_instance
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions

from common.errors import MESSAGES
from common.money import currencies
from common.serializers import StrictInputMixin

ERROR_COMPONENT = "Error"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Every error the API answers. `fields` (validation errors only) maps each field, or "
        "`non_field_errors`, to its messages; nested bodies nest."
    ),
    "properties": {
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": True},
    },
    "required": ["status", "code", "message"],
}

# The marker `honours_idempotency_key` sets on a view method.
IDEMPOTENCY_MARK = "_honours_idempotency_key"
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,255}$"  # printable ASCII, no spaces (funds.idempotency)

_CREDENTIAL_FIELDS = frozenset({"password", "otp"})
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SIGNED_IN_ONLY = (permissions.IsAuthenticated, permissions.AllowAny)


class AutoSchema(SpectacularAutoSchema):
    """The project's schema class (`REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`)."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.honours_idempotency_key():
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    location=OpenApiParameter.HEADER,
                    required=False,
                    pattern=IDEMPOTENCY_KEY_PATTERN,
                    description=(
                        "Send the same key with the same body again to get the first answer "
                        "instead of doing the work twice; the same key with another body is a "
                        "422. 1 to 255 printable ASCII characters."
                    ),
                )
            )
        return parameters

    def honours_idempotency_key(self) -> bool:
        action = getattr(self.view, "action", None) or self.method.lower()
        handler = getattr(self.view, action, None)
        return bool(getattr(handler, IDEMPOTENCY_MARK, False))

    def error_statuses(self) -> set[int]:
        """The error statuses this operation can answer (see the module's table)."""
        method = self.method.upper()
        statuses = {404, 406}
        if method in _UNSAFE:
            statuses |= {400, 403, 409, 413, 415}
        if self._is_list_view() or self._has_query_parameters():
            statuses.add(400)
        if self.honours_idempotency_key():
            statuses |= {400, 422}
        if self.get_auth() and not self._allows_anyone():
            statuses.add(401)
        if self._has_permission_beyond_sign_in():
            statuses.add(403)
        if self.view.get_throttles():
            statuses.add(429)
        if self._checks_credentials():
            statuses |= {401, 403, 429}
        return statuses

    def _checks_credentials(self) -> bool:
        """A body with a password or a one-time code: a wrong one is a 401 (login, or a step-up
        that revokes the token) or a 403 (a wrong step-up), and repeated ones a 429 (lockout)."""
        if self.method.upper() not in _UNSAFE:
            return False
        serializer = force_instance(self.get_request_serializer())
        fields = getattr(serializer, "fields", {}) if serializer is not None else {}
        return bool(_CREDENTIAL_FIELDS & set(fields))

    def _has_query_parameters(self) -> bool:
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())

    def _permissions(self) -> list[Any]:
        try:
            return list(self.view.get_permissions())
        except Exception:
            return [object()]

    def _allows_anyone(self) -> bool:
        found = self._permissions()
        return bool(found) and all(isinstance(p, permissions.AllowAny) for p in found)

    def _has_permission_beyond_sign_in(self) -> bool:
        return any(not isinstance(p, _SIGNED_IN_ONLY) for p in self._permissions())

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        error = self._error_component()
        for code in sorted(self.error_statuses()):
            responses.setdefault(
                str(code),
                {
                    "content": {"application/json": {"schema": error.ref}},
                    "description": MESSAGES.get(code) or _EXTRA_MESSAGES[code],
                },
            )
        return responses

    def _error_component(self) -> ResolvedComponent:
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_COMPONENT,
            schema=ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component

    def _map_serializer(
        self, serializer: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictInputMixin):
            schema["additionalProperties"] = False
        return schema


_EXTRA_MESSAGES = {
    406: "The response cannot be given in a form the Accept header allows.",
    422: "This Idempotency-Key was used with a different request.",
}


class StrictFilterSetExtension(DjangoFilterExtension):
    """django-filter's parameters as `common.filters` checks them: enums of `ChoiceFilter`s
    (callable choices included), formats of dates, times and ids, patterns of
    `PatternFilter`s."""

    target_class = "common.filters.StrictFilterBackend"
    priority = 1

    def resolve_filter_field(
        self, auto_schema: Any, model: Any, filterset_class: Any, field_name: str, filter_field: Any
    ) -> list[dict[str, Any]]:
        from common import filters

        if isinstance(filter_field, filters.ChoiceFilter):
            values = [
                str(value) for value, _label in filters._choices(filter_field.extra["choices"])
            ]
            schema: dict[str, Any] = {"type": "string", "enum": values}
        elif isinstance(filter_field, filters.PatternFilter):
            schema = {"type": "string", "pattern": ecma_pattern(filter_field.pattern)}
        elif isinstance(filter_field, filters.DateTimeFilter):
            schema = {"type": "string", "format": "date-time"}
        elif isinstance(filter_field, filters.DateFilter):
            schema = {"type": "string", "format": "date"}
        elif isinstance(filter_field, filters.UUIDFilter):
            schema = {"type": "string", "format": "uuid"}
        else:
            return super().resolve_filter_field(
                auto_schema, model, filterset_class, field_name, filter_field
            )
        return [
            build_parameter_type(
                name=field_name,
                required=filter_field.extra["required"],
                location=OpenApiParameter.QUERY,
                description=filter_field.label or None,
                schema=schema,
            )
        ]


_CASE_INSENSITIVE = "(?i)"


def ecma_pattern(pattern: str) -> str:
    """A Python `fullmatch` pattern as an anchored ECMA-262 pattern (what OpenAPI uses): the
    anchors made explicit, `\\Z` turned into `$`, and a leading `(?i)` spelled out as both cases
    of every letter (ECMA has no inline flags)."""
    insensitive = pattern.startswith(_CASE_INSENSITIVE)
    body = pattern.removeprefix(_CASE_INSENSITIVE)
    body = body.removeprefix("^").removesuffix(r"\Z").removesuffix("$")
    if insensitive:
        body = _both_cases(body)
    return f"^(?:{body})$"


def _both_cases(pattern: str) -> str:
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif in_class and char.isalpha():
            range_match = re.match(r"([A-Za-z])-([A-Za-z])", pattern[index:])
            if range_match:
                low, high = range_match.groups()
                out.append(f"{low.lower()}-{high.lower()}{low.upper()}-{high.upper()}")
                index += 3
                continue
            out.append(char.lower() + char.upper())
        elif char.isalpha():
            out.append(f"[{char.lower()}{char.upper()}]")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def honours_idempotency_key(handler: Any) -> Any:
    """Mark a view method that runs its work through `funds.idempotency.run_idempotent`, so
    the schema documents the `Idempotency-Key` header (and its 422) on that operation."""
    setattr(handler, IDEMPOTENCY_MARK, True)
    return handler


class CurrencyFieldExtension(OpenApiSerializerFieldExtension):
    """A currency is one of the ISO 4217 codes legal tender today (`common.money`): the
    schema lists them, as the server checks them."""

    target_class = "common.money.CurrencyField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {"type": "string", "enum": currency_codes()}


def currency_codes() -> list[str]:
    """The currencies' enum (also `ENUM_NAME_OVERRIDES["CurrencyEnum"]`)."""
    return sorted(currencies())
