"""Every write on staff accounts, second factors and tokens, one module per concept:
`login` (and the lockout guard), `tokens`, `step_up`, `enrolment`, `staff` (changes that apply
at once), `changes` (admin writes under four eyes) and `unlock` (clearing a lockout)."""

from accounts.services.changes import (
    StaffOutcome,
    second_factor_reset_request,
    staff_change_approve,
    staff_change_reject,
    staff_create_by_admin,
    staff_reactivate_request,
    staff_roles_request,
)
from accounts.services.enrolment import (
    IssuedEnrolmentCode,
    enrolment_code_issue,
    enrolment_confirm,
    enrolment_redeem,
)
from accounts.services.login import LoginFailed, login
from accounts.services.staff import (
    password_change,
    second_factor_reset,
    second_factor_reset_with_code,
    staff_create,
    staff_deactivate,
    staff_reactivate,
    staff_set_roles,
)
from accounts.services.step_up import StepUpFailed, StepUpTokenRevoked, step_up_verify
from accounts.services.tokens import (
    IssuedToken,
    token_issue,
    token_revoke,
    token_touch,
    tokens_revoke_all,
)
from accounts.services.unlock import Unlocked, account_unlock, unlock_note

__all__ = [
    "IssuedEnrolmentCode",
    "IssuedToken",
    "LoginFailed",
    "StaffOutcome",
    "StepUpFailed",
    "StepUpTokenRevoked",
    "Unlocked",
    "account_unlock",
    "enrolment_code_issue",
    "enrolment_confirm",
    "enrolment_redeem",
    "login",
    "password_change",
    "second_factor_reset",
    "second_factor_reset_request",
    "second_factor_reset_with_code",
    "staff_change_approve",
    "staff_change_reject",
    "staff_create",
    "staff_create_by_admin",
    "staff_deactivate",
    "staff_reactivate",
    "staff_reactivate_request",
    "staff_roles_request",
    "staff_set_roles",
    "step_up_verify",
    "token_issue",
    "token_revoke",
    "token_touch",
    "tokens_revoke_all",
    "unlock_note",
]
