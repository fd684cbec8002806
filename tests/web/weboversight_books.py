"""The books the oversight pages' tests read: money written through the services, with personal
data (a person's name, a case note, a payee, a receipt reference, an approval comment) that an
auditor's page must never show, each a unique marker."""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts.roles import Role
from cases.services import note_create
from funds.services import disbursements as money
from funds.services.sources import allocation_create, source_create
from tests.conftest import Staff
from tests.funds.helpers import funded_case, terms


@dataclass
class Books:
    """Money through the services, with personal data an auditor must never see."""

    person_name: str
    note: str
    payee: str
    receipt: str
    comment: str
    source_id: str
    case_reference: str


def write_books(make_staff: Callable[..., Staff]) -> Books:
    """Two sources (EUR and USD), a case with a note, a paid and a waiting request."""
    tag = secrets.token_hex(4)
    caseworker = make_staff(Role.CASEWORKER).user
    lead, second = make_staff(Role.COORDINATOR).user, make_staff(Role.COORDINATOR).user
    case, allocation = funded_case(caseworker, lead, f"canary-name-{tag}")
    note = f"canary-note-{tag}"
    note_create(case=case, author=caseworker, body=note)
    payee, receipt, comment = f"canary-payee-{tag}", f"RCPT-{tag}", f"canary-comment-{tag}"
    paid = money.disbursement_request(
        allocation=allocation, requested_by=caseworker, terms=terms(payee, amount="300.00")
    )
    money.disbursement_approve(disbursement=paid, approver=lead, comment=comment)
    money.disbursement_pay(disbursement=paid, actor=second, receipt_reference=receipt)
    money.disbursement_request(
        allocation=allocation, requested_by=caseworker, terms=terms(payee, amount="45.00")
    )
    dollars = source_create(
        created_by=lead,
        name="Spring grant",
        kind="grant",
        currency="USD",
        amount_received=Decimal("5000.00"),
        received_on=allocation.source.received_on,
    )
    allocation_create(
        source=dollars, case=case, category="housing", amount=Decimal("800.00"), created_by=lead
    )
    return Books(
        person_name=f"Person canary-name-{tag}",
        note=note,
        payee=payee,
        receipt=receipt,
        comment=comment,
        source_id=str(allocation.source_id),
        case_reference=case.reference,
    )


def checkpoint_now() -> dict:
    """Sign the chain's head now (as an operator does) and return the signed document."""
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    return json.loads(out.getvalue())


def upload(document: object, name: str = "kept.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(document).encode(), "application/json")
