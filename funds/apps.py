from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = "Funding sources, allocations and disbursements"

    def ready(self) -> None:
        from accounts.signals import staff_rights_reduced
        from audit.registry import register
        from cases.signals import case_ending, case_ending_locks
        from funds import (
            disclosure,  # noqa: F401  (puts its personal fields under the layer)
            receivers,
        )
        from funds.models import Allocation, Approval, Disbursement, FundingSource, ReferenceRate

        # Payees, receipts and comments are encrypted, so sensitive by declaration: entries
        # say that they changed, never to what.
        for model in (FundingSource, Allocation, Disbursement, Approval, ReferenceRate):
            register(model)
        staff_rights_reduced.connect(
            receivers.on_staff_rights_reduced, dispatch_uid="funds-void-approvals"
        )
        case_ending_locks.connect(receivers.on_case_ending_locks, dispatch_uid="funds-lock-case")
        case_ending.connect(receivers.on_case_ending, dispatch_uid="funds-settle-case")
