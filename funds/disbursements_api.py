"""`/api/v1/funds/disbursements/`: request money, change a request, approve, reject, cancel, pay.

`approve/` and `pay/` need a fresh TOTP code in the body even from a client with a valid token:
a stolen token alone moves no money. The code is checked outside the transaction that moves
the money (`accounts.services.step_up_verify`), so a wrong one is counted against the token
even when the request fails.

Payees, receipt references and every comment or reason (free text sealed under the case's key)
are shown in clear to coordinators and to the caseworkers of the case, masked to auditors
(`funds.disclosure` decides; every response that shows one in clear writes an ACCESS entry).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services import step_up_verify
from audit.disclosure import Disclosure
from common.disclosed import DisclosedListMixin, DisclosedRetrieveMixin
from common.exceptions import NotFound
from common.money import (
    AmountField,
    CurrencyField,
    MoneyField,
    RateField,
    check_precision,
)
from common.schema import honours_idempotency_key
from common.serializers import (
    DateField,
    DateTimeField,
    ScopedRecordField,
    StrictInputMixin,
    TextField,
)
from funds.disclosure import disbursement_disclosed
from funds.filters import DisbursementFilter
from funds.idempotency import Outcome, run_idempotent
from funds.models import Approval, ApprovalReason, Disbursement, RateCheck
from funds.permissions import CanManageFunds, CanReadFunds, CanRequestMoney
from funds.selectors import (
    allocations_actionable_by,
    disbursements_actionable_by,
    disbursements_visible_to,
)
from funds.services import disbursements as services


class ApprovalSerializer(serializers.Serializer):
    """An approval as `funds.disclosure` shows it: rendering only."""

    approver = serializers.CharField(read_only=True)
    decision = serializers.ChoiceField(choices=Approval.Decision.choices, read_only=True)
    comment = serializers.CharField(read_only=True, allow_null=True)
    at = serializers.DateTimeField(read_only=True)
    voided = serializers.BooleanField(read_only=True)
    voided_reason = serializers.CharField(read_only=True, allow_null=True)


def _source_currency(item: dict[str, Any]) -> str:
    return item["source_currency"]


class DisbursementSerializer(serializers.Serializer):
    """A disbursement as `funds.disclosure.disbursement_disclosed` shows it: rendering only."""

    id = serializers.UUIDField(read_only=True)
    allocation = serializers.UUIDField(read_only=True)
    case = serializers.UUIDField(read_only=True)
    case_reference = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    amount = MoneyField(lambda item: item["currency"])
    currency = serializers.CharField(read_only=True)
    exchange_rate = RateField(read_only=True, allow_null=True)
    rate_source = serializers.CharField(read_only=True)
    rate_date = serializers.DateField(read_only=True, allow_null=True)
    source_currency = serializers.CharField(read_only=True)
    amount_in_source_currency = MoneyField(_source_currency)
    amount_at_exchange_rate = MoneyField(_source_currency, allow_null=True)
    amount_at_reference_rate = MoneyField(_source_currency, allow_null=True)
    reference_rate = RateField(read_only=True, allow_null=True)
    reference_rate_date = serializers.DateField(read_only=True, allow_null=True)
    reference_rate_source = serializers.CharField(read_only=True)
    reference_rate_ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)
    # null: the same currency, nothing to check
    rate_check = serializers.ChoiceField(choices=RateCheck.choices, read_only=True, allow_null=True)
    approval_reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=ApprovalReason.choices), read_only=True
    )
    purpose = serializers.CharField(read_only=True)
    method = serializers.ChoiceField(choices=Disbursement.Method.choices, read_only=True)
    payee = serializers.CharField(read_only=True, allow_null=True)
    status = serializers.CharField(read_only=True)
    requested_by = serializers.CharField(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    approvals_required = serializers.IntegerField(read_only=True)
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    paid_by = serializers.CharField(read_only=True, allow_null=True)
    paid_at = serializers.DateTimeField(read_only=True, allow_null=True)
    receipt_reference = serializers.CharField(read_only=True, allow_null=True)
    payment_comment = serializers.CharField(read_only=True, allow_null=True)
    closed_by = serializers.CharField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closing_reason = serializers.CharField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)


class DisbursementInputSerializer(StrictInputMixin, serializers.Serializer):
    """The body of POST (a request) and PATCH (its terms): shape and money rules only."""

    allocation = ScopedRecordField(allocations_actionable_by, "No such allocation.")
    amount = AmountField()
    currency = CurrencyField()
    exchange_rate = RateField(required=False, allow_null=True)
    rate_source = TextField(max_length=200, allow_blank=True, required=False)
    rate_date = DateField(required=False, allow_null=True)
    purpose = TextField(max_length=500)
    method = serializers.ChoiceField(choices=Disbursement.Method.choices)
    payee = TextField(max_length=500)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        currency = current("currency")
        check_precision(current("amount"), currency, "amount")
        allocation = attrs.get("allocation") or getattr(self.instance, "allocation", None)
        if allocation is None:
            return attrs
        source_currency = allocation.source.currency
        switching = self.instance is not None and currency != self.instance.currency
        if switching and currency != source_currency:
            # The rate on file converts the old currency: a new one needs its own rate.
            missing = {
                name: [f"Changing the currency to {currency} needs its rate in the same body."]
                for name in ("exchange_rate", "rate_source", "rate_date")
                if not attrs.get(name)
            }
            if missing:
                raise serializers.ValidationError(missing)
        if currency == source_currency and switching:
            attrs.setdefault("exchange_rate", None)
        if currency == source_currency:
            if current("exchange_rate") is not None:
                raise serializers.ValidationError(
                    {"exchange_rate": [f"The source is in {currency} too: no rate is needed."]}
                )
        else:
            missing = {
                name: [f"A payment in {currency} from a {source_currency} source needs this."]
                for name in ("exchange_rate", "rate_source", "rate_date")
                if not current(name)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class StepUpSerializer(StrictInputMixin, serializers.Serializer):
    otp = TextField(max_length=32)
    comment = TextField(max_length=2000, allow_blank=True, required=False, default="")


class ApproveSerializer(StepUpSerializer):
    # The request's `updated_at` as the approver read it: a request changed since is a 409.
    terms_as_of = DateTimeField(required=False, default=None, allow_null=True)


class PaySerializer(StepUpSerializer):
    # Required, except on a case erased after the request was approved, whose destroyed key can
    # seal nothing more (the service says which).
    receipt_reference = TextField(max_length=500, allow_blank=True, required=False, default="")


class ReasonSerializer(StrictInputMixin, serializers.Serializer):
    reason = TextField(max_length=2000, allow_blank=True, required=False, default="")


class RejectSerializer(StrictInputMixin, serializers.Serializer):
    """A rejection says why: the requester reads it as the request's `closing_reason`."""

    reason = TextField(max_length=2000)


