"""The funds lists' filters (strict: see common/filters.py)."""

from __future__ import annotations

from common.filters import ChoiceFilter, CurrencyFilter, StrictFilterSet, UUIDFilter
from funds.models import Allocation, Category, Disbursement, ReferenceRate


class AllocationFilter(StrictFilterSet):
    case = UUIDFilter(field_name="case_id")
    source = UUIDFilter(field_name="source_id")
    status = ChoiceFilter(choices=Allocation.Status.choices)
    category = ChoiceFilter(choices=Category.choices)

    class Meta:
        model = Allocation
        fields: list[str] = []


class DisbursementFilter(StrictFilterSet):
    status = ChoiceFilter(choices=Disbursement.Status.choices)
    allocation = UUIDFilter(field_name="allocation_id")
    case = UUIDFilter(field_name="allocation__case_id")
    category = ChoiceFilter(field_name="allocation__category", choices=Category.choices)

    class Meta:
        model = Disbursement
        fields: list[str] = []


class ReferenceRateFilter(StrictFilterSet):
    from_currency = CurrencyFilter()
    to_currency = CurrencyFilter()

    class Meta:
        model = ReferenceRate
        fields: list[str] = []
