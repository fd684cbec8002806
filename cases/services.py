"""Writes on cases: open, correct, move through the workflow, assign, erase; needs and notes.

Each is one transaction that locks the case row first (so two coordinators acting at once are
serialised), checks the rule, writes, and leaves its audit entries in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from knox.models import AuthToken

from accounts.models import User
from accounts.roles import Role
from accounts.services import step_up_verify
from audit import writes
from audit.events import record_event
from audit.models import Action
from cases.models import (
    ENDED_STATUSES,
    Case,
    CaseAssignment,
    CaseMember,
    Need,
    Note,
    Relationship,
    TimelineEntry,
    new_reference,
)
from cases.signals import case_ending, case_ending_locks
from cases.workflow import may_transition, transitions_open_to
from common.exceptions import DomainError, InvariantViolation, NotFound
from encryption.services import data_key_destroy, data_key_issue
from people.models import Person
from people.services import person_create, person_shred

CASE_FIELDS = (
    "risk_level",
    "summary",
    "location",
    "safe_contact",
    "protection_concerns",
    "consent_to_store",
    "consent_to_share",
    "consent_given_on",
)
ERASED_MESSAGE = gettext_lazy("This case was erased; it cannot be changed.")
MAX_MEMBERS = 50  # a household larger than this is a data-entry mistake


class InvalidInput(DomainError):
    """Well-formed JSON that names something unusable (a caseworker who is not one)."""

    status_code = 400
    code = "invalid"


@dataclass(frozen=True)
class Member:
    person: Person
    relationship: str


def _locked(case: Case) -> Case:
    case = Case.objects.select_related("data_key").select_for_update(of=("self",)).get(pk=case.pk)
    if case.erased:
        raise InvariantViolation(ERASED_MESSAGE)
    return case


def _lock_people(person_ids: Iterable[object]) -> list[Person]:
    """Lock people rows in one fixed order (by id), so erasures and household changes that
    share a person queue behind each other instead of deadlocking or racing."""
    return list(
        Person.objects.select_for_update()
        .filter(pk__in=sorted(set(person_ids), key=str))
        .order_by("pk")
    )


@dataclass(frozen=True)
class MemberChange:
    person_id: Any
    before: str  # the relationship before ("" when the person was not on the household)
    after: str  # the relationship after ("" when the person was taken off)


def _set_members(case: Case, primary: Person, members: Sequence[Member]) -> list[MemberChange]:
    """Make the household exactly `primary` and `members`; the changes made, in order."""
    wanted = {primary.pk: Relationship.PRIMARY}
    for member in members:
        if member.person.pk != primary.pk:
            wanted[member.person.pk] = member.relationship
    # Checked under the people's locks: an erasure committed since the request was validated
    # must not see its person put on an open case.
    if any(person.erased for person in _lock_people(wanted)):
        raise InvariantViolation(_("A person on this household was erased in the meantime."))
    now, changes = timezone.now(), []
    for existing in list(case.memberships.all()):
        before = "" if existing.removed_at is not None else existing.relationship
        relationship = wanted.pop(existing.person_id, None)
        if relationship is None:
            if existing.removed_at is None:
                existing.removed_at = now
                existing.save(update_fields=["removed_at"])
                changes.append(MemberChange(existing.person_id, before, ""))
        elif before != relationship:
            existing.relationship, existing.removed_at = relationship, None
            existing.save(update_fields=["relationship", "removed_at"])
            changes.append(MemberChange(existing.person_id, before, relationship))
    for person_id, relationship in wanted.items():
        CaseMember.objects.create(case=case, person_id=person_id, relationship=relationship)
        changes.append(MemberChange(person_id, "", relationship))
    return changes


def _record_member_changes(
    case: Case, actor: User, changes: Iterable[MemberChange], reason: str | None = None
) -> None:
    for change in changes:
        if not change.before:
            kind = TimelineEntry.Kind.MEMBER_ADDED
        elif not change.after:
            kind = TimelineEntry.Kind.MEMBER_REMOVED
        else:
            kind = TimelineEntry.Kind.MEMBER_CHANGED
        TimelineEntry.objects.create(
            case=case,
            kind=kind,
            from_value=change.before,
            to_value=change.after,
            person_id=change.person_id,
            reason=reason,
            actor=actor,
        )


def _insert_with_a_free_reference(case: Case, attempts: int = 5) -> None:
    """References are random, so two can collide (rarely: 31^6 of them): draw again."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():  # a savepoint: the outer transaction survives a clash
                case.save(force_insert=True)
            return
        except IntegrityError:
            taken = Case.objects.filter(reference=case.reference).exists()
            if not taken or attempt == attempts - 1:
                raise
            case.reference = new_reference()


