"""Who may use the case endpoints. Auditors and admins get no case data at all."""

from accounts.permissions import HasRole
from accounts.roles import Role

CanUseCases = HasRole.for_roles(Role.CASEWORKER, Role.COORDINATOR)
CanSteerCases = HasRole.for_roles(Role.COORDINATOR)
