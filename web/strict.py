"""Pages read their query strings as strictly as the API reads a list's: a parameter the page
does not offer, or one given twice, is refused (400) and named, never silently ignored.

The rule is the API's own (`common.filters.refuse_unknown_parameters`): a page only turns its
refusal into messages to show, and reads a field its form sent empty as not given.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from django.http import HttpRequest, QueryDict
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from common.filters import refuse_unknown_parameters


def filled_query(request: HttpRequest) -> QueryDict:
    """`request.GET` without the parameters sent empty: a page's GET form sends every field,
    filled or not, and a field left empty means "not given" (the API, which no form feeds,
    refuses an empty value instead)."""
    filled = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        kept = [value for value in values if value != ""]
        if kept:
            filled.setlist(name, kept)
    return filled


def unknown_parameters(request: HttpRequest, offered: Iterable[str]) -> list[str]:
    """Messages for each query parameter of `request` that is not in `offered` or is given more
    than once (a parameter's name is repeated only when it is a plain identifier); empty when
    the query is acceptable. Fields left empty count as not given (`filled_query`)."""
    stripped = copy.copy(request)
    stripped.GET = filled_query(request)
    try:
        refuse_unknown_parameters(Request(stripped), offered)
    except ValidationError as refusal:
        return [
            f"{name}: {problem}" if name != "non_field_errors" else str(problem)
            for name, problems in refusal.detail.items()
            for problem in problems
        ]
    return []
