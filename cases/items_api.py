"""A case's needs (`cases/{id}/needs/`), notes (`notes/`, append-only) and timeline
(`timeline/`, read-only). Each is reached only through a case the caller may see: any other
case id answers 404, like one that does not exist. `needs/` lists the needs across the cases
the caller may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audit.disclosure import Disclosure
from cases import services
from cases.disclosure import need_disclosed, note_disclosed, timeline_entry_disclosed
from cases.filters import NeedFilter, NeedQueueFilter
from cases.models import Case, Need, NeedCategory, Note, TimelineEntry, Urgency
from cases.permissions import CanUseCases
from cases.selectors import cases_visible_to, needs_visible_to
from common.disclosed import DisclosedListMixin, DisclosedRetrieveMixin, DisclosedViewMixin
from common.exceptions import InvariantViolation
from common.money import CurrencyField, MoneyField, check_precision
from common.pagination import CursorPagination
from common.serializers import StrictInputMixin, TextField


class NeedInputSerializer(StrictInputMixin, serializers.Serializer):
    """The body of POST and PATCH: shape only."""

    category = serializers.ChoiceField(choices=NeedCategory.choices)
    description = TextField(max_length=5000, allow_null=True, allow_blank=True, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    status = serializers.ChoiceField(choices=Need.Status.choices, required=False)
    # The same money rules as every other amount: a decimal string at the currency's precision,
    # a currency that is legal tender today.
    estimated_cost = MoneyField(
        lambda need: need.currency or None, read_only=False, allow_null=True, required=False
    )
    currency = CurrencyField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        cost = attrs.get("estimated_cost", getattr(self.instance, "estimated_cost", None))
        currency = attrs.get("currency", getattr(self.instance, "currency", ""))
        if cost is not None and not currency:
            raise serializers.ValidationError(
                {"currency": [_("An estimated cost needs a currency.")]}
            )
        check_precision(cost, currency or None, "estimated_cost")
        return attrs


class NeedSerializer(serializers.Serializer):
    """A need as `cases.disclosure.need_disclosed` shows it: rendering only."""

    id = serializers.UUIDField(read_only=True)
    category = serializers.ChoiceField(choices=NeedCategory.choices, read_only=True)
    description = serializers.CharField(read_only=True, allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, read_only=True)
    status = serializers.ChoiceField(choices=Need.Status.choices, read_only=True)
    estimated_cost = MoneyField(lambda need: need["currency"] or None, allow_null=True)
    currency = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class NeedQueueSerializer(NeedSerializer):
    """A need in the queue across cases: which case it belongs to, by id and reference."""

    case = serializers.UUIDField(read_only=True)
    case_reference = serializers.CharField(read_only=True)


class NoteInputSerializer(StrictInputMixin, serializers.Serializer):
    body = TextField(max_length=20000, trim_whitespace=False)


class NoteSerializer(serializers.Serializer):
    """A note as `cases.disclosure.note_disclosed` shows it: rendering only."""

    id = serializers.UUIDField(read_only=True)
    body = serializers.CharField(read_only=True, allow_null=True, trim_whitespace=False)
    author = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TimelineEntrySerializer(serializers.Serializer):
    """A timeline entry as `cases.disclosure.timeline_entry_disclosed` shows it: rendering."""

    id = serializers.UUIDField(read_only=True)
    kind = serializers.CharField(read_only=True)
    actor = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    from_value = serializers.CharField(read_only=True)
    to_value = serializers.CharField(read_only=True)
    person = serializers.UUIDField(read_only=True, allow_null=True)
    caseworker = serializers.CharField(read_only=True, allow_null=True)
    reason = serializers.CharField(read_only=True, allow_null=True)


class CaseItemViewSet(DisclosedViewMixin, viewsets.GenericViewSet):
    """Base: the case comes from the URL, through the caller's scope."""

    permission_classes = [CanUseCases]

    def get_case(self) -> Case:
        if not hasattr(self, "_case"):
            cases = cases_visible_to(self.request.user).select_related("data_key")
            self._case = get_object_or_404(cases, pk=self.kwargs["case_pk"])
        return self._case

    def writable_case(self) -> Case:
        case = self.get_case()
        if case.erased:
            raise InvariantViolation(services.ERASED_MESSAGE)
        return case


