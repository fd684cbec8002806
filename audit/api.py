"""The auditors' API: read the log, verify the chain (against checkpoints kept outside), list
the signed checkpoints and the key that verifies them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.filters import UsernameFilter
from accounts.permissions import HasRole
from accounts.roles import Role
from audit.models import AccessIndex, Action, ChainLink, Checkpoint, LogEntry
from audit.registry import registered_models
from audit.selectors import checkpoints_all, entries_all
from audit.signing import (
    FORMAT,
    SignedCheckpoint,
    key_id_of,
    load_public_key,
    public_key_pem,
    signed_document_of,
)
from audit.verify import CHAIN_ONLY, OUTSIDE, REQUEST, verify_chain
from common.exceptions import DomainError
from common.filters import ChoiceFilter, DateTimeFilter, PatternFilter, StrictFilterSet
from common.middleware import CLIENT_REQUEST_ID
from common.pagination import CursorPagination
from common.serializers import StrictInputMixin

IsAuditor = HasRole.for_roles(Role.AUDITOR)
# An entry's object is named by a UUID (every domain record) or a whole number.
OBJECT_ID_PATTERN = (
    r"[0-9]{1,20}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)


class EntryPagination(CursorPagination):
    ordering = ("-sequence",)  # the entry's link's, annotated by LogEntry's manager

    def get_position_field(self, queryset: QuerySet, name: str) -> models.Field:
        return ChainLink._meta.get_field(name)


def _object_types() -> list[tuple[str, str]]:
    names = (f"{model._meta.app_label}.{model._meta.model_name}" for model in registered_models())
    return [(name, name) for name in names]


def _object_id_shape() -> str:
    return _("An object id is a UUID or a whole number.")


def _request_id_shape() -> str:
    return _("A request id is the 32 hexadecimal digits of a response's X-Request-ID.")


def _client_request_id_shape() -> str:
    return _("A client's request id is 1 to 64 letters, digits, dots, dashes or underscores.")


class EntryFilter(StrictFilterSet):
    actor = UsernameFilter(field_name="actor__username")
    action = ChoiceFilter(choices=[(name, name) for name in Action.by_name], method="filter_action")
    object_type = ChoiceFilter(choices=_object_types, method="filter_object_type")
    object_id = PatternFilter(
        pattern=OBJECT_ID_PATTERN,
        message=_object_id_shape,
        example="3f2c5e0a-6d1b-4c8e-9a7f-2b4d6e8f0a1c",
        method="filter_object_id",
    )
    since = DateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = DateTimeFilter(field_name="timestamp", lookup_expr="lt")
    request_id = PatternFilter(
        field_name="cid",
        pattern=r"[0-9a-f]{32}",
        message=_request_id_shape,
        example="0c7e2a9d4b6f48e1a3d5c7b9e1f30a2c",
    )
    client_request_id = PatternFilter(
        pattern=CLIENT_REQUEST_ID.pattern,
        message=_client_request_id_shape,
        example="client-7",
    )

    class Meta:
        model = LogEntry
        fields: list[str] = []

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(action=Action.by_name[value])

    def filter_object_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # with object_id, in filter_queryset: one record, in one place

    def filter_object_id(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """`object_type` and `object_id` name one record (or all of a type): the entries about
        it, and the ACCESS entries whose response read it among others (the read index)."""
        queryset = super().filter_queryset(queryset)
        object_type = self.form.cleaned_data.get("object_type")
        object_id = self.form.cleaned_data.get("object_id")
        if not object_type and not object_id:
            return queryset
        record = Q()
        if object_type:
            app_label, _dot, model = object_type.partition(".")
            record &= Q(content_type__app_label=app_label, content_type__model=model)
        if object_id:
            record &= Q(object_pk=object_id.lower())  # stored as str(uuid): lowercase
        read = AccessIndex.objects.filter(record).values("entry_id")
        return queryset.filter(record | Q(pk__in=read))


class EntrySerializer(serializers.ModelSerializer):
    action = serializers.CharField(source="action_name")
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    object_type = serializers.SerializerMethodField()
    # The entry's place in the chain, from its link (null while its transaction is open).
    sequence = serializers.IntegerField(read_only=True, allow_null=True)
    prev_hash = serializers.CharField(read_only=True, allow_null=True)
    entry_hash = serializers.CharField(read_only=True, allow_null=True)

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
            "client_request_id",
            "chain_version",
            "digest",
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
    filterset_class = EntryFilter

    def get_queryset(self) -> QuerySet[LogEntry]:
        return entries_all()


class CheckpointSerializer(serializers.ModelSerializer):
    """A stored checkpoint, and its signed `document`: what an auditor keeps outside the
    system and sends back to `audit/verify/`, exactly as `audit_checkpoint` prints it."""

    document = serializers.SerializerMethodField()

    class Meta:
        model = Checkpoint
        fields = ["id", "sequence", "entry_hash", "signed_at", "key_id", "signature", "document"]
        read_only_fields = fields

    def get_document(self, stored: Checkpoint) -> dict[str, Any]:
        return asdict(signed_document_of(stored))


class CheckpointViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The stored checkpoints, and the public key that verifies them (`public_key`, PEM, and its
    `key_id`; null when none is configured). A checkpoint read here and kept outside proves the
    log later, whatever happens to the database: the signing key never enters it."""

    serializer_class = CheckpointSerializer
    permission_classes = [IsAuthenticated, IsAuditor]

    def get_queryset(self) -> QuerySet[Checkpoint]:
        return checkpoints_all()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        try:
            key = load_public_key()
        except ImproperlyConfigured:
            key = None
        response.data["public_key"] = public_key_pem(key) if key else None
        response.data["key_id"] = key_id_of(key) if key else None
        return response


