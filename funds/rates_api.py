"""`/api/v1/funds/rates/`: reference exchange rates. Every money role reads them (a caseworker
asking for money in another currency needs to know what the rate will be checked against);
coordinators record them. No personal data. Append-only: no PATCH, no DELETE."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from common.exceptions import NotFound
from common.money import CurrencyField, RateField
from common.schema import honours_idempotency_key
from common.serializers import DateField, StrictInputMixin, TextField
from funds.filters import ReferenceRateFilter
from funds.idempotency import Outcome, run_idempotent
from funds.models import ReferenceRate
from funds.permissions import CanManageFunds, CanReadFunds
from funds.selectors import reference_rates_visible_to
from funds.services.rates import reference_rate_record


class ReferenceRateSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    from_currency = CurrencyField()
    to_currency = CurrencyField()
    rate = RateField(help_text="units of to_currency per unit of from_currency")
    rate_date = DateField()
    rate_source = TextField(max_length=200)
    origin = serializers.CharField(read_only=True)
    recorded_by = serializers.SerializerMethodField()
    recorded_at = serializers.DateTimeField(read_only=True)

    def get_recorded_by(self, rate: ReferenceRate) -> str | None:
        return rate.recorded_by.username if rate.recorded_by_id else None  # an ECB import


class ReferenceRateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReferenceRateSerializer
    queryset = ReferenceRate.objects.none()  # for the schema; requests use get_queryset
    http_method_names = ["get", "post", "head", "options"]
    filterset_class = ReferenceRateFilter

    def get_permissions(self) -> list:
        if self.action == "create":
            return [CanManageFunds()]
        return [CanReadFunds()]

    def get_queryset(self) -> QuerySet[ReferenceRate]:
        return reference_rates_visible_to(self.request.user)

    def _replay(self, pk: Any) -> ReferenceRate:
        rate = self.get_queryset().filter(pk=pk).first()
        if rate is None:
            raise NotFound()
        return rate

    @honours_idempotency_key
    def create(self, request: Request) -> Response:
        body = ReferenceRateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data

        def perform() -> Outcome:
            rate = reference_rate_record(
                recorded_by=request.user,
                from_currency=data["from_currency"],
                to_currency=data["to_currency"],
                rate=data["rate"],
                rate_date=data["rate_date"],
                rate_source=data["rate_source"],
            )
            return Outcome(rate, status.HTTP_201_CREATED)

        outcome = run_idempotent(request, scope="rate.create", perform=perform, replay=self._replay)
        return Response(
            ReferenceRateSerializer(self._replay(outcome.instance.pk)).data,
            status=outcome.status_code,
        )
