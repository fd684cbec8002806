"""`/api/v1/funds/disbursements/`: request money, change a request, approve, reject, cancel, pay.

`approve/` and `pay/` need a fresh TOTP code in the body even from a client with a valid token:
a stolen token alone moves no money. The code is checked outside the transaction that moves
the money (`accounts.services.step_up_verify`), so a wrong one is counted against the token
even when the request fails.

Payees, receipt references and every comment or reason (free text sealed under the case's key)
are shown in clear to coordinators and to the caseworkers of the case, masked to auditors;
every response that shows one in clear writes an ACCESS entry for it before it leaves.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services import step_up_verify
from audit.events import record_access
from common.exceptions import NotFound
from common.money import (
    CurrencyField,
    MoneyField,
    RateField,
    check_precision,
)
from common.schema import honours_idempotency_key
from common.serializers import DateField, ScopedRecordField, StrictInputMixin, TextField
from funds.filters import DisbursementFilter
from funds.idempotency import Outcome, run_idempotent
from funds.models import Approval, ApprovalReason, Disbursement, RateCheck
from funds.permissions import CanManageFunds, CanReadFunds, CanRequestMoney
from funds.selectors import (
    allocations_actionable_by,
    disbursements_actionable_by,
    disbursements_visible_to,
    payee_readable_case_ids,
)
from funds.services import disbursements as services

MASKED = "[masked]"
# Sealed under the case's key: shown in clear only to who may read them, and logged when shown.
PAYMENT_SECRETS = ("payee", "receipt_reference")
COMMENTS = ("closing_reason", "payment_comment")


class ApprovalSerializer(serializers.Serializer):
    approver = serializers.CharField(source="approver.username")
    decision = serializers.CharField()
    comment = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()
    voided = serializers.SerializerMethodField()
    voided_reason = serializers.SerializerMethodField()

    def get_voided(self, approval: Approval) -> bool:
        return approval.voided_at is not None

    def get_voided_reason(self, approval: Approval) -> str | None:
        return approval.voided_reason or None


def _source_currency(item: Disbursement) -> str:
    return item.source_currency


class DisbursementSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    allocation = ScopedRecordField(allocations_actionable_by, "No such allocation.")
    case = serializers.UUIDField(source="allocation.case_id", read_only=True)
    case_reference = serializers.CharField(source="allocation.case.reference", read_only=True)
    category = serializers.CharField(source="allocation.category", read_only=True)
    amount = MoneyField(lambda item: item.currency, read_only=False)
    currency = CurrencyField()
    exchange_rate = RateField(required=False, allow_null=True)
    rate_source = TextField(max_length=200, allow_blank=True, required=False)
    rate_date = DateField(required=False, allow_null=True)
    source_currency = serializers.CharField(read_only=True)
    amount_in_source_currency = MoneyField(_source_currency)
    amount_at_exchange_rate = MoneyField(_source_currency, allow_null=True)
    amount_at_reference_rate = MoneyField(_source_currency, allow_null=True)
    reference_rate = RateField(read_only=True, allow_null=True)
    reference_rate_date = serializers.DateField(read_only=True, allow_null=True)
    reference_rate_source = serializers.CharField(read_only=True)
    reference_rate_ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)
    rate_check = serializers.SerializerMethodField()
    approval_reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=ApprovalReason.choices), read_only=True
    )
    purpose = TextField(max_length=500)
    method = serializers.ChoiceField(choices=Disbursement.Method.choices)
    payee = TextField(max_length=500)
    status = serializers.CharField(read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    approvals = serializers.SerializerMethodField()
    approvals_required = serializers.SerializerMethodField()
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    paid_by = serializers.SerializerMethodField()
    paid_at = serializers.DateTimeField(read_only=True, allow_null=True)
    receipt_reference = serializers.CharField(read_only=True, allow_null=True)
    payment_comment = serializers.CharField(read_only=True, allow_null=True)
    closed_by = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closing_reason = serializers.CharField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_approvals(self, item: Disbursement) -> list[dict]:
        return ApprovalSerializer(item.shown_approvals, many=True).data

    def get_approvals_required(self, item: Disbursement) -> int:
        return services.approvals_required(item)

    @extend_schema_field(serializers.ChoiceField(choices=RateCheck.choices, allow_null=True))
    def get_rate_check(self, item: Disbursement) -> str | None:
        return item.rate_check or None  # null: the same currency, nothing to check

    def get_paid_by(self, item: Disbursement) -> str | None:
        return item.paid_by.username if item.paid_by_id else None

    def get_closed_by(self, item: Disbursement) -> str | None:
        return item.closed_by.username if item.closed_by_id else None

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

    def to_representation(self, item: Disbursement) -> dict[str, Any]:
        revealed = self.context["revealed"]
        erased = item.allocation.case.erased
        readable = self.context["payee_case_ids"]
        in_clear = not erased and (readable is None or item.allocation.case_id in readable)
        sealed = (*PAYMENT_SECRETS, *COMMENTS)
        present = {name: item.__dict__.get(name) is not None for name in sealed}
        # Open only what will be shown: a masked value is never decrypted, and an erased
        # case's key is gone. The instance is a fresh read made for this response.
        if not in_clear:
            for name in sealed:
                setattr(item, name, None)
        item.shown_approvals = list(item.approvals.all())
        for approval in item.shown_approvals:
            had_comment = approval.__dict__.get("comment") is not None
            if not in_clear:
                approval.comment = MASKED if had_comment and not erased else None
            elif had_comment:
                revealed[("comment",)].append(approval)
        data = super().to_representation(item)
        data["allocation"] = str(item.allocation_id)
        shown = tuple(name for name in sealed if data[name] is not None)
        if shown:
            revealed[shown].append(item)
        if not erased and not in_clear:
            # Free text sealed under the case's key is case data, whoever wrote it: those who
            # may not read the payee (auditors) learn only that there is something there.
            data.update({name: MASKED for name in sealed if present[name]})
        return data


class StepUpSerializer(StrictInputMixin, serializers.Serializer):
    otp = TextField(max_length=32)
    comment = TextField(max_length=2000, allow_blank=True, required=False, default="")


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
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DisbursementSerializer
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

    def get_serializer_context(self) -> dict[str, Any]:
        if not hasattr(self, "_revealed"):
            self._revealed: dict[tuple[str, ...], list[Model]] = defaultdict(list)
            user = getattr(self.request, "user", None)
            signed_in = user is not None and user.is_authenticated
            self._payee_case_ids = payee_readable_case_ids(user) if signed_in else set()
        return {
            **super().get_serializer_context(),
            "payee_case_ids": self._payee_case_ids,
            "revealed": self._revealed,
        }

    def _show(self, item: Disbursement, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(item).data, status=code)

    def _replay(self, pk: Any) -> Disbursement:
        item = disbursements_visible_to(self.request.user).filter(pk=pk).first()
        if item is None:  # out of the caller's scope since: as if it did not exist
            raise NotFound()
        return item

    def _step_up(self, code: str) -> None:
        step_up_verify(token=self.request.auth, user=self.request.user, code=code)

    @honours_idempotency_key
    def create(self, request: Request) -> Response:
        body = self.get_serializer(data=request.data)
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

    def partial_update(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        body = self.get_serializer(item, data=request.data, partial=True)
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
    @extend_schema(request=StepUpSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(
            request,
            "disbursement.approve",
            StepUpSerializer,
            lambda item, comment: services.disbursement_approve(
                disbursement=item, approver=request.user, comment=comment
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

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        revealed: dict[tuple[str, ...], list[Model]] = getattr(self, "_revealed", {})
        if response.status_code < 400:
            for fields, instances in revealed.items():
                record_access(instances=instances, fields=fields, actor=request.user)
        return super().finalize_response(request, response, *args, **kwargs)