@writes.atomic
def case_create(
    *,
    created_by: User,
    primary_person: Person,
    members: Sequence[Member] = (),
    **fields: Any,
) -> Case:
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"Not case fields: {sorted(unknown)}")
    case = Case(created_by=created_by, primary_person=primary_person, **fields)
    case.data_key = data_key_issue(owner=case)
    _insert_with_a_free_reference(case)
    _set_members(case, primary_person, members)
    if created_by.has_role(Role.CASEWORKER):  # the caseworker who opens it works on it
        CaseAssignment.objects.create(case=case, user=created_by, assigned_by=created_by)
    return case


@writes.atomic
def case_open_for_new_person(
    *, created_by: User, person_fields: dict[str, Any], case_fields: dict[str, Any]
) -> Case:
    """Intake in one transaction: record the caller (`people.services.person_create` with
    `person_fields`, personal fields of a Person) and open their case (`case_create` with
    `case_fields`, names from CASE_FIELDS). Either both exist afterwards or neither does."""
    person = person_create(created_by=created_by, **person_fields)
    return case_create(created_by=created_by, primary_person=person, **case_fields)


@writes.atomic
def case_member_record(
    *,
    case: Case,
    actor: User,
    relationship: str,
    reason: str | None = None,
    person_fields: dict[str, Any],
) -> Case:
    """Record someone new (`person_fields`, personal fields of a Person) and put them on
    `case`'s household as `relationship`, in one transaction; the rules are
    `case_member_add`'s (erased case 409, full household 409, primary 400)."""
    # The case first, before the person's row (an audited write) takes the audit chain's lock.
    case = _locked(case)
    person = person_create(created_by=actor, **person_fields)
    return case_member_add(
        case=case, actor=actor, person=person, relationship=relationship, reason=reason
    )


@writes.atomic
def case_update(
    *,
    case: Case,
    actor: User,
    primary_person: Person | None = None,
    **fields: Any,
) -> Case:
    """Correct a case's fields or change its primary person (who joins the household as
    primary; the one replaced stays on it as `other`). The household changes only through
    `case_member_add` and `case_member_remove`, on purpose."""
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"Not case fields: {sorted(unknown)}")
    case = _locked(case)
    old_risk = case.risk_level
    for name, value in fields.items():
        setattr(case, name, value)
    if primary_person is not None:
        case.primary_person = primary_person
    case.save()
    if primary_person is not None:
        # The household stays; a replaced primary person stays on it too, as `other`.
        members = [
            Member(
                person=m.person,
                relationship=Relationship.OTHER
                if m.relationship == Relationship.PRIMARY
                else m.relationship,
            )
            for m in case.memberships.current().select_related("person")
        ]
        _record_member_changes(case, actor, _set_members(case, case.primary_person, members))
    if case.risk_level != old_risk:
        TimelineEntry.objects.create(
            case=case,
            kind=TimelineEntry.Kind.RISK,
            from_value=old_risk,
            to_value=case.risk_level,
            reason=None,
            actor=actor,
        )
    return case


@writes.atomic
def case_transition(*, case: Case, actor: User, to: str, reason: str) -> Case:
    """Move the case along the workflow. Ending it (closed, rejected, withdrawn) goes through the
    `cases.signals` hooks: the money on it is locked first, and may refuse the move."""
    ending = to in ENDED_STATUSES
    if ending:
        case_ending_locks.send(sender=Case, case=case, actor=actor, to=to)
    case = _locked(case)
    if not may_transition(actor, case.status, to):
        allowed = transitions_open_to(actor, case.status)
        values = {"status": case.status, "to": to, "allowed": ", ".join(allowed)}
        message = (
            _("A case in %(status)s cannot move to %(to)s by you; allowed: %(allowed)s.")
            if allowed
            else _("A case in %(status)s cannot move to %(to)s; no move is open to you.")
        )
        raise InvariantViolation(message % values, extra={"allowed": allowed})
    if ending:
        case_ending.send(sender=Case, case=case, actor=actor, to=to)
    TimelineEntry.objects.create(
        case=case,
        kind=TimelineEntry.Kind.STATUS,
        from_value=case.status,
        to_value=to,
        reason=reason,
        actor=actor,
    )
    case.status = to
    case.save(update_fields=["status", "updated_at"])
    return case


