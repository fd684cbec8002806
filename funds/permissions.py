"""Who may use the funds endpoints (design.md's table). Admins get no money data at all."""

from accounts.permissions import HasRole
from accounts.roles import Role

CanReadFunds = HasRole.for_roles(Role.CASEWORKER, Role.COORDINATOR, Role.AUDITOR)
CanRequestMoney = HasRole.for_roles(Role.CASEWORKER, Role.COORDINATOR)
CanManageFunds = HasRole.for_roles(Role.COORDINATOR)
CanReadReports = HasRole.for_roles(Role.COORDINATOR, Role.AUDITOR)
