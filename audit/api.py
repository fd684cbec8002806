"""The auditors' API: read the log, verify the chain, list the signed checkpoints."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, pagination, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from audit.models import Action, Checkpoint, LogEntry
from audit.selectors import checkpoints_all, entries_all
from audit.verify import verify_chain

IsAuditor = HasRole.for_roles(Role.AUDITOR)


class EntryPagination(pagination.CursorPagination):
    ordering = "-sequence"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class EntryFilter(filters.FilterSet):
    actor = filters.CharFilter(field_name="actor__username", help_text="username")
    action = filters.ChoiceFilter(
        choices=[(name, name) for name in Action.by_name], method="filter_action"
    )
    object_type = filters.CharFilter(method="filter_object_type", help_text="app_label.model")
    object_id = filters.CharFilter(field_name="object_pk")
    since = filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = LogEntry
        fields: list[str] = []

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(action=Action.by_name[value])

    def filter_object_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, _, model = value.lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)


class EntrySerializer(serializers.ModelSerializer):
    action = serializers.CharField(source="action_name")
    actor = serializers.CharField(source="actor.username", default=None)
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "sequence",
            "timestamp",
            "action",
            "actor",
            "object_type",
            "object_pk",
            "object_repr",
            "changes",
            "additional_data",
            "remote_addr",
            "cid",
            "prev_hash",
            "entry_hash",
        ]
        read_only_fields = fields

    def get_object_type(self, entry: LogEntry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"


class EntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EntrySerializer
    permission_classes = [IsAuthenticated, IsAuditor]
    pagination_class = EntryPagination
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = EntryFilter

    def get_queryset(self) -> QuerySet[LogEntry]:
        return entries_all()


class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Checkpoint
        fields = ["id", "sequence", "entry_hash", "signed_at", "key_id", "signature"]
        read_only_fields = fields


class CheckpointViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CheckpointSerializer
    permission_classes = [IsAuthenticated, IsAuditor]

    def get_queryset(self) -> QuerySet[Checkpoint]:
        return checkpoints_all()


class VerifyView(APIView):
    permission_classes = [IsAuthenticated, IsAuditor]

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "VerifyResult",
            {
                "ok": serializers.BooleanField(),
                "entries": serializers.IntegerField(),
                "head": serializers.DictField(),
                "checkpoints_checked": serializers.IntegerField(),
                "first_break": serializers.DictField(allow_null=True),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        """Recompute the whole chain now (and the stored checkpoints' signatures)."""
        return Response(verify_chain().as_dict())
