"""Filters that name a staff member: by username, checked against the username's shape."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.models import username_validator
from common.filters import PatternFilter


def username_shape() -> str:
    return _("A username is 3 to 64 lowercase letters, digits, dots, dashes or underscores.")


class UsernameFilter(PatternFilter):
    """A staff member by username: malformed is a 400; well formed but unknown matches nothing
    (so the filter does not tell who has an account)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("pattern", self.default_pattern())
        kwargs.setdefault("message", username_shape)
        kwargs.setdefault("example", "nobody-by-this-name")
        super().__init__(*args, **kwargs)

    @staticmethod
    def default_pattern() -> str:
        """The username's own rule (`accounts.models`), without its anchors."""
        return username_validator.regex.pattern.removeprefix("^").removesuffix("$")
