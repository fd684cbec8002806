"""How funds answers the hooks of `accounts` and `cases` (connected in `FundsConfig.ready`):
those apps know nothing of money, and funds does what their changes mean for it in the same
transaction."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.roles import Role
from cases.models import Case
from funds.locks import lock_money_of_case
from funds.services.disbursements import (
    approvals_void_for,
    disbursements_settle_for_ended_case,
)


def on_staff_rights_reduced(
    *, user: User, reason: str, roles_removed: list[str], **kwargs: Any
) -> None:
    """Approvals count only while their approver may approve: a deactivation, a second-factor
    reset (the old device may be in someone else's hands) or losing the coordinator role voids
    the standing ones. Losing any other role changes nothing about approving."""
    if reason == "roles_removed" and Role.COORDINATOR not in roles_removed:
        return
    approvals_void_for(user=user, reason=reason)


def on_case_ending_locks(*, case: Case, **kwargs: Any) -> None:
    lock_money_of_case(case.pk)


def on_case_ending(*, case: Case, actor: User, to: str | None, **kwargs: Any) -> None:
    disbursements_settle_for_ended_case(case=case, actor=actor, to=to)