class NeedViewSet(
    CaseItemViewSet, DisclosedListMixin, DisclosedRetrieveMixin, viewsets.GenericViewSet
):
    output_serializer_class = NeedSerializer
    queryset = Need.objects.none()  # for the schema only
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = NeedFilter

    def disclose(self, record: Need, disclosure: Disclosure) -> dict[str, Any]:
        return need_disclosed(record, disclosure=disclosure)

    def get_queryset(self) -> QuerySet[Need]:
        return self.get_case().needs.select_related("case__data_key")

    @extend_schema(request=NeedInputSerializer, responses={201: NeedSerializer})
    def create(self, request: Request, case_pk: str) -> Response:
        case = self.writable_case()
        body = NeedInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        need = services.need_create(case=case, created_by=request.user, **body.validated_data)
        return Response(self.shown(need), status=status.HTTP_201_CREATED)

    @extend_schema(request=NeedInputSerializer, responses={200: NeedSerializer})
    def partial_update(self, request: Request, case_pk: str, pk: str) -> Response:
        self.writable_case()
        need = self.get_object()
        body = NeedInputSerializer(need, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        need = services.need_update(need=need, **body.validated_data)
        return Response(self.shown(need))


class NeedQueuePagination(CursorPagination):
    # Oldest first, as a queue is worked through; read off the `need_queue_order` index.
    ordering = ("created_at", "id")


class NeedQueueViewSet(DisclosedListMixin, viewsets.GenericViewSet):
    """`needs/`: the needs of every case in the caller's scope, e.g. a caseworker's
    `?status=open&assigned_to=me`. An erased case's needs are left out (see NeedQueueFilter)."""

    output_serializer_class = NeedQueueSerializer
    queryset = Need.objects.none()  # for the schema only
    permission_classes = [CanUseCases]
    pagination_class = NeedQueuePagination
    filterset_class = NeedQueueFilter

    def get_queryset(self) -> QuerySet[Need]:
        return needs_visible_to(self.request.user).select_related("case__data_key")

    def disclose(self, record: Need, disclosure: Disclosure) -> dict[str, Any]:
        return need_disclosed(record, disclosure=disclosure)


class NoteViewSet(
    CaseItemViewSet, DisclosedListMixin, DisclosedRetrieveMixin, viewsets.GenericViewSet
):
    output_serializer_class = NoteSerializer
    queryset = Note.objects.none()  # for the schema only
    http_method_names = ["get", "post", "head", "options"]

    def disclose(self, record: Note, disclosure: Disclosure) -> dict[str, Any]:
        return note_disclosed(record, disclosure=disclosure)

    def get_queryset(self) -> QuerySet[Note]:
        return self.get_case().notes.select_related("case__data_key", "author")

    @extend_schema(request=NoteInputSerializer, responses={201: NoteSerializer})
    def create(self, request: Request, case_pk: str) -> Response:
        case = self.writable_case()
        body = NoteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = services.note_create(
            case=case, author=request.user, body=body.validated_data["body"]
        )
        return Response(self.shown(note), status=status.HTTP_201_CREATED)


class TimelineViewSet(CaseItemViewSet, DisclosedListMixin, viewsets.GenericViewSet):
    output_serializer_class = TimelineEntrySerializer
    queryset = TimelineEntry.objects.none()  # for the schema only

    def disclose(self, record: TimelineEntry, disclosure: Disclosure) -> dict[str, Any]:
        return timeline_entry_disclosed(record, disclosure=disclosure)

    def get_queryset(self) -> QuerySet[TimelineEntry]:
        return self.get_case().timeline.select_related("case__data_key", "actor", "caseworker")