_TERMS = tuple(services.Terms.__dataclass_fields__)


def _terms(data: dict[str, Any]) -> services.Terms:
    return services.Terms(
        amount=data["amount"],
        currency=data["currency"],
        purpose=data["purpose"],
        method=data["method"],
        payee=data["payee"],
        exchange_rate=data.get("exchange_rate"),
        rate_source=data.get("rate_source", ""),
        rate_date=data.get("rate_date"),
    )


class DisbursementViewSet(
    DisclosedListMixin,
    DisclosedRetrieveMixin,
    viewsets.GenericViewSet,
):
    output_serializer_class = DisbursementSerializer
    queryset = Disbursement.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = DisbursementFilter

    def get_permissions(self) -> list:
        if self.action in ("approve", "reject", "pay"):
            return [CanManageFunds()]
        if self.action in ("create", "partial_update", "cancel"):
            return [CanRequestMoney()]
        return [CanReadFunds()]

    def get_queryset(self) -> QuerySet[Disbursement]:
        user = self.request.user
        if self.action in ("list", "retrieve", None):
            items = disbursements_visible_to(user)
        else:  # acting is narrower than reading (an auditor who is also a caseworker)
            items = disbursements_actionable_by(user)
        return items

    def disclose(self, record: Disbursement, disclosure: Disclosure) -> dict[str, Any]:
        return disbursement_disclosed(record, disclosure=disclosure)

    def _show(self, item: Disbursement, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.shown(item), status=code)

    def _replay(self, pk: Any) -> Disbursement:
        item = disbursements_visible_to(self.request.user).filter(pk=pk).first()
        if item is None:  # out of the caller's scope since: as if it did not exist
            raise NotFound()
        return item

    def _step_up(self, code: str) -> None:
        step_up_verify(token=self.request.auth, user=self.request.user, code=code)

    @honours_idempotency_key
    @extend_schema(request=DisbursementInputSerializer, responses={201: DisbursementSerializer})
    def create(self, request: Request) -> Response:
        body = DisbursementInputSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)

        def perform() -> Outcome:
            item = services.disbursement_request(
                allocation=body.validated_data["allocation"],
                requested_by=request.user,
                terms=_terms(body.validated_data),
            )
            return Outcome(item, status.HTTP_201_CREATED)

        outcome = run_idempotent(
            request, scope="disbursement.request", perform=perform, replay=self._replay
        )
        return self._show(self._replay(outcome.instance.pk), outcome.status_code)

    @extend_schema(request=DisbursementInputSerializer, responses={200: DisbursementSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        body = DisbursementInputSerializer(
            item, data=request.data, partial=True, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        if "allocation" in body.validated_data:
            raise serializers.ValidationError(
                {"allocation": ["A request stays on its allocation; cancel it and ask anew."]}
            )
        changes = {name: value for name, value in body.validated_data.items() if name in _TERMS}
        services.disbursement_update(disbursement=item, actor=request.user, **changes)
        return self._show(self._replay(item.pk))

    def _decide(self, request: Request, scope: str, body_class: type, decide) -> Response:
        item = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        otp = body.validated_data.pop("otp", None)

        def perform() -> Outcome:
            return Outcome(decide(item, **body.validated_data), status.HTTP_200_OK)

        outcome = run_idempotent(
            request,
            scope=scope,
            perform=perform,
            replay=self._replay,
            before=(lambda: self._step_up(otp)) if otp is not None else (lambda: None),
        )
        return self._show(self._replay(outcome.instance.pk), outcome.status_code)

    @honours_idempotency_key
    @extend_schema(request=ApproveSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(
            request,
            "disbursement.approve",
            ApproveSerializer,
            lambda item, comment, terms_as_of: services.disbursement_approve(
                disbursement=item, approver=request.user, comment=comment, terms_as_of=terms_as_of
            ),
        )

    @honours_idempotency_key
    @extend_schema(request=PaySerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str) -> Response:
        return self._decide(
            request,
            "disbursement.pay",
            PaySerializer,
            lambda item, comment, receipt_reference: services.disbursement_pay(
                disbursement=item,
                actor=request.user,
                receipt_reference=receipt_reference,
                comment=comment,
            ),
        )

    @honours_idempotency_key
    @extend_schema(request=RejectSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(
            request,
            "disbursement.reject",
            RejectSerializer,
            lambda item, reason: services.disbursement_reject(
                disbursement=item, approver=request.user, reason=reason
            ),
        )

    @honours_idempotency_key
    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._decide(
            request,
            "disbursement.cancel",
            ReasonSerializer,
            lambda item, reason: services.disbursement_cancel(
                disbursement=item, actor=request.user, reason=reason
            ),
        )
