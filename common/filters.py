"""Strict lists: no query parameter is ever silently ignored.

Every list endpoint filters through `StrictFilterBackend` (the project's only filter backend,
set in `REST_FRAMEWORK`), so a list added later is covered without a line of its own:

- a query parameter the list does not offer is a 400 that names it (`?statu=closed`);
  offered are its FilterSet's filters, its paginator's `cursor`/`page` and `page_size`, and
  DRF's `format` (content negotiation answers an unoffered format with a 404 first);
- a parameter given twice is a 400 (which of the two would count?), and so is one given with
  no value (`?case=`: leave it out to mean "any");
- a filter value that breaks its enum or format is a 400 (`status=sleeping`); a well-formed id
  or username that matches nothing is an empty list, so no filter tells what exists.

FilterSets derive from `StrictFilterSet` and use the filters below, whose error messages never
repeat the value sent (a mistyped filter may hold a name or a phone number). Dates and times
go through the one shared parser, `common.datetimes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.settings import api_settings

from common.datetimes import parse_client_date, parse_client_datetime
from common.money import currencies

# Only names like these are repeated back in an error: a client's parameter name can be
# anything, personal data included.
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")


class ClientDateTimeFormField(forms.Field):
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parse_client_datetime(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class ClientDateFormField(forms.Field):
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parse_client_date(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class DateTimeFilter(django_filters.Filter):
    """A time with its zone, through `common.datetimes` (naive, extreme or impossible: 400)."""

    field_class = ClientDateTimeFormField


class DateFilter(django_filters.Filter):
    """A `YYYY-MM-DD` date, through `common.datetimes`."""

    field_class = ClientDateFormField


class ChoiceFilter(django_filters.ChoiceFilter):
    """One of a fixed set of values; the 400 lists them instead of echoing what was sent."""

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        def message() -> str:
            values = [str(value) for value, _label in _choices(choices)]
            return _("Use one of: %(values)s.") % {"values": ", ".join(values)}

        # Computed when shown, so in the request's language and from the current choices.
        kwargs.setdefault("error_messages", {"invalid_choice": lazy(message, str)()})
        super().__init__(*args, choices=choices, **kwargs)


class CurrencyFilter(ChoiceFilter):
    """The ISO 4217 code of a currency that is legal tender today (the list of them is too long
    to repeat in the 400)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": gettext_lazy(
                    "Use the ISO 4217 code of a current currency, e.g. EUR."
                )
            },
        )
        super().__init__(*args, choices=_currency_choices, **kwargs)


def _currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in sorted(currencies())]


class BooleanFilter(ChoiceFilter):
    """`true` or `false`, nothing else (django-filter's own reads `maybe` as no filter)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, choices=[("true", "true"), ("false", "false")], **kwargs)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        return super().filter(qs, {"true": True, "false": False}.get(value, value))


class UUIDFilter(django_filters.UUIDFilter):
    """A record's id: malformed is a 400, well formed but unknown (or out of scope) matches
    nothing."""


class PatternFilter(django_filters.CharFilter):
    """Free text of a fixed shape (a reference, a request id): anything else is a 400 saying
    what the shape is, never repeating the value. `example` is a well-formed value (for the
    documentation, and for the tests that send each filter one matching nothing)."""

    def __init__(
        self,
        *args: Any,
        pattern: str,
        message: Callable[[], str],
        example: str,
        **kwargs: Any,
    ) -> None:
        self.pattern, self.example = pattern, example
        validator = _PatternValidator(re.compile(pattern), message)
        kwargs.setdefault("validators", [validator])
        super().__init__(*args, **kwargs)


class _PatternValidator:
    def __init__(self, pattern: re.Pattern, message: Callable[[], str]) -> None:
        self.pattern, self.message = pattern, message

    def __call__(self, value: str) -> None:
        if not self.pattern.fullmatch(value):  # fullmatch: `$` would let a trailing newline in
            raise forms.ValidationError(self.message(), code="invalid")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PatternValidator) and other.pattern == self.pattern


def _choices(choices: Any) -> list[tuple[Any, Any]]:
    return list(choices() if callable(choices) else choices)


class StrictFilterSet(django_filters.FilterSet):
    """The base of every list's FilterSet. `refusals(cleaned)` may name further 400s that
    depend on the caller (a filter only coordinators may use)."""

    def refusals(self, cleaned: dict[str, Any]) -> dict[str, str]:
        return {}

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        for name, message in self.refusals(self.form.cleaned_data).items():
            self.form.add_error(name, message)
        return self.form.is_valid()


def offered_parameters(request: Request, view: Any, filter_names: Iterable[str]) -> set[str]:
    """Everything a list may be asked: its filters, its paginator's, and `format`."""
    offered = set(filter_names) | {api_settings.URL_FORMAT_OVERRIDE}
    paginator = getattr(view, "paginator", None)
    if isinstance(paginator, pagination.CursorPagination):
        offered.add(paginator.cursor_query_param)
    elif isinstance(paginator, pagination.PageNumberPagination):
        offered.add(paginator.page_query_param)
    elif isinstance(paginator, pagination.LimitOffsetPagination):
        offered |= {paginator.limit_query_param, paginator.offset_query_param}
    page_size = getattr(paginator, "page_size_query_param", None)
    if page_size:
        offered.add(page_size)
    return offered


def refuse_unknown_parameters(request: Request, offered: Iterable[str]) -> None:
    """400 naming each query parameter that is not offered, or given more than once."""
    offered = set(offered)
    errors: dict[str, list[str]] = {}
    unnamed = False
    for name in request.query_params:
        problem = None
        if name not in offered:
            problem = _("This list has no such query parameter.")
        elif len(request.query_params.getlist(name)) > 1:
            problem = _("Give this query parameter once.")
        elif request.query_params[name] == "":
            problem = _("Give this query parameter a value, or leave it out.")
        if problem is None:
            continue
        if _PARAMETER_NAME.match(name):
            errors[name] = [problem]
        else:
            unnamed = True
    if unnamed:
        errors["non_field_errors"] = [_("The query names parameters this list does not have.")]
    if errors:
        raise ValidationError(errors)


class StrictFilterBackend(DjangoFilterBackend):
    """DRF's filter backend for every list: refuse what is not offered, then filter.

    Acts on lists only: on a record's own address (where DRF would also apply the list's
    filters, so `cases/{id}/?status=closed` turned into a 404) it does nothing.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if getattr(view, "action", None) != "list":
            return queryset
        filterset_class = self.get_filterset_class(view, queryset)
        names = filterset_class.base_filters if filterset_class else ()
        refuse_unknown_parameters(request, offered_parameters(request, view, names))
        return super().filter_queryset(request, queryset, view)
