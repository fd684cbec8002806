"""The admins' staff endpoints (`staff/`, `staff/changes/`).

Every write takes a fresh TOTP code of the admin in the body (`otp`, a step-up: wrong codes
count against the admin's token). Granting a guarded role, reactivating, and resetting the
second factor of an account with a guarded role wait for a second admin when four eyes are in
force (`accounts.services.changes`): the answer is then `202` with the pending change.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.models import StaffChange, User
from accounts.permissions import IsAdmin
from accounts.roles import Role
from accounts.second_factor import MAX_CODE_LENGTH, has_second_factor
from accounts.selectors import staff_changes, staff_list
from accounts.services.changes import StaffOutcome, change_note
from common.filters import ChoiceFilter, StrictFilterSet
from common.serializers import StrictInputMixin, TextField

UUID_PATTERN = r"[0-9a-fA-F-]{36}"


class StaffSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    has_second_factor = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "roles",
            "is_active",
            "has_second_factor",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        return sorted(user.roles)

    def get_has_second_factor(self, user: User) -> bool:
        return has_second_factor(user)


class StaffChangeSerializer(serializers.ModelSerializer):
    target = serializers.CharField(source="target.username")
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    note = serializers.SerializerMethodField()

    class Meta:
        model = StaffChange
        fields = [
            "id",
            "kind",
            "target",
            "target_id",
            "roles",
            "status",
            "four_eyes",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "reason",
            "note",
        ]
        read_only_fields = fields

    def get_note(self, change: StaffChange) -> str:
        return change_note(change)


class EnrolmentCodeSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Shown once: pass it to the staff member, who redeems it at auth/enrol/."
    )
    expires_at = serializers.DateTimeField()


class StaffOutcomeSerializer(serializers.Serializer):
    staff = StaffSerializer()
    change = StaffChangeSerializer(allow_null=True)
    enrolment = EnrolmentCodeSerializer(allow_null=True)


def _answer(outcome: StaffOutcome, created: bool = False) -> Response:
    pending = outcome.change is not None and outcome.change.status == StaffChange.Status.PENDING
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(
        StaffOutcomeSerializer(outcome).data,
        status=status.HTTP_202_ACCEPTED if pending and not created else code,
    )


class AdminStepUpSerializer(StrictInputMixin, serializers.Serializer):
    otp = TextField(max_length=MAX_CODE_LENGTH, help_text="A current code of your authenticator.")


class StaffCreateSerializer(AdminStepUpSerializer):
    username = TextField(max_length=64)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), min_length=1, max_length=len(Role)
    )


class RolesSerializer(AdminStepUpSerializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), min_length=1, max_length=len(Role)
    )


class StaffChangeRejectSerializer(AdminStepUpSerializer):
    reason = TextField(max_length=2000, allow_blank=True, required=False, default="")


class UnlockSerializer(AdminStepUpSerializer):
    addresses = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Also forget every failure from the addresses that tried this account, so others "
            "behind the same address (an office, a Tor exit) are not held up either."
        ),
    )


class UnlockedSerializer(serializers.Serializer):
    staff = StaffSerializer()
    failures_cleared = serializers.IntegerField(
        help_text="Failures forgotten: against the account (new devices) and its device tokens."
    )
    address_failures_cleared = serializers.IntegerField(
        help_text="Other failures forgotten from the addresses that tried it (`addresses`)."
    )
    second_factor_throttle_reset = serializers.BooleanField()
    address_unlocked = serializers.BooleanField(
        help_text=(
            "True when no address that tried this account is still slowed down (always true "
            "when LOGIN_LIMIT_BY_ADDRESS is off)."
        )
    )
    addresses_still_slowed = serializers.IntegerField()
    note = serializers.CharField()


class AdminWriteMixin:
    """Validate the body, then the admin's fresh code, before anything is written."""

    def checked_body(self, serializer_class: type, request: Request) -> dict:
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data

    def step_up(self, request: Request, data: dict) -> None:
        services.step_up_verify(token=request.auth, user=request.user, code=data["otp"])


