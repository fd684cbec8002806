"""`/api/v1/cases/`: open, list, read and correct cases; transition, assign, erase."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from audit.access import AccessLoggedMixin
from audit.events import record_access
from cases import services
from cases.models import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    Case,
    ProtectionConcern,
    Relationship,
    RiskLevel,
    Status,
)
from cases.permissions import CanSteerCases, CanUseCases
from cases.selectors import cases_visible_to
from common.exceptions import InvariantViolation
from common.pagination import CursorPagination
from common.serializers import StrictInputMixin, TextField
from people.models import Person
from people.selectors import people_visible_to

CASE_SECRETS = ("summary", "location", "safe_contact", "protection_concerns")
PERSON_NAME_FIELDS = ["full_name", "preferred_name"]
REFERENCE_PATTERN = re.compile(rf"^EV-[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}\Z")


def _person_problem(person: Person | None) -> str | None:
    if person is None:
        return "No such person."
    if person.erased:
        return "This person was erased."
    return None


class VisiblePersonField(serializers.UUIDField):
    """A person id the caller may see; any other id reads as unknown (never "not yours")."""

    def to_internal_value(self, data: Any) -> Person:
        pk = super().to_internal_value(data)
        person = people_visible_to(self.context["request"].user).filter(pk=pk).first()
        problem = _person_problem(person)
        if problem:
            raise serializers.ValidationError(problem)
        return person

    def to_representation(self, value: Any) -> str:
        return str(value.pk if isinstance(value, Person) else value)


MAX_MEMBERS = 50


class MemberSerializer(StrictInputMixin, serializers.Serializer):
    person = serializers.UUIDField()  # resolved for the whole list at once, in validate_members
    relationship = serializers.ChoiceField(
        choices=[choice for choice in Relationship.values if choice != Relationship.PRIMARY]
    )


class CaseSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    reference = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    protection_concerns = serializers.ListField(
        child=serializers.ChoiceField(choices=ProtectionConcern.choices),
        max_length=len(ProtectionConcern.values),
        allow_null=True,
        required=False,
    )
    primary_person = VisiblePersonField()
    members = MemberSerializer(many=True, required=False, max_length=MAX_MEMBERS)
    assigned_to = serializers.SerializerMethodField()
    summary = TextField(max_length=20000, allow_null=True, allow_blank=True, required=False)
    location = TextField(max_length=2000, allow_null=True, allow_blank=True, required=False)
    safe_contact = TextField(max_length=2000, allow_null=True, allow_blank=True, required=False)
    consent_to_store = serializers.BooleanField(required=False)
    consent_to_share = serializers.BooleanField(required=False)
    consent_given_on = serializers.DateField(allow_null=True, required=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    erased = serializers.BooleanField(read_only=True)

    def get_assigned_to(self, case: Case) -> list[str]:
        return sorted(assignment.user.username for assignment in case.assignments.all())

    def validate_members(self, members: list[dict]) -> list[dict]:
        ids = [member["person"] for member in members]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("A person can be on a case once.")
        visible = {
            person.pk: person
            for person in people_visible_to(self.context["request"].user).filter(pk__in=ids)
        }
        errors = [
            {"person": [_person_problem(visible.get(pk))]}
            if _person_problem(visible.get(pk))
            else {}
            for pk in ids
        ]
        if any(errors):
            raise serializers.ValidationError(errors)
        return [{**member, "person": visible[member["person"]]} for member in members]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        concerns = attrs.get("protection_concerns")
        if concerns and len(concerns) != len(set(concerns)):
            raise serializers.ValidationError({"protection_concerns": ["Name each concern once."]})
        primary = attrs.get("primary_person", getattr(self.instance, "primary_person", None))
        members = attrs.get("members") or []
        if primary is not None and any(member["person"].pk == primary.pk for member in members):
            raise serializers.ValidationError(
                {"members": ["The primary person is on the case already; list the others."]}
            )
        return attrs

    def to_representation(self, case: Case) -> dict[str, Any]:
        data = super().to_representation(case)
        data["members"] = [
            {"person": str(member.person_id), "relationship": member.relationship}
            for member in sorted(case.memberships.all(), key=lambda m: (m.relationship, m.pk))
        ]
        if case.erased:  # nothing personal, not even who was on it
            data.update(dict.fromkeys(CASE_SECRETS), members=[], primary_person=None)
        return data

    def to_internal_members(self, attrs: dict[str, Any]) -> list[services.Member] | None:
        if "members" not in attrs:
            return None
        return [
            services.Member(person=member["person"], relationship=member["relationship"])
            for member in attrs.pop("members")
        ]


class CaseListSerializer(CaseSerializer):
    """The list adds the primary person's name, so a caseworker can tell the cases apart."""

    primary_person_name = serializers.SerializerMethodField()

    def get_primary_person_name(self, case: Case) -> str | None:
        person = case.primary_person
        if case.erased or person.erased:  # an erased case shows (and logs) no one
            return None
        return person.full_name or person.preferred_name


class TransitionSerializer(StrictInputMixin, serializers.Serializer):
    to = serializers.ChoiceField(choices=Status.choices)
    reason = TextField(max_length=5000, allow_blank=True, required=False, default="")


