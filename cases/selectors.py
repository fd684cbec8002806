"""Which cases a staff member may see: the only place a case queryset is narrowed.

A caseworker sees the cases assigned to them, read from the assignment rows at every request
(so an unassigned caseworker loses access at once); a coordinator sees every case; auditors
and admins see none. Needs, notes and timeline are reached only through a visible case.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.roles import Role
from cases.models import Case
from people.models import Person
from people.selectors import people_visible_to


def cases_visible_to(user: User) -> QuerySet[Case]:
    cases = Case.objects.all()
    if user.has_role(Role.COORDINATOR):
        return cases
    if user.has_role(Role.CASEWORKER):
        return cases.filter(assignments__user=user)
    return cases.none()


def people_addable_to(user: User, case: Case) -> QuerySet[Person]:
    """Who `user` may put on `case`'s household (a case they can see): the people they may see,
    and the people who were on this household before. Someone taken off a case falls out of
    its caseworkers' scope; the timeline names them, so those caseworkers can put them back."""
    return (
        Person.objects.with_keys()
        .filter(Q(pk__in=people_visible_to(user).values("pk")) | Q(memberships__case=case))
        .distinct()
    )
