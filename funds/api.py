"""`/api/v1/funds/sources/` and `/api/v1/funds/allocations/`.

Sources hold no personal data: every role that works with money reads them, coordinators write
them. Allocations name a case, so a caseworker reads only their cases' ones.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.selectors import cases_visible_to
from common.exceptions import NotFound
from common.money import CurrencyField, MoneyField, check_precision
from common.schema import honours_idempotency_key
from common.serializers import DateField, ScopedRecordField, StrictInputMixin, TextField
from funds.filters import AllocationFilter
from funds.idempotency import Outcome, run_idempotent
from funds.models import Allocation, Category, FundingSource
from funds.permissions import CanManageFunds, CanReadFunds
from funds.selectors import allocations_visible_to, sources_visible_to
from funds.services import sources as services


def _source_currency(instance: Any) -> str:
    return instance.source.currency


class SourceSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = TextField(max_length=200)
    kind = serializers.ChoiceField(choices=FundingSource.Kind.choices)
    donor_reference = TextField(max_length=100, allow_blank=True, required=False)
    currency = CurrencyField()
    amount = MoneyField(lambda source: source.currency, source="amount_received", read_only=False)
    received_on = DateField()
    restricted_to = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices),
        max_length=len(Category.values),
        required=False,
    )
    valid_from = DateField(allow_null=True, required=False)
    valid_until = DateField(allow_null=True, required=False)
    notes = TextField(max_length=5000, allow_blank=True, required=False)
    allocated = MoneyField(lambda source: source.currency)
    remaining = MoneyField(lambda source: source.currency)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        currency = attrs.get("currency", getattr(self.instance, "currency", None))
        received = attrs.get("amount_received", getattr(self.instance, "amount_received", None))
        check_precision(received, currency, "amount")
        start = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        end = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"valid_until": ["It must not be before valid_from."]}
            )
        return attrs


class SourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SourceSerializer
    queryset = FundingSource.objects.none()  # for the schema; requests use get_queryset
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self) -> list:
        if self.action in ("create", "partial_update"):
            return [CanManageFunds()]
        return [CanReadFunds()]

    def get_queryset(self) -> QuerySet[FundingSource]:
        return sources_visible_to(self.request.user)

    def _replay(self, pk: Any) -> FundingSource:
        source = self.get_queryset().filter(pk=pk).first()
        if source is None:  # out of the caller's scope since: as if it did not exist
            raise NotFound()
        return source

    @honours_idempotency_key
    def create(self, request: Request) -> Response:
        body = SourceSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def perform() -> Outcome:
            source = services.source_create(created_by=request.user, **body.validated_data)
            return Outcome(source, status.HTTP_201_CREATED)

        # A donation recorded twice over a bad connection would count money received twice.
        outcome = run_idempotent(
            request, scope="source.create", perform=perform, replay=self._replay
        )
        return Response(SourceSerializer(outcome.instance).data, status=outcome.status_code)

    def partial_update(self, request: Request, pk: str) -> Response:
        source = self.get_object()
        body = SourceSerializer(source, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        source = services.source_update(source=source, **body.validated_data)
        return Response(SourceSerializer(source).data)


class AllocationSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    source = ScopedRecordField(sources_visible_to, "No such source.")
    case = ScopedRecordField(cases_visible_to, "No such case.")
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    category = serializers.ChoiceField(choices=Category.choices)
    amount = MoneyField(_source_currency, read_only=False)
    currency = serializers.CharField(source="source.currency", read_only=True)
    reserved = MoneyField(_source_currency)
    spent = MoneyField(_source_currency)
    released = MoneyField(_source_currency)
    remaining = MoneyField(_source_currency)
    status = serializers.CharField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_precision(attrs.get("amount"), attrs["source"].currency, "amount")
        return attrs

    def to_representation(self, allocation: Allocation) -> dict[str, Any]:
        data = super().to_representation(allocation)
        data["source"] = str(allocation.source_id)
        data["case"] = str(allocation.case_id)
        return data


class AllocationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AllocationSerializer
    queryset = Allocation.objects.none()
    http_method_names = ["get", "post", "head", "options"]
    filterset_class = AllocationFilter

    def get_permissions(self) -> list:
        if self.action in ("create", "close"):
            return [CanManageFunds()]
        return [CanReadFunds()]

    def get_queryset(self) -> QuerySet[Allocation]:
        return allocations_visible_to(self.request.user).select_related("created_by")

    def _replay(self, pk: Any) -> Allocation:
        allocation = self.get_queryset().filter(pk=pk).first()
        if allocation is None:  # out of the caller's scope since: as if it did not exist
            raise NotFound()
        return allocation

    @honours_idempotency_key
    def create(self, request: Request) -> Response:
        body = AllocationSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)

        def perform() -> Outcome:
            allocation = services.allocation_create(created_by=request.user, **body.validated_data)
            return Outcome(allocation, status.HTTP_201_CREATED)

        outcome = run_idempotent(
            request, scope="allocation.create", perform=perform, replay=self._replay
        )
        return Response(AllocationSerializer(outcome.instance).data, status=outcome.status_code)

    @honours_idempotency_key
    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        if request.data:
            raise serializers.ValidationError({"non_field_errors": ["close/ takes no body."]})
        allocation = self.get_object()

        def perform() -> Outcome:
            closed = services.allocation_close(allocation=allocation, actor=request.user)
            return Outcome(closed, status.HTTP_200_OK)

        outcome = run_idempotent(
            request, scope="allocation.close", perform=perform, replay=self._replay
        )
        return Response(AllocationSerializer(outcome.instance).data, status=outcome.status_code)
