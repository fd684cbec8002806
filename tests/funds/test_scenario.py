"""End to end: from a helpline call to an audited payment, then the case's erasure.

Every step goes through the API as the staff member who would take it, each with their own
token and, where money moves, a fresh code from their own authenticator.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.roles import Role
from encryption.exceptions import KeyDestroyed
from funds.models import Disbursement
from tests.audit.reads import access_reads
from tests.cases.helpers import CASES_URL, a_case, case_url
from tests.erasure import erase_body
from tests.funds.helpers import (
    ALLOCATIONS_URL,
    RATES_URL,
    SUMMARY_URL,
    allocate,
    create_source,
    disbursement_url,
    request_money,
)
from tests.people.helpers import PEOPLE_URL, a_person

pytestmark = pytest.mark.django_db
PAYEE = "Zelimkhan Khasanov, Western Union Nazran"
RECEIPT = "WU-MTCN-8841-2201-77"


def test_helpline_call_to_audited_payment_and_erasure(
    client,
    caseworker,
    lead,
    coordinator,
    second_coordinator,
    auditor,
    client_for,
    make_staff,
    settings,
):
    # A call comes in: the caseworker records the caller and checks they are not known yet.
    caller = a_person(full_name="Ruslan Testov", phone="+7 928 000-11-22")
    duplicates = client.post(f"{PEOPLE_URL}duplicates/", {"phone": "8 (928) 000-11-22"})
    assert duplicates.status_code == 200
    assert duplicates.json() == {"matches": [], "outside_scope": 0}
    person = client.post(PEOPLE_URL, caller)
    assert person.status_code == 201
    again = client.post(f"{PEOPLE_URL}duplicates/", {"phone": "8 (928) 000-11-22"})
    assert [match["id"] for match in again.json()["matches"]] == [person.json()["id"]]

    # A case with its needs.
    case = client.post(CASES_URL, a_case(person.json()["id"]))
    assert case.status_code == 201
    case_id = case.json()["id"]
    need = client.post(
        case_url(case_id, "needs/"),
        {
            "category": "travel",
            "description": "tickets out",
            "estimated_cost": "1500.00",
            "currency": "EUR",
        },
    )
    assert need.status_code == 201

    # A coordinator records a donation and commits part of it to the case.
    source = create_source(lead, restricted_to=["travel", "housing"])
    allocation = allocate(lead, source["id"], case_id, amount="2000.00")
    assert allocation["remaining"] == "2000.00"

    # The caseworker asks for 1,500 EUR: above the 1,000 threshold, so two approvers.
    item = request_money(client, allocation["id"], amount="1500.00", payee=PAYEE)
    assert item["status"] == "requested"
    assert item["approvals_required"] == 2
    first = lead.post(
        disbursement_url(item["id"], "approve/"), {"otp": coordinator.totp(), "comment": "ok"}
    )
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "requested"
    other = client_for(second_coordinator)
    second = other.post(
        disbursement_url(item["id"], "approve/"), {"otp": second_coordinator.totp()}
    )
    assert second.status_code == 200, second.json()
    assert second.json()["status"] == "approved"

    # The payment, with its receipt.
    paid = lead.post(
        disbursement_url(item["id"], "pay/"),
        {"otp": coordinator.totp(steps_ahead=1), "receipt_reference": RECEIPT},
    )
    assert paid.status_code == 200, paid.json()
    assert paid.json()["status"] == "paid"
    assert paid.json()["payee"] == PAYEE
    assert paid.json()["receipt_reference"] == RECEIPT

    # Roubles for the last leg: the ECB publishes no rouble rate, so a coordinator records the
    # reference, and the caseworker's rate from the exchange office is checked against it.
    settings.FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY = {"RUB": Decimal("90000")}
    today = timezone.localdate().isoformat()
    other = client_for(second_coordinator)
    reference = other.post(
        RATES_URL,
        {
            "from_currency": "RUB",
            "to_currency": "EUR",
            "rate": "0.0105",
            "rate_date": today,
            "rate_source": "Central Bank of Russia, official rate",
        },
        HTTP_IDEMPOTENCY_KEY="rub-rate-1",
    )
    assert reference.status_code == 201, reference.json()
    roubles = request_money(
        client,
        allocation["id"],
        amount="20000.00",
        currency="RUB",
        exchange_rate="0.0104",
        rate_source="Exchange office, Nazran",
        rate_date=today,
        payee=PAYEE,
    )
    assert (roubles["rate_check"], roubles["reference_rate"]) == ("ok", "0.0105")
    assert roubles["reference_rate_ids"] == [reference.json()["id"]]
    # 208.00 EUR at the office's rate, 210.00 at the reference: the larger is reserved.
    assert (roubles["amount_at_exchange_rate"], roubles["amount_at_reference_rate"]) == (
        "208.00",
        "210.00",
    )
    assert roubles["amount_in_source_currency"] == "210.00"
    # 1,500 + 210 EUR for travel on this case within the week: a split would need two approvers.
    assert (roubles["approvals_required"], roubles["approval_reasons"]) == (2, ["split_requests"])
    # Whoever recorded the reference cannot approve what was checked against it.
    recorder = other.post(
        disbursement_url(roubles["id"], "approve/"), {"otp": second_coordinator.totp(1)}
    )
    assert recorder.status_code == 409, recorder.json()
    assert "reference rate" in recorder.json()["message"]
    third, fourth = make_staff(Role.COORDINATOR), make_staff(Role.COORDINATOR)
    halfway = client_for(third).post(
        disbursement_url(roubles["id"], "approve/"), {"otp": third.totp()}
    )
    assert halfway.json()["status"] == "requested", halfway.json()
    approved = client_for(fourth).post(
        disbursement_url(roubles["id"], "approve/"), {"otp": fourth.totp()}
    )
    assert approved.json()["status"] == "approved", approved.json()
    paid_in_roubles = client_for(third).post(
        disbursement_url(roubles["id"], "pay/"),
        {"otp": third.totp(steps_ahead=1), "receipt_reference": "CASH-RUB-1"},
    )
    assert paid_in_roubles.json()["status"] == "paid", paid_in_roubles.json()

    # The report adds it up.
    report = client_for(auditor).get(SUMMARY_URL, {"group_by": "case"})
    assert report.status_code == 200
    row = {
        "case": case.json()["reference"],
        "currency": "EUR",
        "allocated": "2000.00",
        "requested": "0.00",
        "approved": "0.00",
        "paid": "1710.00",
        "paid_rate_not_ok": "0.00",
        "remaining": "290.00",
    }
    assert report.json()["rows"] == [row]

    # The auditor sees the payment, payee and receipt masked, and reading it is logged.
    audit_client = client_for(auditor)
    seen = audit_client.get(disbursement_url(item["id"]))
    assert seen.status_code == 200
    assert seen.json()["payee"] == "[masked]"
    assert seen.json()["receipt_reference"] == "[masked]"
    assert seen.json()["amount"] == "1500.00"
    assert PAYEE not in json.dumps(seen.json())
    accesses = access_reads(object_pk=item["id"], actor=auditor.user)
    assert all("payee" not in entry.additional_data["fields"] for entry in accesses)
    lead_reads = access_reads(object_pk=item["id"], actor=coordinator.user)
    assert any("payee" in entry.additional_data["fields"] for entry in lead_reads)

    # The audit chain holds.
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "ok" in out.getvalue().lower()

    # The case is erased: the money stays in the accounts, the payee is gone for good.
    erased = lead.post(case_url(case_id, "erase/"), erase_body(lead))
    assert erased.status_code == 200, erased.json()
    after = client_for(auditor).get(SUMMARY_URL, {"group_by": "case"})
    assert after.json()["rows"] == [row]
    shown = lead.get(disbursement_url(item["id"])).json()
    assert shown["payee"] is None
    assert shown["receipt_reference"] is None
    assert shown["amount"] == "1500.00"
    assert shown["case_reference"] == case.json()["reference"]
    stored = Disbursement.objects.get(pk=item["id"])
    with pytest.raises(KeyDestroyed):
        _ = stored.payee
    allocations = lead.get(ALLOCATIONS_URL, {"case": case_id}).json()["results"]
    assert [a["spent"] for a in allocations] == ["1710.00"]