class StaffViewSet(
    AdminWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Admins manage staff: create, set roles, deactivate, reactivate, reset a second factor,
    revoke every token, unlock an account the login lockout holds."""

    serializer_class = StaffSerializer
    permission_classes = [IsAuthenticated, IsAdmin]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self) -> QuerySet[User]:
        return staff_list()

    @extend_schema(request=StaffCreateSerializer, responses={201: StaffOutcomeSerializer})
    def create(self, request: Request) -> Response:
        data = self.checked_body(StaffCreateSerializer, request)
        self.step_up(request, data)
        outcome = services.staff_create_by_admin(
            username=data["username"], roles=data["roles"], actor=request.user
        )
        return _answer(outcome, created=True)

    @extend_schema(
        request=RolesSerializer,
        responses={200: StaffOutcomeSerializer, 202: StaffOutcomeSerializer},
    )
    @action(detail=True, methods=["post"])
    def roles(self, request: Request, pk: str) -> Response:
        data = self.checked_body(RolesSerializer, request)
        user = self.get_object()
        self.step_up(request, data)
        return _answer(
            services.staff_roles_request(user=user, roles=data["roles"], actor=request.user)
        )

    @extend_schema(request=AdminStepUpSerializer, responses=StaffOutcomeSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        data = self.checked_body(AdminStepUpSerializer, request)
        user = self.get_object()
        self.step_up(request, data)
        return _answer(StaffOutcome(staff=services.staff_deactivate(user=user)))

    @extend_schema(
        request=AdminStepUpSerializer,
        responses={200: StaffOutcomeSerializer, 202: StaffOutcomeSerializer},
    )
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str) -> Response:
        data = self.checked_body(AdminStepUpSerializer, request)
        user = self.get_object()
        self.step_up(request, data)
        return _answer(services.staff_reactivate_request(user=user, actor=request.user))

    @extend_schema(
        request=AdminStepUpSerializer,
        responses={200: StaffOutcomeSerializer, 202: StaffOutcomeSerializer},
    )
    @action(detail=True, methods=["post"], url_path="reset-second-factor")
    def reset_second_factor(self, request: Request, pk: str) -> Response:
        data = self.checked_body(AdminStepUpSerializer, request)
        user = self.get_object()
        self.step_up(request, data)
        return _answer(services.second_factor_reset_request(user=user, actor=request.user))

    @extend_schema(
        request=AdminStepUpSerializer,
        responses=inline_serializer("RevokedTokens", {"revoked": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"], url_path="revoke-tokens")
    def revoke_tokens(self, request: Request, pk: str) -> Response:
        data = self.checked_body(AdminStepUpSerializer, request)
        user = self.get_object()
        self.step_up(request, data)
        return Response(
            {"revoked": services.tokens_revoke_all(user=user, reason="revoked by admin")}
        )

    @extend_schema(request=UnlockSerializer, responses=UnlockedSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, pk: str) -> Response:
        """Clear the login lockout that holds this account out (at once, audited)."""
        data = self.checked_body(UnlockSerializer, request)
        user = self.get_object()
        self.step_up(request, data)
        outcome = services.account_unlock(user=user, addresses=data["addresses"])
        return Response(
            UnlockedSerializer(
                {
                    "staff": outcome.staff,
                    "failures_cleared": outcome.failures_cleared,
                    "address_failures_cleared": outcome.address_failures_cleared,
                    "second_factor_throttle_reset": outcome.second_factor_throttle_reset,
                    "address_unlocked": outcome.address_unlocked,
                    "addresses_still_slowed": outcome.addresses_still_slowed,
                    "note": services.unlock_note(outcome),
                }
            ).data
        )


class StaffChangeFilter(StrictFilterSet):
    status = ChoiceFilter(choices=StaffChange.Status.choices)
    kind = ChoiceFilter(choices=StaffChange.Kind.choices)

    class Meta:
        model = StaffChange
        fields: list[str] = []


class StaffChangeViewSet(
    AdminWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Changes to staff accounts, pending ones first: approve (another admin) or reject."""

    serializer_class = StaffChangeSerializer
    permission_classes = [IsAuthenticated, IsAdmin]
    lookup_value_regex = UUID_PATTERN
    filterset_class = StaffChangeFilter

    def get_queryset(self) -> QuerySet[StaffChange]:
        return staff_changes()

    @extend_schema(request=AdminStepUpSerializer, responses=StaffOutcomeSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        data = self.checked_body(AdminStepUpSerializer, request)
        change = self.get_object()
        self.step_up(request, data)
        return _answer(services.staff_change_approve(change=change, actor=request.user))

    @extend_schema(request=StaffChangeRejectSerializer, responses=StaffOutcomeSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        data = self.checked_body(StaffChangeRejectSerializer, request)
        change = self.get_object()
        self.step_up(request, data)
        return _answer(
            services.staff_change_reject(change=change, actor=request.user, reason=data["reason"])
        )
