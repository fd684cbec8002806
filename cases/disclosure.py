"""What a response shows of a case and of its needs, notes and timeline: the disclosure layer
for `cases` (see audit.disclosure).

Who may see a case is the selectors' business (`cases_visible_to`); whoever may see a case sees
its secrets (`CASE_SECRETS`) and its items' sealed text in clear, and each response that shows
them writes ACCESS entries. An erased case shows nothing personal, not even who was on it: its
secrets, primary person and household are empty, its items' sealed text None, and no entry is
written for it (its data key is gone; nothing is opened).
"""

from __future__ import annotations

from typing import Any

from audit.disclosure import Disclosure, govern
from cases.models import Case, Need, Note, TimelineEntry
from people.disclosure import person_name_disclosed

CASE_SECRETS = ("summary", "location", "safe_contact", "protection_concerns")

govern(Case, fields=CASE_SECRETS)
govern(Need, fields=("description",))
govern(Note, fields=("body",))
govern(TimelineEntry, fields=("reason",))


def case_disclosed(
    case: Case, *, disclosure: Disclosure, with_person_name: bool = False
) -> dict[str, Any]:
    """`{"id", "reference", "status", "risk_level", "primary_person" (id or None), "members"
    ([{"person": id, "relationship"}], primary first), "assigned_to" (usernames, sorted),
    "summary", "location", "safe_contact", "protection_concerns" (codes or None),
    "consent_to_store", "consent_to_share", "consent_given_on", "created_at", "updated_at",
    "erased"}`, plus `"primary_person_name"` when `with_person_name` (the list's way to tell
    cases apart; None when the case or the person is erased).

    `case` comes from `cases_visible_to(...).for_display()` (memberships and assignments
    prefetched). Reveals CASE_SECRETS of a case not erased, and the primary person's names
    when they are shown."""
    erased = case.erased
    shown: dict[str, Any] = {
        "id": case.pk,
        "reference": case.reference,
        "status": case.status,
        "risk_level": case.risk_level,
        "primary_person": None if erased else case.primary_person_id,
        "members": []
        if erased
        else [
            {"person": member.person_id, "relationship": member.relationship}
            for member in sorted(case.memberships.all(), key=lambda m: (m.relationship, m.pk))
        ],
        "assigned_to": sorted(assignment.user.username for assignment in case.assignments.all()),
        "consent_to_store": case.consent_to_store,
        "consent_to_share": case.consent_to_share,
        "consent_given_on": case.consent_given_on,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "erased": erased,
    }
    if erased:
        shown.update(dict.fromkeys(CASE_SECRETS))
    else:
        disclosure.reveal(case, CASE_SECRETS)
        shown.update({name: getattr(case, name) for name in CASE_SECRETS})
    if with_person_name:
        shown["primary_person_name"] = (
            None if erased else person_name_disclosed(case.primary_person, disclosure=disclosure)
        )
    return shown


def need_disclosed(need: Need, *, disclosure: Disclosure) -> dict[str, Any]:
    """`{"id", "case" (id), "case_reference", "category", "description", "urgency", "status",
    "estimated_cost" (Decimal or None), "currency", "created_at", "updated_at"}`. Reveals the
    description unless the case is erased (then it is None)."""
    shown: dict[str, Any] = {
        "id": need.pk,
        "case": need.case_id,
        "case_reference": need.case.reference,
        "category": need.category,
        "urgency": need.urgency,
        "status": need.status,
        "estimated_cost": need.estimated_cost,
        "currency": need.currency,
        "created_at": need.created_at,
        "updated_at": need.updated_at,
    }
    return {**shown, "description": _sealed_text(need, "description", disclosure)}


def note_disclosed(note: Note, *, disclosure: Disclosure) -> dict[str, Any]:
    """`{"id", "body", "author" (username), "created_at"}`. Reveals the body unless the case
    is erased (then it is None)."""
    return {
        "id": note.pk,
        "body": _sealed_text(note, "body", disclosure),
        "author": note.author.username,
        "created_at": note.created_at,
    }


def timeline_entry_disclosed(entry: TimelineEntry, *, disclosure: Disclosure) -> dict[str, Any]:
    """`{"id", "kind", "actor" (username), "at", "from_value", "to_value", "person" (id or
    None), "caseworker" (username or None), "reason"}`. Reveals the reason unless the case is
    erased (then it is None)."""
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "actor": entry.actor.username,
        "at": entry.at,
        "from_value": entry.from_value,
        "to_value": entry.to_value,
        "person": entry.person_id,
        "caseworker": entry.caseworker.username if entry.caseworker_id else None,
        "reason": _sealed_text(entry, "reason", disclosure),
    }


def _sealed_text(item: Need | Note | TimelineEntry, name: str, disclosure: Disclosure) -> Any:
    """A case item's sealed field: in clear (and revealed) on a case not erased, else None
    (its key is gone: nothing is opened)."""
    if item.case.erased:
        return None
    disclosure.reveal(item, (name,))
    return getattr(item, name)