@writes.atomic
def case_assign(*, case: Case, actor: User, caseworkers: Iterable[User]) -> Case:
    """The case's caseworkers become exactly `caseworkers`; each one added or taken off is a
    timeline entry. Someone removed loses access on their very next request: scope is read from
    these rows at every request. A case that is not over keeps at least one caseworker: a
    critical case must never be left with nobody (409)."""
    case = _locked(case)
    wanted = {user.pk: user for user in caseworkers}
    for user in wanted.values():
        if not (user.is_active and user.has_role(Role.CASEWORKER)):
            raise InvalidInput(
                _("%(username)s is not an active caseworker.") % {"username": user.username}
            )
    if not wanted and case.status not in ENDED_STATUSES:
        raise InvariantViolation(
            _(
                "A case that is not closed, rejected or withdrawn needs a caseworker: name "
                "at least one (end the case first to leave it with nobody)."
            )
        )
    for assignment in list(case.assignments.select_related("user")):
        if wanted.pop(assignment.user_id, None) is None:
            assignment.delete()
            _record_assignment(case, actor, assignment.user, TimelineEntry.Kind.UNASSIGNED)
    for user in wanted.values():
        CaseAssignment.objects.create(case=case, user=user, assigned_by=actor)
        _record_assignment(case, actor, user, TimelineEntry.Kind.ASSIGNED)
    case.save(update_fields=["updated_at"])
    return case


def _record_assignment(case: Case, actor: User, caseworker: User, kind: str) -> None:
    TimelineEntry.objects.create(
        case=case,
        kind=kind,
        from_value="",
        to_value="",
        caseworker=caseworker,
        reason=None,
        actor=actor,
    )


@writes.atomic
def case_member_add(
    *,
    case: Case,
    actor: User,
    person: Person,
    relationship: str,
    reason: str | None = None,
) -> Case:
    """Put `person` on the household (again, if they were taken off: the same row comes back,
    and with it the caseworkers' access to them). 409 if they are on it already, were erased,
    or the household is full."""
    case = _locked(case)
    if relationship == Relationship.PRIMARY:
        raise InvalidInput(_("A case has one primary person; change it with PATCH."))
    locked = _lock_people([person.pk])
    if not locked or locked[0].erased:
        raise InvariantViolation(_("This person was erased."))
    person = locked[0]
    existing = case.memberships.filter(person=person).first()
    if existing is not None and existing.removed_at is None:
        raise InvariantViolation(_("This person is on the household already."))
    if case.memberships.current().count() >= MAX_MEMBERS:
        raise InvariantViolation(
            _("A household holds at most %(most)s people.") % {"most": MAX_MEMBERS}
        )
    if existing is None:
        CaseMember.objects.create(case=case, person=person, relationship=relationship)
    else:
        existing.relationship, existing.removed_at = relationship, None
        existing.save(update_fields=["relationship", "removed_at"])
    _record_member_changes(case, actor, [MemberChange(person.pk, "", relationship)], reason)
    case.save(update_fields=["updated_at"])
    return case


@writes.atomic
def case_member_remove(*, case: Case, actor: User, person_id: Any, reason: str) -> Case:
    """Take someone off the household, with a reason (sealed on the timeline). The row stays,
    marked removed: the person stays linked to the case for its erasure, and the timeline
    names them so the case's caseworkers can put them back. 404 if they are not on it."""
    case = _locked(case)
    _lock_people([person_id])
    membership = case.memberships.current().filter(person_id=person_id).first()
    if membership is None:
        raise NotFound(_("This person is not on the household."))
    if membership.relationship == Relationship.PRIMARY:
        raise InvariantViolation(
            _("The primary person stays on the case; make someone else primary first.")
        )
    membership.removed_at = timezone.now()
    membership.save(update_fields=["removed_at"])
    change = MemberChange(person_id, membership.relationship, "")
    _record_member_changes(case, actor, [change], reason)
    case.save(update_fields=["updated_at"])
    return case


