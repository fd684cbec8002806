"""A case's needs (`cases/{id}/needs/`), notes (`notes/`, append-only) and timeline
(`timeline/`, read-only). Each is reached only through a case the caller may see: any other
case id answers 404, like one that does not exist. `needs/` lists the needs across the cases
the caller may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audit.access import AccessLoggedMixin
from cases import services
from cases.filters import NeedFilter, NeedQueueFilter
from cases.models import Case, Need, NeedCategory, Note, TimelineEntry, Urgency
from cases.permissions import CanUseCases
from cases.selectors import cases_visible_to, needs_visible_to
from common.exceptions import InvariantViolation
from common.money import CurrencyField, MoneyField, check_precision
from common.pagination import CursorPagination
from common.serializers import StrictInputMixin, TextField


class NeedSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
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
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        cost = attrs.get("estimated_cost", getattr(self.instance, "estimated_cost", None))
        currency = attrs.get("currency", getattr(self.instance, "currency", ""))
        if cost is not None and not currency:
            raise serializers.ValidationError(
                {"currency": [_("An estimated cost needs a currency.")]}
            )
        check_precision(cost, currency or None, "estimated_cost")
        return attrs

    def to_representation(self, need: Need) -> dict[str, Any]:
        if need.case.erased:  # its key is gone: show the field empty, do not try to open it
            need.description = None
        return super().to_representation(need)


class NeedQueueSerializer(NeedSerializer):
    """A need in the queue across cases: which case it belongs to, by id and reference."""

    case = serializers.UUIDField(source="case_id", read_only=True)
    case_reference = serializers.CharField(source="case.reference", read_only=True)


class NoteSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    body = TextField(max_length=20000, trim_whitespace=False)
    author = serializers.CharField(source="author.username", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, note: Note) -> dict[str, Any]:
        if note.case.erased:  # its key is gone: show the body empty, do not try to open it
            note.body = None
        return super().to_representation(note)


class TimelineEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    kind = serializers.CharField(read_only=True)
    actor = serializers.CharField(source="actor.username", read_only=True)
    at = serializers.DateTimeField(read_only=True)
    from_value = serializers.CharField(read_only=True)
    to_value = serializers.CharField(read_only=True)
    person = serializers.UUIDField(source="person_id", read_only=True, allow_null=True)
    caseworker = serializers.CharField(
        source="caseworker.username", read_only=True, allow_null=True, default=None
    )
    reason = serializers.CharField(read_only=True, allow_null=True)

    def to_representation(self, entry: TimelineEntry) -> dict[str, Any]:
        if entry.case.erased:  # its key is gone: show the reason empty, do not try to open it
            entry.reason = None
        return super().to_representation(entry)


class CaseItemViewSet(AccessLoggedMixin, viewsets.GenericViewSet):
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

    def access_logged(self, instances: list[Any]) -> list[Any]:
        return [] if self.get_case().erased else instances


class NeedViewSet(
    CaseItemViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = NeedSerializer
    queryset = Need.objects.none()  # for the schema only
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = NeedFilter

    def get_queryset(self) -> QuerySet[Need]:
        return self.get_case().needs.select_related("case__data_key")

    def create(self, request: Request, case_pk: str) -> Response:
        case = self.writable_case()
        body = NeedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        need = services.need_create(case=case, created_by=request.user, **body.validated_data)
        return Response(self.get_serializer(need).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, case_pk: str, pk: str) -> Response:
        self.writable_case()
        need = self.get_object()
        body = NeedSerializer(need, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        need = services.need_update(need=need, **body.validated_data)
        return Response(self.get_serializer(need).data)


class NeedQueuePagination(CursorPagination):
    # Oldest first, as a queue is worked through; read off the `need_queue_order` index.
    ordering = ("created_at", "id")


class NeedQueueViewSet(AccessLoggedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """`needs/`: the needs of every case in the caller's scope, e.g. a caseworker's
    `?status=open&assigned_to=me`. An erased case's needs are left out (see NeedQueueFilter)."""

    serializer_class = NeedQueueSerializer
    queryset = Need.objects.none()  # for the schema only
    permission_classes = [CanUseCases]
    pagination_class = NeedQueuePagination
    filterset_class = NeedQueueFilter

    def get_queryset(self) -> QuerySet[Need]:
        return needs_visible_to(self.request.user).select_related("case__data_key")

    def access_logged(self, instances: list[Any]) -> list[Any]:
        return [need for need in instances if not need.case.erased]


class NoteViewSet(
    CaseItemViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = NoteSerializer
    queryset = Note.objects.none()  # for the schema only
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Note]:
        return self.get_case().notes.select_related("case__data_key", "author")

    def create(self, request: Request, case_pk: str) -> Response:
        case = self.writable_case()
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = services.note_create(case=case, author=request.user, **body.validated_data)
        return Response(self.get_serializer(note).data, status=status.HTTP_201_CREATED)


class TimelineViewSet(CaseItemViewSet, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = TimelineEntrySerializer
    queryset = TimelineEntry.objects.none()  # for the schema only
    access_logged_fields = ("reason",)

    def get_queryset(self) -> QuerySet[TimelineEntry]:
        return self.get_case().timeline.select_related("case__data_key", "actor", "caseworker")
