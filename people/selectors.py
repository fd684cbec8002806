"""Which people a staff member may see: the only place a people queryset is narrowed.

A caseworker sees the people on the cases assigned to them (and the people they recorded who
are on no case yet); coordinators see everyone; auditors and admins see no one (the API also
refuses them outright). The relation names come from the cases app's models, which this module
does not import: people know nothing of cases but the path to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.roles import Role
from encryption.blind_index import blind_index_for
from people.models import Person

MATCH_FIELDS = {
    "phone": "phone_index",
    "full_name": "full_name_index",
    "document_number": "document_number_index",
}


def people_visible_to(user: User) -> QuerySet[Person]:
    people = Person.objects.with_keys()
    if user.has_role(Role.COORDINATOR):
        return people
    if user.has_role(Role.CASEWORKER):
        # The people on the cases assigned to them, and the people they recorded who have
        # never been on a case (an intake under way: recorded, then put on the case opened).
        # One Q per membership, so every condition holds for the same membership: a person
        # reached only through an erased case, or taken off a case, is out of scope.
        on_my_cases = Q(
            memberships__case__assignments__user=user,
            memberships__case__erased_at__isnull=True,
            memberships__removed_at__isnull=True,
        )
        in_scope = Person.objects.filter(
            on_my_cases | Q(created_by=user, memberships__isnull=True)
        ).values("pk")
        return people.filter(pk__in=in_scope)
    return people.none()


@dataclass(frozen=True)
class DuplicateCheck:
    matches: list[Person]
    matched_on: dict[str, list[str]]  # person id -> the criteria it matched
    outside_scope: int


def people_duplicates(*, user: User, criteria: dict[str, str]) -> DuplicateCheck:
    """People whose phone, full name or document number equals one of `criteria` (after
    normalisation), by blind index only. The caller gets the matches in their scope and only a
    count of the others, so a caseworker learns to ask a coordinator, not who it is."""
    indexes = {
        name: blind_index_for(Person, MATCH_FIELDS[name], value) for name, value in criteria.items()
    }
    indexes = {name: digest for name, digest in indexes.items() if digest}
    if not indexes:
        return DuplicateCheck(matches=[], matched_on={}, outside_scope=0)
    condition = Q()
    for name, digest in indexes.items():
        condition |= Q(**{MATCH_FIELDS[name]: digest})
    matching = Person.objects.filter(condition, erased_at__isnull=True)
    visible = list(people_visible_to(user).filter(condition, erased_at__isnull=True))
    matched_on = {
        str(person.pk): [
            name
            for name, digest in indexes.items()
            if getattr(person, MATCH_FIELDS[name]) == digest
        ]
        for person in visible
    }
    outside = matching.exclude(pk__in=[person.pk for person in visible]).count()
    return DuplicateCheck(matches=visible, matched_on=matched_on, outside_scope=outside)
