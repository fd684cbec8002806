"""The people list's filters, and the rule every list of erasable records shares: erased
records leave the working lists unless a coordinator asks for them with `erased=true`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from common.filters import BooleanFilter, StrictFilterSet
from people.models import Person
from people.permissions import may_list_erased


class WithoutErasedFilterSet(StrictFilterSet):
    """Leaves out records whose `erased_at` is set, unless `erased=true` (coordinators only;
    anyone else naming `erased` at all gets a 400)."""

    erased = BooleanFilter(method="keep_erased")
    erased_path = ""  # from the listed model to the erasable record ("case__" for needs)

    def refusals(self, cleaned: dict[str, Any]) -> dict[str, str]:
        refused = super().refusals(cleaned)
        if cleaned.get("erased") and not may_list_erased(self.request.user):
            refused["erased"] = _("Only coordinators may list erased records.")
        return refused

    def keep_erased(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied in filter_queryset, which also sees the parameter's absence

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("erased") != "true":
            queryset = queryset.filter(**{f"{self.erased_path}erased_at__isnull": True})
        return queryset


class PersonFilter(WithoutErasedFilterSet):
    class Meta:
        model = Person
        fields: list[str] = []
