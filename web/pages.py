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
from cases.permissions import CanSteerCases, CanUseCases
from funds.permissions import CanManageFunds, CanReadFunds, CanReadReports, CanRequestMoney
from people.permissions import CanUsePeople


@dataclass(frozen=True)
class Page:
    name: str  # the URL name, in the `web` namespace
    title: Promise  # the page title and its navigation label: never personal data
    permission: type[HasRole] | None = None
    in_navigation: bool = True
    section: str = ""  # the navigation entry a page lies under ("funds": Money), if not its own

    def allows(self, user: User) -> bool:
        if not user.is_authenticated or not user.is_active:
            return False
        return self.permission is None or user.has_role(*self.permission.roles)


PAGES: dict[str, Page] = {
    page.name: page
    for page in (
        Page("cases", _("Cases"), CanUseCases),
        Page("intake", _("New intake"), CanUseCases),  # web/webcases_views.py
        Page("needs", _("Open needs"), CanUseCases),  # web/webedit_views.py
        Page("funds", _("Money"), CanReadFunds),
        Page("reports", _("Reports"), CanReadReports),
        Page("audit", _("Audit log"), IsAuditor),
        Page("staff", _("Staff"), IsAdmin),
        Page("account", _("Your account")),
        # The money pages (web/webmoney_views.py), reached from the Money page.
        Page("funds-disbursements", _("Disbursements"), CanReadFunds, False, "funds"),
        Page("funds-request", _("Request money"), CanRequestMoney, False, "funds"),
        Page("funds-sources", _("Funding sources"), CanReadFunds, False, "funds"),
        Page("funds-allocations", _("Allocations"), CanReadFunds, False, "funds"),
        Page("funds-rates", _("Reference exchange rates"), CanReadFunds, False, "funds"),
        # The case pages reached from a list (web/webcases_views.py). "case-steer" is the
        # coordinators' part of a case page (assign, erase).
        Page("case", _("Case"), CanUseCases, in_navigation=False),
        Page("case-steer", _("Case"), CanSteerCases, in_navigation=False),
        Page("person", _("Person"), CanUsePeople, in_navigation=False),
    )
}

# Pages reached only with a record's id in the address, or only by a form's POST: never in the
# navigation, so the checks that open every page of PAGES by its bare address leave them out;
# tests with real records cover them (tests/web/test_webmoney_safety.py).
RECORD_PAGES: dict[str, Page] = {
    page.name: page
    for page in (
        Page("funds-disbursement", _("Money request"), CanReadFunds, False, "funds"),
        Page("funds-change", _("Change a money request"), CanRequestMoney, False, "funds"),
        Page("funds-cancel", _("Cancel a money request"), CanRequestMoney, False, "funds"),
        Page("funds-approve", _("Approve a money request"), CanManageFunds, False, "funds"),
        Page("funds-approve-selected", _("Approve money requests"), CanManageFunds, False, "funds"),
        Page("funds-reject", _("Reject a money request"), CanManageFunds, False, "funds"),
        Page("funds-pay", _("Record a payment"), CanManageFunds, False, "funds"),
        Page("funds-allocation-close", _("Close an allocation"), CanManageFunds, False, "funds"),
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

# The edit pages (web/webedit_views.py): a case's details and a person's record, reached from
# their pages (the open needs of one's cases are in the navigation, above).
PAGES.update(
    {
        page.name: page
        for page in (
            Page("case-edit", _("Change a case"), CanUseCases, in_navigation=False),
            Page("person-edit", _("Change a person's record"), CanUsePeople, in_navigation=False),
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
