"""Writes on people: record, correct, erase, and the audited duplicate check. Each is one
transaction with its audit entries."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from knox.models import AuthToken

from accounts.models import User
from accounts.services import step_up_verify
from audit import writes
from audit.events import record_event
from audit.models import Action
from common.exceptions import InvariantViolation
from encryption.lookups import lookup_key_current
from encryption.opened import unshown
from encryption.services import data_key_destroy, data_key_issue
from people.lookups import lookup_digests
from people.models import PERSONAL_FIELDS, Person
from people.selectors import DuplicateCheck, people_duplicates

ERASED_MESSAGE = gettext_lazy("This person was erased; their record cannot be changed.")


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(PERSONAL_FIELDS)
    if unknown:
        raise TypeError(f"Not personal fields of a person: {sorted(unknown)}")


@writes.atomic
def person_create(*, created_by: User, **fields: Any) -> Person:
    _check_fields(fields)
    person = Person(created_by=created_by, **fields)
    person.data_key = data_key_issue(owner=person)
    person.save()
    return person


@writes.atomic
def person_update(*, person: Person, **fields: Any) -> Person:
    _check_fields(fields)
    person = Person.objects.with_keys().select_for_update(of=("self",)).get(pk=person.pk)
    if person.erased:
        raise InvariantViolation(ERASED_MESSAGE)
    for name, value in fields.items():
        setattr(person, name, value)
    # Checked again under the row lock: two corrections that each clear one name must not
    # leave the person with none.
    with unshown():  # opened for this check only, never returned
        named = bool(person.full_name or person.preferred_name)
    if not named:
        raise InvariantViolation(_("A person needs a full name or a preferred name."))
    person.save()
    return person


def person_erase(*, person: Person, actor: User, token: AuthToken, otp: str) -> Person:
    """Erase a person for `actor`, who proves it is them with a fresh authenticator code.

    `otp` must be a current TOTP code of `actor`'s not used before (step-up, as for approving
    money: `accounts.services.step_up_verify`, the wrong ones counted against `token`, the
    token the request came with). Raises StepUpFailed (403) for a wrong code,
    StepUpTokenRevoked (401) when that failure revokes `token`, InvariantViolation (409) if the
    person was erased already. The code is checked before, and outside, the erasure's
    transaction, so a wrong one stays counted. Then `person_shred`.
    """
    step_up_verify(token=token, user=actor, code=otp)
    return person_shred(person=person, actor=actor)


@writes.atomic
def person_shred(*, person: Person, actor: User | None) -> Person:
    """Crypto-shred a person: their data key is destroyed, so every copy of their fields (in
    this database, its replicas, old rows) stops opening; the live fields and blind indexes are
    cleared too. The row stays, so cases and money records that point to it stay whole.

    No step-up: this is the erasure itself, for `person_erase` and `case_shred` (the people
    erased with their case). A view or an API action calls `person_erase`."""
    person = Person.objects.with_keys().select_for_update(of=("self",)).get(pk=person.pk)
    if person.erased:
        raise InvariantViolation(_("This person has already been erased."))
    for name in PERSONAL_FIELDS:
        setattr(person, name, None)
    person.erased_at = timezone.now()
    person.save()
    data_key_destroy(data_key=person.data_key)
    record_event(action=Action.ERASED, instance=person, actor=actor)
    return person


@writes.atomic
def person_duplicate_check(*, user: User, criteria: dict[str, str]) -> DuplicateCheck:
    """The people matching `criteria` (see `people_duplicates`), and its `duplicate_check`
    audit entry: who, which kinds of criteria, how many matches, and per criterion a keyed
    digest of the normalised value under today's look-up key, never the value itself."""
    found = people_duplicates(user=user, criteria=criteria)
    key = lookup_key_current()
    record_event(
        action=Action.DUPLICATE_CHECK,
        instance=None,
        model=Person,
        actor=user,
        data={
            "criteria": sorted(criteria),
            "matches": len(found.matches),
            "outside_scope": found.outside_scope,
            "lookup_key": key.period.isoformat(),
            "digests": lookup_digests(criteria, key),
        },
    )
    return found
