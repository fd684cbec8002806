"""Who may do what, as DRF permission classes over `User.has_role`."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.roles import Role


class HasRole(BasePermission):
    """`HasRole.for_roles(Role.ADMIN)`: the caller must hold at least one of the roles."""

    roles: tuple[str, ...] = ()
    message = "Your role does not allow this."

    @classmethod
    def for_roles(cls, *roles: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(*self.roles))


IsAdmin = HasRole.for_roles(Role.ADMIN)
