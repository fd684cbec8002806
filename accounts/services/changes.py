"""Admin writes through the API, under four eyes.

Granting `caseworker`, `coordinator` or `admin` (roles that open personal data or money, or
that make more admins), reactivating an account, and resetting the second factor of an account
holding one of those roles take effect only when a second admin approves the pending change:
not the admin who asked, not the account's creator, not its holder. Taking access away
(removing a role, deactivating, revoking tokens) applies at once.

This holds whenever two or more admins were active within STAFF_FOUR_EYES_WINDOW_DAYS: an
account counts if it was active and held the admin role at any time in the window, so
deactivating or demoting the only other admin does not leave one admin acting alone. With a
single admin in the window the change applies at once, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import EnrolmentCode, StaffChange, User, normalize_username
from accounts.roles import Role
from accounts.services.enrolment import IssuedEnrolmentCode, enrolment_code_issue
from accounts.services.staff import (
    lock_admin_membership,
    lock_staff_row,
    roles_apply,
    roles_checked,
    second_factor_reset_with_code,
    staff_reactivate,
)
from audit import writes
from common.exceptions import InvariantViolation

# Roles that open personal data or money, or make more admins: granted only under four eyes.
GUARDED_ROLES = frozenset({Role.CASEWORKER, Role.COORDINATOR, Role.ADMIN})


@dataclass(frozen=True)
class StaffOutcome:
    """What an admin write did: the account as it is now, the change it made or that now waits
    for a second admin, and an enrolment code when one was issued (shown once)."""

    staff: User
    change: StaffChange | None = None
    enrolment: IssuedEnrolmentCode | None = None


def admins_active_in_window() -> int:
    """Accounts that were active and held the admin role at some time in the last
    STAFF_FOUR_EYES_WINDOW_DAYS: the admins now, and those who stopped being one since."""
    since = timezone.now() - settings.STAFF_FOUR_EYES_WINDOW
    admins = User.objects.filter(
        Q(is_active=True, groups__name=Role.ADMIN) | Q(admin_ended_at__gte=since)
    )
    return admins.values("pk").distinct().count()


def four_eyes_in_force() -> bool:
    return admins_active_in_window() >= 2


def change_note(change: StaffChange) -> str:
    """What the change's response tells the admin, in a sentence."""
    if change.status == StaffChange.Status.PENDING:
        return _("This waits for another admin's approval (staff/changes/%(id)s/approve/).") % {
            "id": change.pk
        }
    if change.status == StaffChange.Status.REJECTED:
        return _("This change was rejected and nothing was done.")
    if not change.four_eyes:
        return _(
            "Only one admin has been active in the last %(days)s days, so this took effect "
            "without a second admin's approval. Appoint a second admin: from then on such "
            "changes wait for one."
        ) % {"days": settings.STAFF_FOUR_EYES_WINDOW.days}
    return _("A second admin approved this change and it took effect.")


def _request(
    *, kind: str, target: User, actor: User, roles: Iterable[str] = ()
) -> tuple[StaffChange, IssuedEnrolmentCode | None]:
    """Record the change, pending or (with one admin in the window) applied at once. The
    target's row is locked by the caller."""
    pending = StaffChange.objects.filter(
        target=target, kind=kind, status=StaffChange.Status.PENDING
    ).first()
    if pending is not None:
        raise InvariantViolation(
            _(
                "A change of this kind already waits for approval on this account (%(id)s): "
                "approve or reject it first."
            )
            % {"id": pending.pk}
        )
    four_eyes = four_eyes_in_force()
    change = StaffChange.objects.create(
        kind=kind,
        target=target,
        roles=sorted(roles),
        requested_by=actor,
        four_eyes=four_eyes,
        status=StaffChange.Status.PENDING if four_eyes else StaffChange.Status.APPLIED,
        decided_at=None if four_eyes else timezone.now(),
    )
    return change, (None if four_eyes else _apply(change, issued_by=actor))


def _apply(change: StaffChange, *, issued_by: User) -> IssuedEnrolmentCode | None:
    target = change.target
    if change.kind == StaffChange.Kind.GRANT_ROLES:
        # Only adds: no admin can be lost, so the admin role's row needs no lock.
        target.groups.add(*Group.objects.filter(name__in=change.roles))
        target._roles = None
    elif change.kind == StaffChange.Kind.REACTIVATE:
        staff_reactivate(user=target)
    else:
        return second_factor_reset_with_code(user=target, issued_by=issued_by)
    return None


