"""Who may use the people endpoints. Auditors and admins get no personal data at all."""

from accounts.permissions import HasRole
from accounts.roles import Role

CanUsePeople = HasRole.for_roles(Role.CASEWORKER, Role.COORDINATOR)
CanErasePeople = HasRole.for_roles(Role.COORDINATOR)


def may_list_erased(user: object) -> bool:
    """Erased records leave the working lists; coordinators may bring them back (`erased=true`)
    to follow up an erasure. Nobody else has a use for rows of nulls."""
    return user.has_role(Role.COORDINATOR)
