"""The filters of the case lists: `cases/` and the needs across cases (`needs/`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.filters import UsernameFilter, username_shape
from accounts.models import User
from accounts.roles import Role
from cases.models import (
    REFERENCE_PATTERN,
    Case,
    Need,
    NeedCategory,
    RiskLevel,
    Status,
    Urgency,
)
from common.filters import (
    ChoiceFilter,
    DateTimeFilter,
    PatternFilter,
    StrictFilterSet,
    UUIDFilter,
)
from people.filters import WithoutErasedFilterSet

ME, NOBODY = "me", "none"


def _assigned_to_shape() -> str:
    return _("Use me, none or a username. %(username)s") % {"username": username_shape()}


def _reference_shape() -> str:
    return _("A reference looks like EV-7K3Q9P.")


class AssignedToFilter(UsernameFilter):
    """`me` (the caller's cases), `none` (nobody's: coordinators) or a caseworker's username
    (coordinators). A username that names nobody matches nothing."""

    def __init__(self, *args: Any, path: str = "", **kwargs: Any) -> None:
        self.path = path  # from the listed model to the case
        pattern = rf"{ME}|{NOBODY}|{UsernameFilter.default_pattern()}"
        super().__init__(*args, pattern=pattern, message=_assigned_to_shape, **kwargs)

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if not value:
            return queryset
        if value == ME:
            return queryset.filter(**{f"{self.path}assignments__user": self.parent.request.user})
        if value == NOBODY:
            return queryset.filter(**{f"{self.path}assignments__isnull": True})
        return queryset.filter(**{f"{self.path}assignments__user__username": value})


def assigned_to_refusal(user: User, value: str | None) -> str | None:
    """Caseworkers see only their own cases, so only `me` means anything to them."""
    if value and value != ME and not user.has_role(Role.COORDINATOR):
        return _("Only coordinators may filter on someone else's cases; use assigned_to=me.")
    return None


class CaseFilter(WithoutErasedFilterSet):
    status = ChoiceFilter(choices=Status.choices)
    risk_level = ChoiceFilter(choices=RiskLevel.choices)
    assigned_to = AssignedToFilter()
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    reference = PatternFilter(
        pattern="(?i)" + REFERENCE_PATTERN.pattern,  # any case, spacing trimmed
        message=_reference_shape,
        example="EV-7K3Q9P",
        method="filter_reference",
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def refusals(self, cleaned: dict[str, Any]) -> dict[str, str]:
        refused = super().refusals(cleaned)
        problem = assigned_to_refusal(self.request.user, cleaned.get("assigned_to"))
        if problem:
            refused["assigned_to"] = problem
        return refused

    def filter_reference(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(reference=value.upper())


class NeedFilter(StrictFilterSet):
    """The needs of one case (`cases/{id}/needs/`): that case's, erased or not."""

    status = ChoiceFilter(choices=Need.Status.choices)
    category = ChoiceFilter(choices=NeedCategory.choices)
    urgency = ChoiceFilter(choices=Urgency.choices)

    class Meta:
        model = Need
        fields: list[str] = []


class NeedQueueFilter(WithoutErasedFilterSet, NeedFilter):
    """`needs/`: the needs across cases, e.g. `?status=open&assigned_to=me`; an erased case's
    needs are left out (`erased=true` brings them back, for coordinators)."""

    erased_path = "case__"
    case = UUIDFilter(field_name="case_id")
    assigned_to = AssignedToFilter(path="case__")

    def refusals(self, cleaned: dict[str, Any]) -> dict[str, str]:
        refused = super().refusals(cleaned)
        problem = assigned_to_refusal(self.request.user, cleaned.get("assigned_to"))
        if problem:
            refused["assigned_to"] = problem
        return refused
