"""The funds lists' filters (strict: see common/filters.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.roles import Role
from common.filters import ChoiceFilter, CurrencyFilter, StrictFilterSet, UUIDFilter
from funds.models import Allocation, Category, Disbursement, ReferenceRate
from funds.selectors import awaiting_decision_by, awaiting_payment

ME, PAYMENT = "me", "payment"


class AllocationFilter(StrictFilterSet):
    case = UUIDFilter(field_name="case_id")
    source = UUIDFilter(field_name="source_id")
    status = ChoiceFilter(choices=Allocation.Status.choices)
    category = ChoiceFilter(choices=Category.choices)

    class Meta:
        model = Allocation
        fields: list[str] = []


class DisbursementFilter(StrictFilterSet):
    """The disbursements, and the queues: `awaiting=me` (what this coordinator may still
    decide, oldest first), `awaiting=payment` (approved, not yet paid, longest approved first),
    `requested_by=me` (the caller's own requests)."""

    status = ChoiceFilter(choices=Disbursement.Status.choices)
    allocation = UUIDFilter(field_name="allocation_id")
    case = UUIDFilter(field_name="allocation__case_id")
    category = ChoiceFilter(field_name="allocation__category", choices=Category.choices)
    awaiting = ChoiceFilter(choices=[(ME, ME), (PAYMENT, PAYMENT)], method="filter_awaiting")
    requested_by = ChoiceFilter(choices=[(ME, ME)], method="filter_requested_by")

    class Meta:
        model = Disbursement
        fields: list[str] = []

    def refusals(self, cleaned: dict[str, Any]) -> dict[str, str]:
        refused = super().refusals(cleaned)
        if cleaned.get("awaiting") and not self.request.user.has_role(Role.COORDINATOR):
            refused["awaiting"] = _("Only coordinators decide on and pay requests.")
        return refused

    def filter_awaiting(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == ME:
            return awaiting_decision_by(self.request.user, queryset)
        return awaiting_payment(queryset)

    def filter_requested_by(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(requested_by=self.request.user)


class ReferenceRateFilter(StrictFilterSet):
    from_currency = CurrencyFilter()
    to_currency = CurrencyFilter()

    class Meta:
        model = ReferenceRate
        fields: list[str] = []
