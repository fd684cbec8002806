"""The signed-in pages: one registry for the navigation, the role checks and the tests.

A page's `permission` is the API's own permission class for the same data (`HasRole` from the
app that owns it), so a page can never be open to a role the API refuses: the rule lives once.
A page without a permission is open to every signed-in staff member.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import HasRole, IsAdmin
from accounts.roles import Role
from audit.api import IsAuditor
from cases.permissions import CanUseCases
from funds.permissions import CanReadFunds, CanReadReports


@dataclass(frozen=True)
class Page:
    name: str  # the URL name, in the `web` namespace
    title: Promise  # the page title and its navigation label: never personal data
    permission: type[HasRole] | None = None
    in_navigation: bool = True

    def allows(self, user: User) -> bool:
        if not user.is_authenticated or not user.is_active:
            return False
        return self.permission is None or user.has_role(*self.permission.roles)


PAGES: dict[str, Page] = {
    page.name: page
    for page in (
        Page("cases", _("Cases"), CanUseCases),
        Page("funds", _("Money"), CanReadFunds),
        Page("reports", _("Reports"), CanReadReports),
        Page("audit", _("Audit log"), IsAuditor),
        Page("staff", _("Staff"), IsAdmin),
        Page("account", _("Your account")),
    )
}

# The staff and account pages' sub-pages (webstaff): reached from their page, not the menu.
PAGES.update(
    {
        page.name: page
        for page in (
            Page("staff-new", _("New staff member"), IsAdmin, in_navigation=False),
            Page("staff-changes", _("Changes waiting for approval"), IsAdmin, in_navigation=False),
            Page("account-password", _("Change your password"), in_navigation=False),
        )
    }
)

ROLE_LABELS: dict[str, Promise] = {
    Role.CASEWORKER: _("Caseworker"),
    Role.COORDINATOR: _("Coordinator"),
    Role.AUDITOR: _("Auditor"),
    Role.ADMIN: _("Administrator"),
}

# Where each role starts after signing in, first match wins for someone with several roles.
MAIN_PAGE_BY_ROLE: tuple[tuple[str, str], ...] = (
    (Role.CASEWORKER, "cases"),
    (Role.COORDINATOR, "cases"),
    (Role.AUDITOR, "reports"),
    (Role.ADMIN, "staff"),
)


def navigation_for(user: User) -> list[Page]:
    return [page for page in PAGES.values() if page.in_navigation and page.allows(user)]


def main_page_for(user: User) -> Page:
    """The page a signed-in staff member lands on; their account page when no role has one."""
    for role, name in MAIN_PAGE_BY_ROLE:
        if user.has_role(role):
            return PAGES[name]
    return PAGES["account"]
