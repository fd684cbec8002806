"""Logging in and out, enrolment, one's own password and tokens (`auth/`)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.lockout import DEVICE_TOKEN_HEADER
from accounts.models import TokenRecord, User, normalize_username
from accounts.second_factor import MAX_CODE_LENGTH
from accounts.selectors import tokens_of
from accounts.throttles import LoginRateThrottle
from common.serializers import StrictInputMixin, TextField

DEVICE_TOKEN_PARAMETER = OpenApiParameter(
    DEVICE_TOKEN_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "The `device_token` an earlier login from this device returned: this device is then "
        "not held up by failures others caused."
    ),
)


class UsernameField(TextField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=150, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        # Normalisation can lengthen text (one character may become eighteen): no account
        # name is longer than the field, so a longer one is refused before the lockout
        # bookkeeping would have to digest it.
        if len(normalize_username(value)) > User._meta.get_field("username").max_length:
            raise serializers.ValidationError(_("No username is this long."))
        return value


class LoginSerializer(StrictInputMixin, serializers.Serializer):
    username = UsernameField()
    password = TextField(max_length=1024, trim_whitespace=False)
    otp = TextField(max_length=MAX_CODE_LENGTH)


class LoginUserSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField()
    user = LoginUserSerializer()
    device_token = serializers.CharField(
        help_text=f"Send it back as the {DEVICE_TOKEN_HEADER} header on later logins."
    )


def _user_summary(user: User) -> dict:
    return {"username": user.username, "roles": sorted(user.roles)}


def _logged_in(issued: services.IssuedToken) -> Response:
    return Response(
        {
            "token": issued.token,
            "expiry": issued.expiry,
            "user": _user_summary(issued.user),
            "device_token": issued.device_token,
        }
    )


class PublicView(APIView):
    # The doors to an account cannot require a token. The lockout (accounts.lockout) and the
    # login rate throttle guard them instead.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]


class LoginView(PublicView):
    @extend_schema(
        request=LoginSerializer,
        responses={200: LoginResponseSerializer},
        parameters=[DEVICE_TOKEN_PARAMETER],
    )
    def post(self, request: Request) -> Response:
        body = LoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.login(
            request=request._request,
            username=body.validated_data["username"],
            password=body.validated_data["password"],
            otp=body.validated_data["otp"],
            device_token=request.headers.get(DEVICE_TOKEN_HEADER),
        )
        return _logged_in(issued)


class EnrolSerializer(StrictInputMixin, serializers.Serializer):
    username = UsernameField()
    code = TextField(max_length=64, help_text="The enrolment code an admin passed on.")
    password = TextField(
        max_length=1024,
        trim_whitespace=False,
        help_text="The password you choose (a new account) or your current one (a reset).",
    )


class EnrolmentSerializer(serializers.Serializer):
    otpauth_uri = serializers.CharField()
    secret = serializers.CharField(help_text="The same secret, base32, to type in by hand.")
    backup_codes = serializers.ListField(child=serializers.CharField())


class EnrolView(PublicView):
    """Redeem an enrolment code: your own TOTP secret and backup codes, shown once."""

    @extend_schema(
        request=EnrolSerializer,
        responses={200: EnrolmentSerializer},
        parameters=[DEVICE_TOKEN_PARAMETER],
    )
    def post(self, request: Request) -> Response:
        body = EnrolSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        enrolment = services.enrolment_redeem(
            request=request._request,
            username=body.validated_data["username"],
            code=body.validated_data["code"],
            password=body.validated_data["password"],
            device_token=request.headers.get(DEVICE_TOKEN_HEADER),
        )
        return Response(EnrolmentSerializer(enrolment).data)


class EnrolConfirmSerializer(EnrolSerializer):
    otp = TextField(max_length=MAX_CODE_LENGTH, help_text="A current code of the new app.")


class EnrolConfirmView(PublicView):
    """Confirm the new authenticator with a first code: the enrolment ends and you are logged
    in."""

    @extend_schema(
        request=EnrolConfirmSerializer,
        responses={200: LoginResponseSerializer},
        parameters=[DEVICE_TOKEN_PARAMETER],
    )
    def post(self, request: Request) -> Response:
        body = EnrolConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.enrolment_confirm(
            request=request._request,
            username=body.validated_data["username"],
            code=body.validated_data["code"],
            password=body.validated_data["password"],
            otp=body.validated_data["otp"],
            device_token=request.headers.get(DEVICE_TOKEN_HEADER),
        )
        return _logged_in(issued)


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


class PasswordSerializer(StrictInputMixin, serializers.Serializer):
    current_password = TextField(max_length=1024, trim_whitespace=False)
    new_password = TextField(max_length=1024, trim_whitespace=False)
    otp = TextField(max_length=MAX_CODE_LENGTH)


class PasswordView(APIView):
    """Change your own password: your current one and a fresh code. Every other token of yours
    and every device token ends."""

    @extend_schema(
        request=PasswordSerializer,
        responses=inline_serializer("PasswordChanged", {"revoked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        body = PasswordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revoked = services.password_change(
            token=request.auth,
            user=request.user,
            current_password=body.validated_data["current_password"],
            new_password=body.validated_data["new_password"],
            otp=body.validated_data["otp"],
        )
        return Response({"revoked": revoked})


class TokenSerializer(serializers.ModelSerializer):
    expiry = serializers.DateTimeField(source="token.expiry")
    current = serializers.SerializerMethodField()

    class Meta:
        model = TokenRecord
        fields = ["id", "issued_at", "issued_from", "client", "last_used_at", "expiry", "current"]
        read_only_fields = fields

    def get_current(self, record: TokenRecord) -> bool:
        return record.token_id == self.context["request"].auth.pk


class TokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your own API tokens (never the secret): when, from where and which client each was
    issued, when it was last used. End any of them."""

    serializer_class = TokenSerializer

    def get_queryset(self) -> QuerySet[TokenRecord]:
        if getattr(self, "swagger_fake_view", False):  # the schema, drawn with no caller
            return TokenRecord.objects.none()
        return tokens_of(self.request.user)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        services.token_revoke(token=self.get_object().token, reason="ended by its owner")
        return Response(status=status.HTTP_204_NO_CONTENT)