def case_erase(*, case: Case, actor: User, token: AuthToken, otp: str) -> Case:
    """Erase a case for `actor`, who proves it is them with a fresh authenticator code.

    `otp` must be a current TOTP code of `actor`'s not used before (step-up, as for approving
    money: `accounts.services.step_up_verify`, the wrong ones counted against `token`, the
    token the request came with). Raises StepUpFailed (403) for a wrong code,
    StepUpTokenRevoked (401) when that failure revokes `token`, InvariantViolation (409) if the
    case was erased already. The code is checked before, and outside, the erasure's
    transaction, so a wrong one stays counted. Then `case_shred`.
    """
    step_up_verify(token=token, user=actor, code=otp)
    return case_shred(case=case, actor=actor)


@writes.atomic
def case_shred(*, case: Case, actor: User) -> Case:
    """Crypto-shred the case (its fields, needs, notes and timeline reasons are sealed under its
    key) and those of its people who are on no other case still open, and end its assignments.
    Money records stay, pseudonymous, with the case reference. The `cases.signals` hooks run
    first (funds cancels the requests still waiting for approval, while the key can still seal
    their reasons).

    No step-up: this is the erasure itself, for `case_erase`. A view or an API action calls
    `case_erase`."""
    case_ending_locks.send(sender=Case, case=case, actor=actor, to=None)
    case = _locked(case)
    # Everyone ever on the household (people taken off it included), locked before deciding:
    # a concurrent erasure of another case they share, or a household change adding them,
    # waits here, and then sees this case erased. Locked before the first audited write, too:
    # that write holds the audit chain's lock to the end, and a person being edited meanwhile
    # (holding the person, wanting the chain) would deadlock with us.
    member_ids = list(case.memberships.values_list("person_id", flat=True))
    people = [person for person in _lock_people(member_ids) if not person.erased]
    case_ending.send(sender=Case, case=case, actor=actor, to=None)
    for name in ("summary", "location", "safe_contact", "protection_concerns"):
        setattr(case, name, None)
    case.erased_at = timezone.now()
    case.save()
    data_key_destroy(data_key=case.data_key)
    record_event(action=Action.ERASED, instance=case, actor=actor)
    # Nobody works on an erased case: it leaves every caseworker's list and queue (the
    # assignments' deletions are in the audit log).
    for assignment in list(case.assignments.all()):
        assignment.delete()
    kept = set(
        CaseMember.objects.current()
        .filter(person_id__in=member_ids, case__erased_at__isnull=True)
        .exclude(case=case)
        .exclude(case__status__in=ENDED_STATUSES)
        .values_list("person_id", flat=True)
    )
    for person in people:
        if person.pk not in kept:
            person_shred(person=person, actor=actor)
    return case


@writes.atomic
def need_create(
    *,
    case: Case,
    created_by: User,
    category: str,
    description: str | None = None,
    urgency: str | None = None,
    estimated_cost: Decimal | None = None,
    currency: str = "",
) -> Need:
    case = _locked(case)
    need = Need(
        case=case,
        created_by=created_by,
        category=category,
        description=description,
        estimated_cost=estimated_cost,
        currency=currency,
    )
    if urgency:
        need.urgency = urgency
    need.save()
    return need


@writes.atomic
def need_update(*, need: Need, **fields: Any) -> Need:
    allowed = {"category", "description", "urgency", "status", "estimated_cost", "currency"}
    if set(fields) - allowed:
        raise TypeError(f"Not need fields: {sorted(set(fields) - allowed)}")
    _locked(need.case)
    need = Need.objects.select_related("case__data_key").get(pk=need.pk)
    for name, value in fields.items():
        setattr(need, name, value)
    need.save()
    return need


@writes.atomic
def note_create(*, case: Case, author: User, body: str) -> Note:
    case = _locked(case)
    return Note.objects.create(case=case, author=author, body=body)
