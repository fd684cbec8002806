"""`/api/v1/cases/`: open, list, read and correct cases; change the household one person at
a time; transition, assign, erase."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from audit.disclosure import Disclosure
from cases import services
from cases.disclosure import case_disclosed
from cases.filters import CaseFilter
from cases.models import (
    ADDABLE_RELATIONSHIPS,
    Case,
    ProtectionConcern,
    Relationship,
    RiskLevel,
    Status,
)
from cases.permissions import CanSteerCases, CanUseCases
from cases.selectors import cases_visible_to, caseworkers_with_open_cases, people_addable_to
from common.disclosed import DisclosedListMixin, DisclosedRetrieveMixin
from common.exceptions import InvariantViolation, NotFound
from common.pagination import CursorPagination
from common.serializers import DateField, EraseSerializer, StrictInputMixin, TextField
from people.models import Person
from people.selectors import people_visible_to


def _person_problem(person: Person | None) -> str | None:
    if person is None:
        return "No such person."
    if person.erased:
        return "This person was erased."
    return None


class VisiblePersonField(serializers.UUIDField):
    """A person id the caller may see; any other id reads as unknown (never "not yours")."""

    def scope(self) -> QuerySet[Person]:
        return people_visible_to(self.context["request"].user)

    def to_internal_value(self, data: Any) -> Person:
        pk = super().to_internal_value(data)
        person = self.scope().filter(pk=pk).first()
        problem = _person_problem(person)
        if problem:
            raise serializers.ValidationError(problem)
        return person

    def to_representation(self, value: Any) -> str:
        return str(value.pk if isinstance(value, Person) else value)


class HouseholdPersonField(VisiblePersonField):
    """A person the caller may put on this case's household: one they may see, or one who was
    on it before (taken off, so out of every caseworker's scope, and named on the timeline)."""

    def scope(self) -> QuerySet[Person]:
        return people_addable_to(self.context["request"].user, self.context["case"])


class MemberSerializer(StrictInputMixin, serializers.Serializer):
    person = serializers.UUIDField()  # resolved for the whole list at once, in validate_members
    relationship = serializers.ChoiceField(choices=ADDABLE_RELATIONSHIPS)


class CaseInputSerializer(StrictInputMixin, serializers.Serializer):
    """The body of POST (and, through CaseUpdateInputSerializer, PATCH): shape only."""

    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    protection_concerns = serializers.ListField(
        child=serializers.ChoiceField(choices=ProtectionConcern.choices),
        max_length=len(ProtectionConcern.values),
        allow_null=True,
        required=False,
    )
    primary_person = VisiblePersonField()
    members = MemberSerializer(many=True, required=False, max_length=services.MAX_MEMBERS)
    summary = TextField(max_length=20000, allow_null=True, allow_blank=True, required=False)
    location = TextField(max_length=2000, allow_null=True, allow_blank=True, required=False)
    safe_contact = TextField(max_length=2000, allow_null=True, allow_blank=True, required=False)
    consent_to_store = serializers.BooleanField(required=False)
    consent_to_share = serializers.BooleanField(required=False)
    consent_given_on = DateField(allow_null=True, required=False)

    def validate_members(self, members: list[dict]) -> list[dict]:
        ids = [member["person"] for member in members]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(_("A person can be on a case once."))
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

    def to_internal_members(self, attrs: dict[str, Any]) -> list[services.Member]:
        if "members" not in attrs:
            return []
        return [
            services.Member(person=member["person"], relationship=member["relationship"])
            for member in attrs.pop("members")
        ]


class CaseUpdateInputSerializer(CaseInputSerializer):
    """PATCH: the household is not replaced wholesale by a list any more (someone left out of
    it vanished silently); it changes one person at a time, on purpose, on the timeline."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and "members" in data:
            raise serializers.ValidationError(
                {
                    "members": [
                        _(
                            "The household is not written here: add someone with POST "
                            "cases/{id}/members/, take someone off with POST "
                            "cases/{id}/members/{person}/remove/."
                        )
                    ]
                }
            )
        return super().to_internal_value(data)


class MemberAddSerializer(StrictInputMixin, serializers.Serializer):
    person = HouseholdPersonField()
    relationship = serializers.ChoiceField(choices=ADDABLE_RELATIONSHIPS)
    reason = TextField(max_length=5000, allow_blank=True, required=False, default="")


class MemberRemoveSerializer(StrictInputMixin, serializers.Serializer):
    reason = TextField(max_length=5000)


class CaseMemberOutputSerializer(serializers.Serializer):
    person = serializers.UUIDField(read_only=True)
    relationship = serializers.ChoiceField(choices=Relationship.choices, read_only=True)


class CaseSerializer(serializers.Serializer):
    """A case as `cases.disclosure.case_disclosed` shows it: rendering only."""

    id = serializers.UUIDField(read_only=True)
    reference = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, read_only=True)
    protection_concerns = serializers.ListField(
        child=serializers.ChoiceField(choices=ProtectionConcern.choices),
        read_only=True,
        allow_null=True,
    )
    primary_person = serializers.UUIDField(read_only=True, allow_null=True)
    members = CaseMemberOutputSerializer(many=True, read_only=True)
    assigned_to = serializers.ListField(child=serializers.CharField(), read_only=True)
    summary = serializers.CharField(read_only=True, allow_null=True)
    location = serializers.CharField(read_only=True, allow_null=True)
    safe_contact = serializers.CharField(read_only=True, allow_null=True)
    consent_to_store = serializers.BooleanField(read_only=True)
    consent_to_share = serializers.BooleanField(read_only=True)
    consent_given_on = serializers.DateField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    erased = serializers.BooleanField(read_only=True)


class CaseListSerializer(CaseSerializer):
    """The list adds the primary person's name, so a caseworker can tell the cases apart."""

    primary_person_name = serializers.CharField(read_only=True, allow_null=True)


class TransitionSerializer(StrictInputMixin, serializers.Serializer):
    to = serializers.ChoiceField(choices=Status.choices)
    reason = TextField(max_length=5000, allow_blank=True, required=False, default="")


class AssignSerializer(StrictInputMixin, serializers.Serializer):
    caseworkers = serializers.ListField(child=TextField(max_length=150), max_length=50)

    def validate_caseworkers(self, names: list[str]) -> list[User]:
        users = {user.username: user for user in User.objects.filter(username__in=names)}
        unknown = sorted(set(names) - set(users))
        if unknown:
            raise serializers.ValidationError(
                _("No staff member named %(names)s.") % {"names": ", ".join(unknown)}
            )
        return list(users.values())


class CaseListPagination(CursorPagination):
    # Newest change first, as the `case_list_order` index (and each filter's index) stores
    # the cases: every page, the first and the ones after it, is read off that index.
    ordering = ("-updated_at", "id")


class CaseViewSet(
    DisclosedListMixin,
    DisclosedRetrieveMixin,
    viewsets.GenericViewSet,
):
    """Cases are never hard-deleted: `erase/` crypto-shreds them and keeps the row."""

    queryset = Case.objects.none()  # for the schema only; requests go through get_queryset
    http_method_names = ["get", "post", "patch", "head", "options"]
    pagination_class = CaseListPagination
    filterset_class = CaseFilter  # erased cases leave the list (see cases/filters.py)
    output_serializer_class = CaseSerializer

    def get_permissions(self) -> list:
        if self.action in ("assign", "erase"):
            return [CanSteerCases()]
        return [CanUseCases()]

    def get_queryset(self) -> QuerySet[Case]:
        return cases_visible_to(self.request.user).for_display()  # outside scope: 404

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return CaseListSerializer if self.action == "list" else CaseSerializer

    def disclose(self, record: Case, disclosure: Disclosure) -> dict[str, Any]:
        listed = self.action == "list"
        return case_disclosed(record, disclosure=disclosure, with_person_name=listed)

    @extend_schema(request=CaseInputSerializer, responses={201: CaseSerializer})
    def create(self, request: Request) -> Response:
        body = CaseInputSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        members = body.to_internal_members(body.validated_data)
        case = services.case_create(created_by=request.user, members=members, **body.validated_data)
        return Response(self._shown(case), status=status.HTTP_201_CREATED)

    @extend_schema(request=CaseUpdateInputSerializer, responses={200: CaseSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        if case.erased:
            raise InvariantViolation(services.ERASED_MESSAGE)
        body = CaseUpdateInputSerializer(
            case, data=request.data, partial=True, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        case = services.case_update(case=case, actor=request.user, **body.validated_data)
        return Response(self._shown(case))

    @extend_schema(request=MemberAddSerializer, responses={201: CaseSerializer})
    @action(detail=True, methods=["post"], url_path="members", url_name="members")
    def add_member(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        if case.erased:
            raise InvariantViolation(services.ERASED_MESSAGE)
        body = MemberAddSerializer(
            data=request.data, context={**self.get_serializer_context(), "case": case}
        )
        body.is_valid(raise_exception=True)
        case = services.case_member_add(
            case=case,
            actor=request.user,
            person=body.validated_data["person"],
            relationship=body.validated_data["relationship"],
            reason=body.validated_data["reason"] or None,
        )
        return Response(self._shown(case), status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRemoveSerializer, responses={200: CaseSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"members/(?P<person_pk>[0-9A-Fa-f-]{36})/remove",
        url_name="member-remove",
    )
    def remove_member(self, request: Request, pk: str, person_pk: str) -> Response:
        case = self.get_object()
        try:
            person_id = uuid.UUID(person_pk)
        except ValueError:
            raise NotFound() from None
        body = MemberRemoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.case_member_remove(
            case=case, actor=request.user, person_id=person_id, reason=body.validated_data["reason"]
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

    @extend_schema(request=EraseSerializer, responses={200: CaseSerializer})
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        body = EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.case_erase(
            case=case, actor=request.user, token=request.auth, otp=body.validated_data["otp"]
        )
        return Response(self._shown(case))

    def _shown(self, case: Case) -> dict[str, Any]:
        """The case as it now stands, read back through the caller's scope, disclosed."""
        fresh = cases_visible_to(self.request.user).for_display().get(pk=case.pk)
        return self.shown(fresh)


class DirectoryEntrySerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    open_cases = serializers.IntegerField(read_only=True)


class StaffDirectoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """`staff/directory/` (coordinators): whom a case can be assigned to. The active
    caseworkers' usernames and how many open cases each holds; no other account data (the
    staff accounts themselves are the admins' business, at `staff/`). Routed by the cases app,
    which knows what an open case is."""

    serializer_class = DirectoryEntrySerializer
    queryset = User.objects.none()  # for the schema only
    permission_classes = [CanSteerCases]

    def get_queryset(self) -> QuerySet[User]:
        return caseworkers_with_open_cases()