@writes.atomic
def staff_create_by_admin(*, username: str, roles: Iterable[str], actor: User) -> StaffOutcome:
    """A new account with no password and no second factor: its holder sets both by redeeming
    the enrolment code returned. Guarded roles wait for a second admin (who is never this
    account's creator); the others apply now."""
    chosen = set(roles_checked(roles))
    user = User(username=normalize_username(username), created_by=actor)
    user.full_clean(exclude=["password"])
    user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name__in=chosen - GUARDED_ROLES))
    user._roles = None
    change = None
    if chosen & GUARDED_ROLES:
        change, _code = _request(
            kind=StaffChange.Kind.GRANT_ROLES,
            target=user,
            actor=actor,
            roles=chosen & GUARDED_ROLES,
        )
    enrolment = enrolment_code_issue(
        user=user, purpose=EnrolmentCode.Purpose.NEW_ACCOUNT, issued_by=actor
    )
    return StaffOutcome(staff=_fresh(user), change=change, enrolment=enrolment)


@writes.atomic
def staff_roles_request(*, user: User, roles: Iterable[str], actor: User) -> StaffOutcome:
    """Set `user`'s roles to `roles`: removals and unguarded roles now, guarded grants as a
    change. No admin changes their own roles."""
    if actor.pk == user.pk:
        raise PermissionDenied(_("Another admin must change your roles."))
    chosen = set(roles_checked(roles))
    # The roles are read under the locks roles_apply takes too (in its order), so a
    # concurrent change cannot slip between reading them and deciding what to grant.
    lock_admin_membership()
    user = lock_staff_row(user)
    current = set(user.roles)
    grant = (chosen - current) & GUARDED_ROLES
    now = chosen - grant
    if now != current:
        user = roles_apply(user=user, roles=now)
    change = None
    if grant:
        change, _code = _request(
            kind=StaffChange.Kind.GRANT_ROLES, target=user, actor=actor, roles=grant
        )
    return StaffOutcome(staff=_fresh(user), change=change)


@writes.atomic
def staff_reactivate_request(*, user: User, actor: User) -> StaffOutcome:
    user = lock_staff_row(user)
    if user.is_active:
        raise InvariantViolation(_("This account is active already."))
    change, _code = _request(kind=StaffChange.Kind.REACTIVATE, target=user, actor=actor)
    return StaffOutcome(staff=_fresh(user), change=change)


@writes.atomic
def second_factor_reset_request(*, user: User, actor: User) -> StaffOutcome:
    """Reset now (an enrolment code returned) for an account holding no guarded role;
    otherwise a change for a second admin, whose approval returns the code."""
    user = lock_staff_row(user)
    if user.roles & GUARDED_ROLES:
        change, enrolment = _request(
            kind=StaffChange.Kind.RESET_SECOND_FACTOR, target=user, actor=actor
        )
        return StaffOutcome(staff=_fresh(user), change=change, enrolment=enrolment)
    enrolment = second_factor_reset_with_code(user=user, issued_by=actor)
    return StaffOutcome(staff=_fresh(user), enrolment=enrolment)


@writes.atomic
def staff_change_approve(*, change: StaffChange, actor: User) -> StaffOutcome:
    """The second admin's yes: the change takes effect now."""
    target = lock_staff_row(change.target)
    change = StaffChange.objects.select_for_update().select_related("target").get(pk=change.pk)
    if change.status != StaffChange.Status.PENDING:
        raise InvariantViolation(
            _("This change is %(status)s: only a pending change can be approved.")
            % {"status": change.status}
        )
    if actor.pk in {change.requested_by_id, change.target_id, target.created_by_id}:
        raise PermissionDenied(
            _(
                "A second admin must approve this: not the admin who asked for it, nor the "
                "account's creator or holder."
            )
        )
    change.status = StaffChange.Status.APPLIED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    enrolment = _apply(change, issued_by=actor)
    return StaffOutcome(staff=_fresh(target), change=change, enrolment=enrolment)


@writes.atomic
def staff_change_reject(*, change: StaffChange, actor: User, reason: str = "") -> StaffOutcome:
    """Any admin's no, the one who asked included (a withdrawal): nothing is done."""
    target = lock_staff_row(change.target)
    change = StaffChange.objects.select_for_update().get(pk=change.pk)
    if change.status != StaffChange.Status.PENDING:
        raise InvariantViolation(
            _("This change is %(status)s: only a pending change can be rejected.")
            % {"status": change.status}
        )
    change.status = StaffChange.Status.REJECTED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.reason = reason
    change.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    return StaffOutcome(staff=_fresh(target), change=change)


def _fresh(user: User) -> User:
    return User.objects.prefetch_related("groups").get(pk=user.pk)
