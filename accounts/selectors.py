"""Reads of staff accounts, their changes and their tokens."""

from __future__ import annotations

from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import EnrolmentCode, SealedTOTPDevice, StaffChange, TokenRecord, User


def staff_list() -> QuerySet[User]:
    return User.objects.prefetch_related("groups").order_by("username")


def staff_overview() -> QuerySet[User]:
    """The staff list for the admins' page, in a fixed number of queries: each account with
    `second_factor` (a confirmed authenticator) and `enrolment_open` (an enrolment code issued
    and neither spent, withdrawn nor expired) annotated."""
    now = timezone.now()
    return staff_list().annotate(
        second_factor=Exists(SealedTOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        enrolment_open=Exists(
            EnrolmentCode.objects.filter(
                user=OuterRef("pk"),
                confirmed_at__isnull=True,
                withdrawn_at__isnull=True,
                expires_at__gt=now,
            )
        ),
    )


def live_token_count(user: User) -> int:
    """How many unexpired API tokens (browser sessions included) `user` holds."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).count()


def live_token(*, digest: str) -> AuthToken | None:
    """The token with this digest (knox's SHA-512 of it), if it is unexpired and its owner
    active, with the owner and their roles loaded; None otherwise. Revocation, logout-all,
    deactivation and a second-factor reset all delete or disable what this looks for."""
    return (
        AuthToken.objects.select_related("user")
        .prefetch_related("user__groups")
        .filter(digest=digest, expiry__gt=timezone.now(), user__is_active=True)
        .first()
    )


def staff_changes() -> QuerySet[StaffChange]:
    """Every change (admins see them all), those waiting for approval first."""
    waiting_first = Case(
        When(status=StaffChange.Status.PENDING, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return StaffChange.objects.select_related("target", "requested_by", "decided_by").order_by(
        waiting_first, "-requested_at", "id"
    )


def tokens_of(user: User) -> QuerySet[TokenRecord]:
    """The caller's own live API tokens, newest first; nobody else's."""
    return (
        TokenRecord.objects.filter(token__user=user, token__expiry__gt=timezone.now())
        .select_related("token")
        .order_by("-issued_at", "id")
    )
