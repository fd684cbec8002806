"""Login, logout, the caller's own account, and the admins' staff endpoints."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import User, normalize_username
from accounts.permissions import IsAdmin
from accounts.roles import Role
from accounts.second_factor import MAX_CODE_LENGTH, has_second_factor
from accounts.selectors import staff_list
from accounts.throttles import LoginRateThrottle


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=True)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    otp = serializers.CharField(max_length=MAX_CODE_LENGTH)

    def validate_username(self, value: str) -> str:
        # Normalisation can lengthen text (one character may become eighteen): no account
        # name is longer than the field, so a longer one is refused before the lockout
        # bookkeeping would have to store it.
        if len(normalize_username(value)) > User._meta.get_field("username").max_length:
            raise serializers.ValidationError("No username is this long.")
        return value


class LoginUserSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField()
    user = LoginUserSerializer()


def _user_summary(user: User) -> dict:
    return {"username": user.username, "roles": sorted(user.roles)}


class LoginView(APIView):
    # The only way to get a token, so it cannot require one. Lockout (django-axes) and the
    # login rate throttle guard it instead.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer})
    def post(self, request: Request) -> Response:
        body = LoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.login(request=request._request, **body.validated_data)
        return Response(
            {"token": issued.token, "expiry": issued.expiry, "user": _user_summary(issued.user)}
        )


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer("LogoutAll", {"revoked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        return Response(
            {"revoked": services.tokens_revoke_all(user=request.user, reason="logout all")}
        )


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    token_expiry = serializers.DateTimeField()


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "roles": sorted(user.roles),
                "token_expiry": request.auth.expiry,
            }
        )


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


class EnrolmentSerializer(serializers.Serializer):
    otpauth_uri = serializers.CharField()
    backup_codes = serializers.ListField(child=serializers.CharField())


class RolesSerializer(serializers.Serializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), min_length=1, max_length=len(Role)
    )


class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Admins manage staff: deactivate, reset a second factor, revoke every token."""

    serializer_class = StaffSerializer
    permission_classes = [IsAuthenticated, IsAdmin]

    def get_queryset(self) -> QuerySet[User]:
        return staff_list()

    @extend_schema(request=None, responses=StaffSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        user = services.staff_deactivate(user=self.get_object())
        return Response(self.get_serializer(user).data)

    @extend_schema(request=None, responses=StaffSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str) -> Response:
        user = services.staff_reactivate(user=self.get_object())
        return Response(self.get_serializer(user).data)

    @extend_schema(request=RolesSerializer, responses=StaffSerializer)
    @action(detail=True, methods=["post"])
    def roles(self, request: Request, pk: str) -> Response:
        body = RolesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = services.staff_set_roles(
            user=self.get_object(), roles=body.validated_data["roles"], actor=request.user
        )
        return Response(self.get_serializer(user).data)

    @extend_schema(request=None, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"], url_path="reset-second-factor")
    def reset_second_factor(self, request: Request, pk: str) -> Response:
        enrolment = services.second_factor_reset(user=self.get_object())
        return Response(EnrolmentSerializer(enrolment).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("RevokedTokens", {"revoked": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"], url_path="revoke-tokens")
    def revoke_tokens(self, request: Request, pk: str) -> Response:
        return Response(
            {
                "revoked": services.tokens_revoke_all(
                    user=self.get_object(), reason="revoked by admin"
                )
            }
        )
