"""Which cases (and their needs) a staff member may see: the only place a case queryset is
narrowed.

A caseworker sees the cases assigned to them, read from the assignment rows at every request
(so an unassigned caseworker loses access at once); a coordinator sees every case; auditors
and admins see none. Needs, notes and timeline are reached only through a visible case.
"""

from __future__ import annotations

from django.db.models import Case as CaseWhen
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When

from accounts.models import User
from accounts.roles import Role
from cases.models import ENDED_STATUSES, Case, Need, RiskLevel
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


def needs_visible_to(user: User) -> QuerySet[Need]:
    """The needs of the cases `user` may see (the cross-case queue, `needs/`)."""
    return Need.objects.filter(case__in=cases_visible_to(user).values("pk"))


def caseworkers_with_open_cases() -> QuerySet[User]:
    """The active caseworkers, each annotated with `open_cases`: how many cases that are
    neither over (closed, rejected, withdrawn) nor erased they are assigned to. What a
    coordinator needs to choose whom to assign, and nothing else of their accounts."""
    open_case = Q(case_assignments__case__erased_at__isnull=True) & ~Q(
        case_assignments__case__status__in=ENDED_STATUSES
    )
    return (
        User.objects.filter(is_active=True, groups__name=Role.CASEWORKER)
        .annotate(open_cases=Count("case_assignments", filter=open_case))
        .order_by("username")
    )


# Most urgent first: the order of the risk levels, as a number the database can sort on.
RISK_ORDER = (RiskLevel.CRITICAL, RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW)
OPEN_NEED_STATUSES = (Need.Status.OPEN, Need.Status.IN_PROGRESS)


def cases_worklist(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`cases` (already scoped by `cases_visible_to`) as a work list: most urgent first (risk
    critical, high, medium, low; then the most recently changed), each annotated with
    `open_needs`, how many of its needs are open or in progress. Keys, primary person and
    assignees come in the same fixed number of queries at any size (`for_display`)."""
    urgency = CaseWhen(
        *(When(risk_level=level, then=Value(rank)) for rank, level in enumerate(RISK_ORDER)),
        default=Value(len(RISK_ORDER)),
        output_field=IntegerField(),
    )
    return (
        cases.for_display()
        .annotate(
            urgency_rank=urgency,
            open_needs=Count("needs", filter=Q(needs__status__in=OPEN_NEED_STATUSES)),
        )
        .order_by("urgency_rank", "-updated_at", "id")
    )


def cases_of_person(user: User, person: Person) -> QuerySet[Case]:
    """The cases `user` may see that `person` is on the household of now (erased ones left
    out), most recently changed first."""
    return (
        cases_visible_to(user)
        .filter(
            memberships__person=person,
            memberships__removed_at__isnull=True,
            erased_at__isnull=True,
        )
        .order_by("-updated_at", "id")
    )
