"""Writes on staff accounts that apply at once: creating from the command line, setting roles,
deactivating, reactivating, resetting a second factor, changing one's own password.

Lock order: the admin role's row (when the change could leave no admin), then the staff
member's row, then the rows that hang off it (changes, devices, tokens).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from accounts.models import EnrolmentCode, User, normalize_username
from accounts.roles import Role
from accounts.second_factor import Enrolment, second_factor_enrol, second_factor_remove
from accounts.services.enrolment import (
    IssuedEnrolmentCode,
    enrolment_code_issue,
    enrolment_codes_withdraw,
)
from accounts.services.step_up import step_up_verify
from accounts.services.tokens import tokens_revoke_all
from accounts.signals import staff_rights_reduced
from audit import writes
from common.exceptions import InvariantViolation


def roles_checked(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    unknown = [role for role in chosen if role not in Role.values]
    if unknown or not chosen:
        raise ValueError(f"Roles must be chosen from {', '.join(Role.values)}.")
    return chosen


def lock_admin_membership() -> None:
    """Every change that could leave the programme without an admin (a demotion, a
    deactivation) first locks the admin role's row, before any other row: they queue one
    behind the other and cannot deadlock, and the check that follows, a fresh statement, sees
    what the one before committed."""
    Group.objects.select_for_update().get(name=Role.ADMIN)


def lock_staff_row(user: User) -> User:
    """Lock the staff member's row exclusively before a right is taken away: anything that
    acts on the strength of that right (an approval, a payment) holds the same row with a
    shared lock, so it either finishes first or sees the right gone."""
    return User.objects.select_for_update().get(pk=user.pk)


def _ensure_another_admin_remains(user: User) -> None:
    admins = User.objects.filter(is_active=True, groups__name=Role.ADMIN)
    if user.has_role(Role.ADMIN) and not admins.exclude(pk=user.pk).exists():
        raise InvariantViolation(_("This is the last active admin; appoint another one first."))


def _admin_tenure_ends(user: User) -> None:
    """An active admin stops being one: remembered for the four-eyes window."""
    user.admin_ended_at = timezone.now()
    user.save(update_fields=["admin_ended_at"])


@writes.atomic
def staff_create(*, username: str, roles: Iterable[str], password: str) -> tuple[User, Enrolment]:
    """Create a staff member with their roles and a second factor enrolled, for the server's
    command line (the bootstrap of the first admin): the secret is returned to print."""
    chosen = roles_checked(roles)
    user = User(username=normalize_username(username))
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=chosen))
    return user, second_factor_enrol(user=user)


def roles_apply(*, user: User, roles: Iterable[str]) -> User:
    """Set `user`'s roles to exactly `roles` (possibly none) now, in the caller's transaction
    and after its locks. Sends `staff_rights_reduced` when a role is taken away."""
    chosen = set(roles)
    if Role.ADMIN not in chosen:
        lock_admin_membership()
        _ensure_another_admin_remains(user)
    user = lock_staff_row(user)
    removed = sorted(user.roles - chosen)
    # Before the first audited write (see accounts.signals): receivers lock money rows.
    if removed:
        staff_rights_reduced.send(
            sender=User, user=user, reason="roles_removed", roles_removed=removed
        )
    user.groups.set(Group.objects.filter(name__in=chosen))
    if Role.ADMIN in removed and user.is_active:
        _admin_tenure_ends(user)
    user._roles = None
    return user


@writes.atomic
def staff_set_roles(*, user: User, roles: Iterable[str], actor: User | None = None) -> User:
    """Set the roles at once, with no second admin (the command line, and an approved change).
    `actor` (an admin asking) may not change their own roles: granting oneself a role that
    reads personal data or approves money takes a second admin."""
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied(_("Another admin must change your roles."))
    return roles_apply(user=user, roles=roles_checked(roles))


@writes.atomic
def staff_deactivate(*, user: User) -> User:
    """The panic button: the account stops working and every token it holds dies now."""
    lock_admin_membership()
    user = lock_staff_row(user)
    if user.is_active:
        _ensure_another_admin_remains(user)
        staff_rights_reduced.send(sender=User, user=user, reason="deactivated", roles_removed=[])
        user.is_active = False
        user.save(update_fields=["is_active"])
        if Role.ADMIN in user.roles:
            _admin_tenure_ends(user)
    tokens_revoke_all(user=user, reason="deactivated")
    return user


@writes.atomic
def staff_reactivate(*, user: User) -> User:
    """Switch the account back on (the command line, and an approved change)."""
    user = lock_staff_row(user)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def _second_factor_withdraw(user: User) -> User:
    user = lock_staff_row(user)
    staff_rights_reduced.send(
        sender=User, user=user, reason="second_factor_reset", roles_removed=[]
    )
    second_factor_remove(user=user)
    enrolment_codes_withdraw(user=user)
    tokens_revoke_all(user=user, reason="second factor reset")
    return user


@writes.atomic
def second_factor_reset(*, user: User) -> Enrolment:
    """A lost or seized authenticator, from the server's command line: a new TOTP secret and
    backup codes, returned to print, and every token the old device may have helped obtain is
    revoked."""
    user = _second_factor_withdraw(user)
    return second_factor_enrol(user=user)


@writes.atomic
def second_factor_reset_with_code(*, user: User, issued_by: User | None) -> IssuedEnrolmentCode:
    """A lost or seized authenticator, through the API: the old devices and every token die
    now, and the staff member enrols a new authenticator with the code returned (with their
    current password; an account that never enrolled chooses one)."""
    user = _second_factor_withdraw(user)
    purpose = EnrolmentCode.Purpose.RESET
    if not user.has_usable_password():
        purpose = EnrolmentCode.Purpose.NEW_ACCOUNT
    return enrolment_code_issue(user=user, purpose=purpose, issued_by=issued_by)


def password_change(
    *, token: AuthToken, user: User, current_password: str, new_password: str, otp: str
) -> int:
    """Change one's own password with the current one and a fresh code (a step-up: wrong ones
    count against the token, so a stolen token cannot guess the password here). Every other
    API token and every device token is revoked; returns how many API tokens were."""
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    step_up_verify(token=token, user=user, code=otp, password=current_password)
    with transaction.atomic():
        user = lock_staff_row(user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        return tokens_revoke_all(user=user, reason="password changed", keep=token)
