"""What the case pages show of a case, a person, a household, needs, notes and a timeline, and
the ACCESS entries that showing writes.

Until the shared disclosure layer exists, this goes through the API's own output serializers
(cases.api, cases.items_api, people.api), which apply today's rules (an erased record shows
nothing, not even who was on it), and writes the same ACCESS entries the API writes for the
same data: a page can show nothing the API hides, and skips no entry. Every function here
writes its entries before returning, so a failure to log means nothing is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accounts.models import User
from audit.events import record_access
from audit.registry import sensitive_fields_of
from cases.api import CASE_SECRETS, PERSON_NAME_FIELDS, CaseSerializer
from cases.items_api import NeedSerializer, NoteSerializer, TimelineEntrySerializer
from cases.models import Case, CaseMember, Need, Note, TimelineEntry
from people.api import PersonSerializer
from people.models import Person


def _name(person: Person) -> str | None:
    return None if person.erased else (person.full_name or person.preferred_name)


def case_rows(*, user: User, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """One row per case of a list: id, reference, status, risk, open needs, assignees and the
    primary person's name (None for an erased case or person). Logs the names shown."""
    rows, named = [], []
    for case in cases:
        person = case.primary_person
        name = None if case.erased else _name(person)
        if name is not None:
            named.append(person)
        rows.append(
            {
                "id": case.pk,
                "reference": case.reference,
                "status": case.status,
                "risk_level": case.risk_level,
                "open_needs": getattr(case, "open_needs", None),
                "assigned_to": sorted(a.user.username for a in case.assignments.all()),
                "updated_at": case.updated_at,
                "person_name": name,
                "erased": case.erased,
            }
        )
    record_access(instances=named, fields=PERSON_NAME_FIELDS, actor=user)
    return rows


def case_shown(*, user: User, case: Case) -> dict[str, Any]:
    """The case as the API's case shows it (secrets None once erased). Logs its secrets."""
    data = CaseSerializer(case).data
    if not case.erased:
        record_access(instances=[case], fields=CASE_SECRETS, actor=user)
    return dict(data)


def household_shown(*, user: User, case: Case) -> list[dict[str, Any]]:
    """Who is on the household now (primary person first): person id, relationship, name.
    An erased case names no one. Logs the names shown."""
    if case.erased:
        return []
    members = (
        CaseMember.objects.current()
        .filter(case=case)
        .select_related("person__data_key")
        .order_by("relationship", "id")
    )
    members = sorted(members, key=lambda m: (m.relationship != "primary", m.relationship, m.pk))
    rows = [
        {
            "person": member.person_id,
            "relationship": member.relationship,
            "name": _name(member.person),
            "erased": member.person.erased,
        }
        for member in members
    ]
    named = [member.person for member in members if not member.person.erased]
    record_access(instances=named, fields=PERSON_NAME_FIELDS, actor=user)
    return rows


def _items(user: User, case: Case, serializer: type, items: list, fields: Any) -> list[dict]:
    data = [
        {**row, "when": getattr(item, "at", None) or getattr(item, "created_at", None)}
        for row, item in zip(serializer(items, many=True).data, items, strict=True)
    ]
    if not case.erased:
        record_access(instances=items, fields=fields, actor=user)
    return data


def needs_shown(*, user: User, case: Case, needs: list[Need]) -> list[dict[str, Any]]:
    fields = set(NeedSerializer().fields) & sensitive_fields_of(Need)
    return _items(user, case, NeedSerializer, needs, fields)


def notes_shown(*, user: User, case: Case, notes: list[Note]) -> list[dict[str, Any]]:
    fields = set(NoteSerializer().fields) & sensitive_fields_of(Note)
    return _items(user, case, NoteSerializer, notes, fields)


def timeline_shown(*, user: User, case: Case, entries: list[TimelineEntry]) -> list[dict[str, Any]]:
    return _items(user, case, TimelineEntrySerializer, entries, ("reason",))


def person_shown(*, user: User, person: Person) -> dict[str, Any]:
    """The person as the API shows them (every personal field None once erased). Logs the
    fields shown."""
    data = dict(PersonSerializer(person).data)
    if not person.erased:
        fields = set(PersonSerializer().fields) & sensitive_fields_of(Person)
        record_access(instances=[person], fields=fields, actor=user)
    return data


def record_match_names(*, user: User, people: Sequence[Person]) -> None:
    """The duplicate check's matches in the caller's scope are shown by name: log that."""
    record_access(
        instances=[person for person in people if not person.erased],
        fields=PERSON_NAME_FIELDS,
        actor=user,
    )
