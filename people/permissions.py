"""Who may use the people endpoints. Auditors and admins get no personal data at all."""

from accounts.permissions import HasRole
from accounts.roles import Role

CanUsePeople = HasRole.for_roles(Role.CASEWORKER, Role.COORDINATOR)
CanErasePeople = HasRole.for_roles(Role.COORDINATOR)
