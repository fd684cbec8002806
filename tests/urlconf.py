"""Every URL pattern in the URL conf, as a concrete path to request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

SAMPLE_ID = str(uuid.UUID(int=0x5AFE))
_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")


def _concrete(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return _ROUTE_PARAM.sub(SAMPLE_ID, str(pattern._route))
    if isinstance(pattern, RegexPattern):
        text = _REGEX_GROUP.sub(SAMPLE_ID, pattern._regex)
        return text.lstrip("^").rstrip("$").replace("\\.", ".").replace("\\", "")
    raise TypeError(f"Unknown URL pattern type {type(pattern).__name__}")


def url_paths(resolver: URLResolver | None = None, prefix: str = "/") -> Iterator[tuple[str, str]]:
    """Yield (route as written, concrete path) for every endpoint."""
    for entry in (resolver or get_resolver()).url_patterns:
        part = _concrete(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from url_paths(entry, prefix + part)
        elif isinstance(entry, URLPattern):
            yield str(entry.pattern), prefix + part


def list_endpoints(resolver: URLResolver | None = None, prefix: str = "/") -> Iterator[tuple]:
    """Yield (concrete path, view class) for every list: every route whose GET is a viewset's
    `list` action, wherever it is registered."""
    for entry in (resolver or get_resolver()).url_patterns:
        part = _concrete(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from list_endpoints(entry, prefix + part)
        elif isinstance(entry, URLPattern):
            actions = getattr(entry.callback, "actions", None) or {}
            if actions.get("get") == "list":
                yield prefix + part, entry.callback.cls
