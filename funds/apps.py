from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = "Funding sources, allocations and disbursements"

    def ready(self) -> None:
        from audit.registry import register
        from funds.models import Allocation, Approval, Disbursement, FundingSource

        # Payees, receipts and comments are encrypted, so sensitive by declaration: entries
        # say that they changed, never to what.
        for model in (FundingSource, Allocation, Disbursement, Approval):
            register(model)