class CheckpointDocumentSerializer(StrictInputMixin, serializers.Serializer):
    """A signed checkpoint as `audit_checkpoint` writes it (and `audit/checkpoints/` shows it
    as `document`): the exact fields the signature covers, nothing else."""

    format = serializers.ChoiceField(choices=[FORMAT])
    sequence = serializers.IntegerField(min_value=0, max_value=2**63 - 1)
    entry_hash = serializers.RegexField(r"^[0-9a-f]{64}\Z")
    # Kept as written: the signature covers this text, not the moment it names.
    signed_at = serializers.RegexField(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{15}Z\Z")
    key_id = serializers.RegexField(r"^[0-9a-f]{1,64}\Z")
    signature = serializers.RegexField(r"^[A-Za-z0-9+/]{1,200}={0,2}\Z")

    def to_internal_value(self, data: Any) -> SignedCheckpoint:
        return SignedCheckpoint(**super().to_internal_value(data))


class VerifySerializer(StrictInputMixin, serializers.Serializer):
    checkpoints = CheckpointDocumentSerializer(many=True, required=False, max_length=1000)


class NoPublicKey(DomainError):
    code = "no_public_key"


class VerifyView(APIView):
    permission_classes = [IsAuthenticated, IsAuditor]

    @extend_schema(
        request=VerifySerializer,
        responses=inline_serializer(
            "VerifyResult",
            {
                "ok": serializers.BooleanField(),
                "verified_against": serializers.ChoiceField(choices=[CHAIN_ONLY, OUTSIDE]),
                "note": serializers.CharField(),
                "entries": serializers.IntegerField(),
                "head": serializers.DictField(),
                "checkpoints": serializers.ListField(child=serializers.DictField()),
                "checkpoints_checked": serializers.IntegerField(),
                "first_break": serializers.DictField(allow_null=True),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        """Recompute the whole chain now, and check it against the checkpoints sent (kept
        outside the system) and those stored. The answer says what it rests on
        (`verified_against`): with no checkpoint from outside, "chain only"."""
        body = VerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        held = body.validated_data.get("checkpoints", [])
        try:
            result = verify_chain(checkpoints=held, source=REQUEST, with_stored=True)
        except ImproperlyConfigured:
            raise NoPublicKey(
                _(
                    "No checkpoint public key is configured (AUDIT_CHECKPOINT_PUBLIC_KEY): "
                    "the checkpoints sent cannot be checked."
                )
            ) from None
        return Response(result.as_dict())
