"""The plaintext canary through the money pages: payees, an approval's comment, a rejection's
and a cancellation's reason and a receipt reference typed into the pages are nowhere at rest in
clear (database, sessions, audit entries, logs), though the pages show them to who may read
them."""

from __future__ import annotations

import logging
import secrets

import pytest

from accounts.roles import Role
from funds.models import Disbursement
from tests.funds.helpers import funded_case
from tests.web.canary import at_rest
from tests.web.helpers import signed_in_client, text_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_what_is_typed_into_the_money_pages_is_not_kept_in_clear(make_staff, caplog):
    caplog.set_level(logging.DEBUG)
    caseworker = make_staff(Role.CASEWORKER)
    first, second = make_staff(Role.COORDINATOR), make_staff(Role.COORDINATOR)
    _, allocation = funded_case(caseworker.user, first.user, secrets.token_hex(3))
    tag = secrets.token_hex(6)
    payee, other_payee = f"canary-payee-{tag}", f"canary-other-payee-{tag}"
    comment, reason = f"canary-comment-{tag}", f"canary-reason-{tag}"
    receipt, cancel_reason = f"canary-receipt-{tag}", f"canary-cancel-{tag}"
    asker = signed_in_client(caseworker)

    def request_money(name: str) -> Disbursement:
        body = {
            "form_key": secrets.token_hex(8),
            "allocation": str(allocation.pk),
            "amount": "50.00",
            "currency": "EUR",
            "purpose": "Train tickets",
            "method": "cash",
            "payee": name,
        }
        assert asker.post("/funds/disbursements/new/", body).status_code == 302
        return Disbursement.objects.order_by("-requested_at").first()

    def code(staff) -> str:
        return staff.fresh_totp()

    paid, rejected = request_money(payee), request_money(other_payee)
    base = "/funds/disbursements/"
    decider, payer = signed_in_client(first), signed_in_client(second)
    steps = [
        decider.post(
            f"{base}{paid.pk}/approve/",
            {
                "approve-comment": comment,
                "approve-otp": code(first),
                "approve-version": paid.updated_at.isoformat(),
            },
        ),
        decider.post(
            f"{base}{rejected.pk}/reject/", {"reject-reason": reason, "reject-otp": code(first)}
        ),
        payer.post(
            f"{base}{paid.pk}/pay/",
            {"pay-receipt_reference": receipt, "pay-otp": code(second)},
        ),
    ]
    third = request_money(f"canary-third-{tag}")
    steps.append(asker.post(f"{base}{third.pk}/cancel/", {"cancel-reason": cancel_reason}))

    assert [step.status_code for step in steps] == [302, 302, 302, 302]
    shown = text_of(payer.get(f"{base}{paid.pk}/"))
    assert payee in shown
    assert receipt in shown
    assert comment in shown
    # (The six-digit codes are not searched for: six digits turn up by chance in any dump.)
    needles = [payee, other_payee, comment, reason, receipt, cancel_reason]
    assert at_rest(needles, log_text=caplog.text) == {}
