"""The evacuation workflow: one table of the allowed transitions and who may make each.

    intake -> verification -> approved -> in_transit -> sheltered -> resettled -> closed

with side exits to rejected, withdrawn and lost_contact, and reopening from closed or
lost_contact. Only coordinators approve for evacuation, reject and close (and reopen a closed
case); caseworkers move their assigned cases along the rest.
"""

from __future__ import annotations

from accounts.models import User
from accounts.roles import Role
from cases.models import Status

CW, CO = Role.CASEWORKER, Role.COORDINATOR
BOTH = frozenset({CW, CO})
COORDINATORS = frozenset({CO})

_ACTIVE = (Status.INTAKE, Status.VERIFICATION, Status.APPROVED, Status.IN_TRANSIT, Status.SHELTERED)

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Status.INTAKE, Status.VERIFICATION): BOTH,
    (Status.VERIFICATION, Status.INTAKE): BOTH,  # back for missing information
    (Status.VERIFICATION, Status.APPROVED): COORDINATORS,
    (Status.APPROVED, Status.IN_TRANSIT): BOTH,
    (Status.IN_TRANSIT, Status.SHELTERED): BOTH,
    (Status.SHELTERED, Status.RESETTLED): BOTH,
    (Status.RESETTLED, Status.CLOSED): COORDINATORS,
    (Status.INTAKE, Status.REJECTED): COORDINATORS,
    (Status.VERIFICATION, Status.REJECTED): COORDINATORS,
    **{(state, Status.WITHDRAWN): BOTH for state in _ACTIVE},
    **{(state, Status.LOST_CONTACT): BOTH for state in _ACTIVE},
    (Status.REJECTED, Status.CLOSED): COORDINATORS,
    (Status.WITHDRAWN, Status.CLOSED): COORDINATORS,
    (Status.LOST_CONTACT, Status.CLOSED): COORDINATORS,
    (Status.LOST_CONTACT, Status.INTAKE): BOTH,  # contact re-established: reopen
    (Status.CLOSED, Status.INTAKE): COORDINATORS,  # reopen a closed case
}


def roles_allowed(from_status: str, to_status: str) -> frozenset[str]:
    return TRANSITIONS.get((from_status, to_status), frozenset())


def may_transition(user: User, from_status: str, to_status: str) -> bool:
    return any(user.has_role(role) for role in roles_allowed(from_status, to_status))


def transitions_open_to(user: User, from_status: str) -> list[str]:
    """The states `user` may move a case in `from_status` to, in workflow order."""
    return [to for to in Status.values if may_transition(user, from_status, to)]
