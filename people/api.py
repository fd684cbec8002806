"""`/api/v1/people/`: record, list, read and correct people; duplicate check; erasure."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.throttles import StaffRateThrottle
from audit.disclosure import Disclosure, disclosure_for
from common.disclosed import DisclosedListMixin, DisclosedRetrieveMixin
from common.exceptions import InvariantViolation
from common.serializers import DateField, EraseSerializer, StrictInputMixin, TextField
from encryption.blind_index import normalize_phone
from people import services
from people.disclosure import person_disclosed, person_match_disclosed
from people.filters import PersonFilter
from people.models import DocumentType, Person
from people.permissions import CanErasePeople, CanUsePeople
from people.selectors import people_visible_to
from people.throttles import DuplicateCheckThrottle


def _validate_phone(value: str | None) -> str | None:
    if value:
        try:
            normalize_phone(value)
        except ValueError:
            raise serializers.ValidationError(
                _("Enter a phone number (with its country code if it is not a local one).")
            ) from None
    return value


class PersonInputSerializer(StrictInputMixin, serializers.Serializer):
    """The body of POST and PATCH: shape only; the service decides the rest."""

    full_name = TextField(max_length=300, allow_null=True, required=False)
    preferred_name = TextField(max_length=300, allow_null=True, required=False)
    date_of_birth = DateField(allow_null=True, required=False)
    phone = TextField(max_length=64, allow_null=True, required=False)
    messenger = TextField(max_length=300, allow_null=True, required=False)
    document_type = serializers.ChoiceField(
        choices=DocumentType.choices,
        allow_null=True,
        required=False,
        # DRF's message repeats the input, which may be the document number itself.
        error_messages={"invalid_choice": f"Use one of: {', '.join(DocumentType.values)}."},
    )
    document_number = TextField(max_length=100, allow_null=True, required=False)
    nationality = TextField(max_length=100, allow_null=True, required=False)
    languages = serializers.ListField(
        child=TextField(max_length=60), max_length=20, allow_null=True, required=False
    )
    notes = TextField(
        max_length=20000, allow_null=True, allow_blank=True, required=False, trim_whitespace=False
    )

    def validate_phone(self, value: str | None) -> str | None:
        return _validate_phone(value)

    def validate_date_of_birth(self, value: datetime.date | None) -> datetime.date | None:
        if value and not (datetime.date(1900, 1, 1) <= value <= timezone.localdate()):
            raise serializers.ValidationError(_("Enter a date of birth between 1900 and today."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def resulting(name: str) -> Any:
            if name in attrs or self.instance is None:
                return attrs.get(name)
            return getattr(self.instance, name)

        if not (resulting("full_name") or resulting("preferred_name")):
            raise serializers.ValidationError(
                {"full_name": ["Give a full name or a preferred name (an alias will do)."]}
            )
        return attrs


class PersonSerializer(serializers.Serializer):
    """A person as `people.disclosure.person_disclosed` shows them: rendering only."""

    id = serializers.UUIDField(read_only=True)
    full_name = serializers.CharField(read_only=True, allow_null=True)
    preferred_name = serializers.CharField(read_only=True, allow_null=True)
    date_of_birth = serializers.DateField(read_only=True, allow_null=True)
    phone = serializers.CharField(read_only=True, allow_null=True)
    messenger = serializers.CharField(read_only=True, allow_null=True)
    document_type = serializers.ChoiceField(
        choices=DocumentType.choices, read_only=True, allow_null=True
    )
    document_number = serializers.CharField(read_only=True, allow_null=True)
    nationality = serializers.CharField(read_only=True, allow_null=True)
    languages = serializers.ListField(
        child=serializers.CharField(), read_only=True, allow_null=True
    )
    notes = serializers.CharField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    erased = serializers.BooleanField(read_only=True)


class DuplicateQuerySerializer(StrictInputMixin, serializers.Serializer):
    phone = TextField(max_length=64, required=False)
    full_name = TextField(max_length=300, required=False)
    document_number = TextField(max_length=100, required=False)

    def validate_phone(self, value: str) -> str:
        return _validate_phone(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                _("Give at least one of phone, full_name or document_number.")
            )
        return attrs


class PersonMatchSerializer(serializers.Serializer):
    """A match as `people.disclosure.person_match_disclosed` shows it: rendering only."""

    id = serializers.UUIDField(read_only=True)
    full_name = serializers.CharField(read_only=True, allow_null=True)
    preferred_name = serializers.CharField(read_only=True, allow_null=True)
    date_of_birth = serializers.DateField(read_only=True, allow_null=True)
    matched_on = serializers.ListField(child=serializers.CharField(), read_only=True)


class DuplicateResultSerializer(serializers.Serializer):
    matches = PersonMatchSerializer(many=True)
    outside_scope = serializers.IntegerField()


class PersonViewSet(
    DisclosedListMixin,
    DisclosedRetrieveMixin,
    viewsets.GenericViewSet,
):
    """People are never hard-deleted: `erase/` crypto-shreds them and keeps the row."""

    output_serializer_class = PersonSerializer
    queryset = Person.objects.none()  # for the schema only; requests go through get_queryset
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = PersonFilter  # erased people leave the list (see people/filters.py)

    def get_permissions(self) -> list:
        return [CanErasePeople()] if self.action == "erase" else [CanUsePeople()]

    def get_queryset(self) -> QuerySet[Person]:
        return people_visible_to(self.request.user)  # outside the caller's scope: 404

    def disclose(self, record: Person, disclosure: Disclosure) -> dict[str, Any]:
        return person_disclosed(record, disclosure=disclosure)

    @extend_schema(request=PersonInputSerializer, responses={201: PersonSerializer})
    def create(self, request: Request) -> Response:
        body = PersonInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        person = services.person_create(created_by=request.user, **body.validated_data)
        return Response(self.shown(person), status=status.HTTP_201_CREATED)

    @extend_schema(request=PersonInputSerializer, responses={200: PersonSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        person = self.get_object()
        if person.erased:  # before validation: there is nothing left to validate against
            raise InvariantViolation(services.ERASED_MESSAGE)
        body = PersonInputSerializer(person, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        person = services.person_update(person=person, **body.validated_data)
        return Response(self.shown(person))

    @extend_schema(request=DuplicateQuerySerializer, responses={200: DuplicateResultSerializer})
    @action(
        detail=False,
        methods=["post"],
        throttle_classes=[StaffRateThrottle, DuplicateCheckThrottle],
    )
    def duplicates(self, request: Request) -> Response:
        body = DuplicateQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = services.person_duplicate_check(user=request.user, criteria=body.validated_data)
        disclosure = disclosure_for(request)
        matches = [
            person_match_disclosed(
                person, matched_on=found.matched_on.get(str(person.pk), []), disclosure=disclosure
            )
            for person in found.matches
        ]
        return Response(
            {
                "matches": PersonMatchSerializer(matches, many=True).data,
                "outside_scope": found.outside_scope,
            }
        )

    @extend_schema(request=EraseSerializer, responses={200: PersonSerializer})
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, pk: str) -> Response:
        person = self.get_object()
        body = EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        person = services.person_erase(
            person=person, actor=request.user, token=request.auth, otp=body.validated_data["otp"]
        )
        return Response(self.shown(person))
