"""What the case pages show of a case, a person, a household, needs, notes and a timeline:
page-shaped views over the disclosure layer (`cases.disclosure`, `people.disclosure`, see
`audit.disclosure`), which decides what is shown in clear or not at all (an erased record
shows nothing, not even who was on it) and collects what the response revealed; its
middleware writes the ACCESS entries before the page leaves. The API shows the same records
through the same functions, so a page can show nothing the API hides, and skips no entry.

Each function takes the request (whose response's collector is used) and returns plain dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest

from audit.disclosure import disclosure_for
from cases.disclosure import (
    case_disclosed,
    need_disclosed,
    note_disclosed,
    timeline_entry_disclosed,
)
from cases.models import Case, CaseMember, Need, Note, TimelineEntry
from people.disclosure import person_disclosed, person_name_disclosed
from people.models import Person


def case_rows(*, request: HttpRequest, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """One row per case of a list: id, reference, status, risk, open needs, assignees, updated
    time, erased, and the primary person's name (None for an erased case or person). Reveals
    the names shown, nothing else: the list shows no case secret."""
    disclosure = disclosure_for(request)
    return [
        {
            "id": case.pk,
            "reference": case.reference,
            "status": case.status,
            "risk_level": case.risk_level,
            "open_needs": getattr(case, "open_needs", None),
            "assigned_to": sorted(a.user.username for a in case.assignments.all()),
            "updated_at": case.updated_at,
            "erased": case.erased,
            # An erased case names no one (cases.disclosure.case_disclosed's rule).
            "person_name": None
            if case.erased
            else person_name_disclosed(case.primary_person, disclosure=disclosure),
        }
        for case in cases
    ]


def case_shown(*, request: HttpRequest, case: Case) -> dict[str, Any]:
    """The case as `cases.disclosure.case_disclosed` shows it (secrets None once erased)."""
    return case_disclosed(case, disclosure=disclosure_for(request))


def household_shown(*, request: HttpRequest, case: Case) -> list[dict[str, Any]]:
    """Who is on the household now (primary person first): person id, relationship, name
    (None for someone erased), erased. An erased case names no one. Reveals the names shown."""
    if case.erased:
        return []
    disclosure = disclosure_for(request)
    members = CaseMember.objects.current().filter(case=case).select_related("person__data_key")
    members = sorted(members, key=lambda m: (m.relationship != "primary", m.relationship, m.pk))
    return [
        {
            "person": member.person_id,
            "relationship": member.relationship,
            "name": person_name_disclosed(member.person, disclosure=disclosure),
            "erased": member.person.erased,
        }
        for member in members
    ]


def needs_shown(*, request: HttpRequest, needs: list[Need]) -> list[dict[str, Any]]:
    disclosure = disclosure_for(request)
    return [need_disclosed(need, disclosure=disclosure) for need in needs]


def notes_shown(*, request: HttpRequest, notes: list[Note]) -> list[dict[str, Any]]:
    disclosure = disclosure_for(request)
    return [
        {**shown, "when": shown["created_at"]}
        for shown in (note_disclosed(note, disclosure=disclosure) for note in notes)
    ]


def timeline_shown(*, request: HttpRequest, entries: list[TimelineEntry]) -> list[dict[str, Any]]:
    disclosure = disclosure_for(request)
    return [
        {**shown, "when": shown["at"]}
        for shown in (timeline_entry_disclosed(entry, disclosure=disclosure) for entry in entries)
    ]


def person_shown(*, request: HttpRequest, person: Person) -> dict[str, Any]:
    """The person as `people.disclosure.person_disclosed` shows them (all None once erased)."""
    return person_disclosed(person, disclosure=disclosure_for(request))


def match_names(*, request: HttpRequest, people: Sequence[Person]) -> list[dict[str, Any]]:
    """The duplicate check's matches in the caller's scope, by name: [{"id", "name"}]."""
    disclosure = disclosure_for(request)
    return [
        {"id": person.pk, "name": person_name_disclosed(person, disclosure=disclosure)}
        for person in people
    ]
