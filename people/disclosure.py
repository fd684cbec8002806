"""What a response shows of a person: the disclosure layer for `people` (see audit.disclosure).

Who may see a person at all is the selectors' business (`people_visible_to`); whoever may see
a person sees their personal fields in clear, and each response that shows them writes an
ACCESS entry naming those fields. An erased person shows nothing personal (the data key is
gone): every personal field is None and no entry is written.
"""

from __future__ import annotations

from typing import Any

from audit.disclosure import Disclosure, govern
from people.models import PERSONAL_FIELDS, Person

govern(Person, fields=PERSONAL_FIELDS)

NAME_FIELDS = ("full_name", "preferred_name")
MATCH_FIELDS = ("full_name", "preferred_name", "date_of_birth")


def person_disclosed(person: Person, *, disclosure: Disclosure) -> dict[str, Any]:
    """`{"id", <PERSONAL_FIELDS>..., "created_at", "updated_at", "erased"}`: the personal
    fields in clear (Python values: `date_of_birth` a date, `languages` a list or None), or
    all None for an erased person. Reveals every personal field of a person not erased."""
    shown = {
        "id": person.pk,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
        "erased": person.erased,
    }
    if person.erased:  # nothing to open: the data key is gone
        return {**shown, **dict.fromkeys(PERSONAL_FIELDS)}
    disclosure.reveal(person, PERSONAL_FIELDS)
    return {**shown, **{name: getattr(person, name) for name in PERSONAL_FIELDS}}


def person_name_disclosed(person: Person, *, disclosure: Disclosure) -> str | None:
    """The name to tell a person apart by (the full name, else the preferred one), or None
    for an erased person. Reveals both name fields."""
    if person.erased:
        return None
    disclosure.reveal(person, NAME_FIELDS)
    return person.full_name or person.preferred_name


def person_match_disclosed(
    person: Person, *, matched_on: list[str], disclosure: Disclosure
) -> dict[str, Any]:
    """A duplicate-check match: `{"id", "full_name", "preferred_name", "date_of_birth",
    "matched_on"}` (`matched_on`: which criteria matched, e.g. `["phone"]`). Reveals the
    three fields shown; an erased person (never a match in practice) shows them as None."""
    shown: dict[str, Any] = {"id": person.pk, "matched_on": matched_on}
    if person.erased:
        return {**shown, **dict.fromkeys(MATCH_FIELDS)}
    disclosure.reveal(person, MATCH_FIELDS)
    return {**shown, **{name: getattr(person, name) for name in MATCH_FIELDS}}