class AssignSerializer(StrictInputMixin, serializers.Serializer):
    caseworkers = serializers.ListField(child=TextField(max_length=150), max_length=50)

    def validate_caseworkers(self, names: list[str]) -> list[User]:
        users = {user.username: user for user in User.objects.filter(username__in=names)}
        unknown = sorted(set(names) - set(users))
        if unknown:
            raise serializers.ValidationError(f"No staff member named {', '.join(unknown)}.")
        return list(users.values())


def _case_filters(request: Request) -> dict[str, Any]:
    params, filters = request.query_params, {}
    if params.get("status"):
        if params["status"] not in Status.values:
            raise serializers.ValidationError({"status": ["Not a case status."]})
        filters["status"] = params["status"]
    if params.get("risk_level"):
        if params["risk_level"] not in RiskLevel.values:
            raise serializers.ValidationError({"risk_level": ["Not a risk level."]})
        filters["risk_level"] = params["risk_level"]
    if params.get("reference"):
        reference = params["reference"].strip().upper()
        if not REFERENCE_PATTERN.match(reference):
            raise serializers.ValidationError({"reference": ["A reference looks like EV-7K3Q9P."]})
        filters["reference"] = reference
    if params.get("updated_since"):
        try:
            since = parse_datetime(params["updated_since"])
        except ValueError:  # well formed but impossible: 2026-02-30, 25:00
            since = None
        try:
            if since is not None and timezone.is_naive(since):
                since = timezone.make_aware(since, datetime.UTC)
            if since is not None:
                since = since.astimezone(datetime.UTC)
        except (OverflowError, ValueError):  # 9999-12-31T23:59-23:59 leaves the calendar
            since = None
        if since is None:
            raise serializers.ValidationError(
                {"updated_since": ["Use an ISO 8601 time, e.g. 2026-11-24T09:00:00Z."]}
            )
        filters["updated_at__gte"] = since
    if params.get("assigned_to") == "me":
        filters["assignments__user"] = request.user
    elif params.get("assigned_to"):
        raise serializers.ValidationError({"assigned_to": ["Only 'me' is supported."]})
    return filters


class CaseListPagination(CursorPagination):
    # Newest change first, as the `case_list_order` index (and each filter's index) stores
    # the cases: every page, the first and the ones after it, is read off that index.
    ordering = ("-updated_at", "id")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("risk_level", str),
            OpenApiParameter("assigned_to", str, description="'me'"),
            OpenApiParameter("updated_since", str, description="ISO 8601 time"),
            OpenApiParameter("reference", str),
        ]
    )
)
class CaseViewSet(
    AccessLoggedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Cases are never hard-deleted: `erase/` crypto-shreds them and keeps the row."""

    queryset = Case.objects.none()  # for the schema only; requests go through get_queryset
    http_method_names = ["get", "post", "patch", "head", "options"]
    pagination_class = CaseListPagination
    access_logged_fields = CASE_SECRETS

    def get_permissions(self) -> list:
        if self.action in ("assign", "erase"):
            return [CanSteerCases()]
        return [CanUseCases()]

    def get_queryset(self) -> QuerySet[Case]:
        cases = cases_visible_to(self.request.user).for_display()  # outside scope: 404
        if self.action == "list":
            cases = cases.filter(**_case_filters(self.request))
        return cases

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return CaseListSerializer if self.action == "list" else CaseSerializer

    def access_logged(self, instances: list[Any]) -> list[Any]:
        return [case for case in instances if not case.erased]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        named = [
            case.primary_person
            for case in getattr(self, "_page", [])
            if not case.erased and not case.primary_person.erased
        ]
        record_access(instances=named, fields=PERSON_NAME_FIELDS, actor=request.user)
        return response

    def paginate_queryset(self, queryset: QuerySet[Case]) -> list[Case] | None:
        # Kept for list(): the people whose names the page shows are logged after serializing.
        self._page = super().paginate_queryset(queryset)
        return self._page

    def create(self, request: Request) -> Response:
        body = CaseSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        members = body.to_internal_members(body.validated_data) or []
        case = services.case_create(created_by=request.user, members=members, **body.validated_data)
        return Response(self._shown(case), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        if case.erased:
            raise InvariantViolation(services.ERASED_MESSAGE)
        body = CaseSerializer(
            case, data=request.data, partial=True, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        members = body.to_internal_members(body.validated_data)
        case = services.case_update(
            case=case, actor=request.user, members=members, **body.validated_data
        )
        return Response(self._shown(case))

    @extend_schema(request=TransitionSerializer, responses={200: CaseSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.case_transition(case=case, actor=request.user, **body.validated_data)
        return Response(self._shown(case))

    @extend_schema(request=AssignSerializer, responses={200: CaseSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.case_assign(
            case=case, actor=request.user, caseworkers=body.validated_data["caseworkers"]
        )
        return Response(self._shown(case))

    @extend_schema(request=None, responses={200: CaseSerializer})
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, pk: str) -> Response:
        case = services.case_erase(case=self.get_object(), actor=request.user)
        return Response(self._shown(case))

    def _shown(self, case: Case) -> dict[str, Any]:
        """The case as it now stands, read back through the caller's scope, and logged."""
        fresh = cases_visible_to(self.request.user).for_display().get(pk=case.pk)
        return self.get_serializer(fresh).data
