"""Which cases a staff member may see: the only place a case queryset is narrowed.

A caseworker sees the cases assigned to them, read from the assignment rows at every request
(so an unassigned caseworker loses access at once); a coordinator sees every case; auditors
and admins see none. Needs, notes and timeline are reached only through a visible case.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from accounts.roles import Role
from cases.models import Case


def cases_visible_to(user: User) -> QuerySet[Case]:
    cases = Case.objects.all()
    if user.has_role(Role.COORDINATOR):
        return cases
    if user.has_role(Role.CASEWORKER):
        return cases.filter(assignments__user=user)
    return cases.none()
