"""The money pages do the whole job through the same services as the API: a caseworker asks,
coordinators decide and pay behind a fresh code, auditors read with payees masked.

Step-up forms refuse a wrong or reused code and keep what was typed (the code itself is never
shown back); several requests are approved under one code, each its own approval; a form
pressed twice does its work once; every page that shows a payee in clear logs the reading.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, LogEntry
from funds.models import Allocation, Approval, Disbursement, FundingSource, ReferenceRate
from funds.services.disbursements import (
    disbursement_approve,
    disbursement_request,
    disbursement_update,
)
from tests.funds.helpers import funded_case, record_rate, terms
from tests.web.helpers import signed_in_client, text_of

pytestmark = pytest.mark.django_db

FUNDS = "/funds/"
NEW = "/funds/disbursements/new/"
LIST = "/funds/disbursements/"


def shown(item) -> dict[str, str]:
    """What a request's page sends with its approve form: the request's terms as shown."""
    return {"approve-version": Disbursement.objects.get(pk=item.pk).updated_at.isoformat()}


def shown_in_inbox(*items) -> dict[str, str]:
    """What the inbox sends for each request it showed: its terms as shown."""
    latest = Disbursement.objects.filter(pk__in=[item.pk for item in items])
    return {f"version-{item.pk}": item.updated_at.isoformat() for item in latest}


def one(pk) -> str:
    return f"/funds/disbursements/{pk}/"


@pytest.fixture
def world(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    first = make_staff(Role.COORDINATOR)
    second = make_staff(Role.COORDINATOR)
    auditor = make_staff(Role.AUDITOR)
    case, allocation = funded_case(caseworker.user, first.user, secrets.token_hex(3))
    return caseworker, first, second, auditor, case, allocation


def a_request_form(allocation: Allocation, **overrides: str) -> dict[str, str]:
    body = {
        "form_key": secrets.token_hex(8),
        "allocation": str(allocation.pk),
        "amount": "120.00",
        "currency": "EUR",
        "purpose": "Bus tickets to the border",
        "method": "cash",
        "payee": f"Payee {secrets.token_hex(4)}",
    }
    body.update(overrides)
    return body


def ask(caseworker, allocation, payee: str | None = None, amount: str = "120.00") -> Disbursement:
    return disbursement_request(
        allocation=allocation,
        requested_by=caseworker.user,
        terms=terms(payee or f"Payee {secrets.token_hex(4)}", amount=amount),
    )


def access_entries(user, item) -> int:
    return LogEntry.objects.filter(
        action=Action.ACCESS,
        actor=user,
        content_type=ContentType.objects.get_for_model(Disbursement),
        object_pk=str(item.pk),
    ).count()


# --- Caseworkers ---------------------------------------------------------------------------


def test_a_caseworker_requests_money_and_sees_it_with_its_status(world):
    caseworker, _, _, _, _, allocation = world
    page = signed_in_client(caseworker)
    body = a_request_form(allocation)

    response = page.post(NEW, body)

    item = Disbursement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == one(item.pk)
    assert (item.amount, item.payee, item.requested_by) == (
        Decimal("120.00"),
        body["payee"],
        caseworker.user,
    )
    shown = text_of(page.get(one(item.pk)))
    assert body["payee"] in shown
    assert "Waiting for approval" in shown
    assert "One coordinator" in shown
    assert body["payee"] in text_of(page.get(FUNDS))  # under "Your requests"
    assert access_entries(caseworker.user, item) >= 2  # every page that showed it logged it


def test_the_allocation_a_link_names_is_offered_beyond_the_lists_limit(world, monkeypatch):
    caseworker, _, _, _, _, allocation = world
    monkeypatch.setattr("web.webmoney_views.MAX_CHOICES", 0)
    page = signed_in_client(caseworker)

    linked = page.get(f"{NEW}?allocation={allocation.pk}").content.decode()
    unlinked = page.get(NEW).content.decode()
    nonsense = page.get(f"{NEW}?allocation=not-an-id")

    assert f'<option value="{allocation.pk}" selected>' in linked
    assert str(allocation.pk) not in unlinked
    assert nonsense.status_code == 200


def test_a_form_pressed_twice_asks_once(world):
    caseworker, _, _, _, _, allocation = world
    page = signed_in_client(caseworker)
    body = a_request_form(allocation)

    first, second = page.post(NEW, body), page.post(NEW, body)

    assert Disbursement.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_refused_request_keeps_what_was_typed(world):
    caseworker, _, _, _, _, allocation = world
    body = a_request_form(allocation, amount="999999.00")  # more than the allocation holds

    response = signed_in_client(caseworker).post(NEW, body)

    assert response.status_code == 409
    assert Disbursement.objects.count() == 0
    html = response.content.decode()
    assert 'value="999999.00"' in html
    assert body["payee"] in html


def test_a_request_in_another_currency_without_a_reference_rate_is_refused(world):
    caseworker, _, _, _, _, allocation = world
    body = a_request_form(
        allocation,
        currency="RUB",
        amount="10000.00",
        exchange_rate="0.0102",
        rate_source="Exchange office",
        rate_date="2026-11-20",
    )

    response = signed_in_client(caseworker).post(NEW, body)

    assert response.status_code == 409
    assert "reference" in text_of(response).lower()
    assert Disbursement.objects.count() == 0


def test_a_caseworker_cannot_request_on_another_case(world, make_staff):
    _, _, _, _, _, allocation = world
    stranger = make_staff(Role.CASEWORKER)

    response = signed_in_client(stranger).post(NEW, a_request_form(allocation))

    assert response.status_code == 400  # not among their choices, as if it did not exist
    assert Disbursement.objects.count() == 0


def test_the_requester_changes_and_cancels_an_open_request(world):
    caseworker, first, _, _, _, allocation = world
    item = ask(caseworker, allocation)
    page = signed_in_client(caseworker)
    assert item.payee in page.get(f"{one(item.pk)}change/").content.decode()  # filled in

    changed = page.post(
        f"{one(item.pk)}change/",
        {**a_request_form(allocation, amount="150.00", payee="New payee"), "allocation": ""},
    )
    cancelled = page.post(f"{one(item.pk)}cancel/", {"cancel-reason": "Bought by a friend"})

    item.refresh_from_db()
    assert changed.status_code == cancelled.status_code == 302
    assert (item.amount, item.payee, item.status) == (Decimal("150.00"), "New payee", "cancelled")
    assert signed_in_client(first).get(f"{one(item.pk)}change/").status_code == 403


def test_a_caseworker_reads_why_a_request_was_rejected(world):
    caseworker, first, _, _, _, allocation = world
    item = ask(caseworker, allocation)
    page = signed_in_client(first)

    response = page.post(
        f"{one(item.pk)}reject/",
        {"reject-reason": "Tickets are cheaper on Tuesday", "reject-otp": first.fresh_totp()},
    )

    assert response.status_code == 302
    shown = text_of(signed_in_client(caseworker).get(one(item.pk)))
    assert "Rejected" in shown
    assert "Tickets are cheaper on Tuesday" in shown


# --- Coordinators: step-up ------------------------------------------------------------------


def test_a_wrong_code_approves_nothing_and_keeps_the_comment(world):
    caseworker, first, _, _, _, allocation = world
    item = ask(caseworker, allocation)
    code = first.fresh_totp()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    response = signed_in_client(first).post(
        f"{one(item.pk)}approve/",
        {"approve-comment": "Checked the fares", "approve-otp": wrong, **shown(item)},
    )

    assert response.status_code == 403
    assert not Approval.objects.exists()
    html = response.content.decode()
    assert "Checked the fares" in html
    assert wrong not in re.findall(r'value="([^"]*)"', html)  # the code is not shown back
    assert "authenticator" in text_of(response)


def test_a_reused_code_is_refused(world):
    caseworker, first, _, _, _, allocation = world
    one_item, other_item = ask(caseworker, allocation), ask(caseworker, allocation)
    page = signed_in_client(first)
    code = first.fresh_totp()

    used = page.post(f"{one(one_item.pk)}approve/", {"approve-otp": code, **shown(one_item)})
    again = page.post(
        f"{one(other_item.pk)}approve/",
        {"approve-otp": code, "approve-comment": "Fine", **shown(other_item)},
    )

    assert used.status_code == 302
    assert again.status_code == 403
    assert "Fine" in again.content.decode()
    assert list(Approval.objects.values_list("disbursement", flat=True)) == [one_item.pk]


def test_a_reject_needs_a_code_and_a_reason(world):
    caseworker, first, _, _, _, allocation = world
    item = ask(caseworker, allocation)
    page = signed_in_client(first)

    no_reason = page.post(f"{one(item.pk)}reject/", {"reject-otp": first.fresh_totp()})
    no_code = page.post(f"{one(item.pk)}reject/", {"reject-reason": "Too dear"})

    item.refresh_from_db()
    assert no_reason.status_code == no_code.status_code == 400
    assert item.status == "requested"
    assert "Too dear" in no_code.content.decode()


def test_several_requests_are_approved_under_one_code_each_its_own_approval(world):
    caseworker, first, _, _, _, allocation = world
    items = [ask(caseworker, allocation) for _ in range(3)]
    page = signed_in_client(first)
    inbox = page.get(FUNDS).content.decode()
    for item in items:  # each shown in full before the code is typed
        assert item.payee in inbox
        assert f'value="{item.pk}"' in inbox

    response = page.post(
        "/funds/approve/",
        {
            "selected": [str(items[0].pk), str(items[2].pk)],
            "otp": first.fresh_totp(),
            **shown_in_inbox(*items),
        },
    )

    assert response.status_code == 200
    assert "Approved 2 requests" in text_of(response)
    approved = Approval.objects.filter(approver=first.user, decision="approve")
    assert sorted(a.disbursement_id for a in approved) == sorted([items[0].pk, items[2].pk])
    assert (
        LogEntry.objects.filter(
            action=Action.CREATE, content_type=ContentType.objects.get_for_model(Approval)
        ).count()
        == 2
    )  # one audited approval each
    assert Disbursement.objects.get(pk=items[1].pk).status == "requested"


def test_several_approvals_with_a_wrong_code_approve_none_and_keep_the_ticks(world):
    caseworker, first, _, _, _, allocation = world
    items = [ask(caseworker, allocation) for _ in range(2)]

    response = signed_in_client(first).post(
        "/funds/approve/",
        {"selected": [str(items[1].pk)], "otp": "000000", **shown_in_inbox(*items)},
    )

    assert response.status_code == 403
    assert not Approval.objects.exists()
    assert re.search(rf'value="{items[1].pk}" id="[^"]+" checked', response.content.decode())


def test_one_cannot_approve_a_request_one_may_not_decide_through_the_selection(world):
    _caseworker, first, _, _, _, allocation = world
    mine = disbursement_request(
        allocation=allocation, requested_by=first.user, terms=terms("Own payee")
    )

    response = signed_in_client(first).post(
        "/funds/approve/", {"selected": [str(mine.pk)], "otp": first.fresh_totp()}
    )

    assert response.status_code == 400  # not among what waits for their decision
    assert not Approval.objects.exists()


def test_coordinator_a_approves_b_pays_with_the_receipt_and_the_requester_cannot(world):
    caseworker, first, second, _, _, allocation = world
    item = ask(caseworker, allocation)
    disbursement_approve(disbursement=item, approver=first.user)
    mine = disbursement_request(
        allocation=allocation, requested_by=second.user, terms=terms("Own payee")
    )
    disbursement_approve(disbursement=mine, approver=first.user)
    page = signed_in_client(second)
    assert "2 approved requests wait for their payment" in text_of(page.get(FUNDS))

    no_receipt = page.post(f"{one(item.pk)}pay/", {"pay-otp": second.fresh_totp()})
    paid = page.post(
        f"{one(item.pk)}pay/",
        {"pay-receipt_reference": "WU 123-456", "pay-otp": second.fresh_totp()},
    )
    own = page.post(
        f"{one(mine.pk)}pay/", {"pay-receipt_reference": "R-1", "pay-otp": second.fresh_totp()}
    )

    item.refresh_from_db()
    assert no_receipt.status_code == 400
    assert paid.status_code == 302
    assert (item.status, item.receipt_reference, item.paid_by) == (
        "paid",
        "WU 123-456",
        second.user,
    )
    assert own.status_code == 409
    assert "another coordinator" in text_of(own)
    assert Disbursement.objects.get(pk=mine.pk).status == "approved"


def test_too_many_wrong_codes_end_the_browser_session(world, settings):
    settings.STEP_UP_FAILURE_LIMIT = 2
    caseworker, first, _, _, _, allocation = world
    item = ask(caseworker, allocation)
    page = signed_in_client(first)

    page.post(f"{one(item.pk)}approve/", {"approve-otp": "000000", **shown(item)})
    ended = page.post(f"{one(item.pk)}approve/", {"approve-otp": "000001", **shown(item)})

    assert ended.status_code == 302
    assert "ended=revoked" in ended["Location"]
    assert page.get(FUNDS).status_code == 302  # signed out


# --- Auditors ------------------------------------------------------------------------------


def test_an_auditors_pages_never_contain_a_payee_name_or_note(world):
    caseworker, first, _second, auditor, case, allocation = world
    payee = f"Payee {secrets.token_hex(4)}"
    item = ask(caseworker, allocation, payee=payee)
    disbursement_approve(disbursement=item, approver=first.user, comment="Comment-on-approval")
    person_name = case.primary_person.full_name
    page = signed_in_client(auditor)

    for path in (
        FUNDS,
        LIST,
        one(item.pk),
        "/funds/sources/",
        "/funds/allocations/",
        "/funds/rates/",
    ):
        response = page.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        for secret in (payee, person_name, "Comment-on-approval"):
            assert secret not in html, (path, secret)
    assert "masked" in text_of(page.get(LIST))
    assert "masked" in text_of(page.get(one(item.pk)))
    assert access_entries(auditor.user, item) == 0  # nothing sealed was revealed
    assert (
        "<form"
        not in page.get(one(item.pk)).content.decode().split("<main", 1)[1].split("</main>")[0]
    )


# --- Sources, allocations, rates ----------------------------------------------------------


def test_a_coordinator_records_a_donation_once_however_often_the_form_is_sent(world):
    _, first, _, _, _, _ = world
    body = {
        "form_key": secrets.token_hex(8),
        "name": "Spring appeal",
        "kind": "donation_campaign",
        "currency": "EUR",
        "amount": "2500.00",
        "received_on": "2026-11-02",
        "restricted_to": ["travel", "housing"],
    }
    page = signed_in_client(first)

    responses = [page.post("/funds/sources/", body) for _ in range(2)]

    assert [r.status_code for r in responses] == [302, 302]
    source = FundingSource.objects.get(name="Spring appeal")
    assert (source.amount_received, source.restricted_to) == (
        Decimal("2500.00"),
        ["housing", "travel"],
    )
    assert "Spring appeal" in text_of(page.get("/funds/sources/"))


def test_a_source_amount_finer_than_its_currency_is_refused(world):
    _, first, _, _, _, _ = world
    body = {
        "name": "Yen gift",
        "kind": "other",
        "currency": "JPY",
        "amount": "10.5",
        "received_on": "2026-11-02",
    }

    response = signed_in_client(first).post("/funds/sources/", body)

    assert response.status_code == 400
    assert "JPY" in text_of(response)
    assert not FundingSource.objects.filter(name="Yen gift").exists()


def test_only_coordinators_record_sources_allocations_and_rates(world):
    caseworker, _, _, auditor, _, _ = world
    for staff in (caseworker, auditor):
        page = signed_in_client(staff)
        for path in ("/funds/sources/", "/funds/allocations/", "/funds/rates/"):
            assert page.post(path, {"name": "x"}).status_code == 403
            assert '<form method="post" class="stacked"' not in page.get(path).content.decode()


def test_a_coordinator_allocates_to_a_case_by_its_reference_and_closes_it(world):
    _, first, _, _, case, allocation = world
    page = signed_in_client(first)
    body = {
        "form_key": secrets.token_hex(8),
        "source": str(allocation.source_id),
        "case_reference": case.reference.lower(),
        "category": "housing",
        "amount": "300.00",
    }

    created = page.post("/funds/allocations/", body)
    unknown = page.post(
        "/funds/allocations/", {**body, "case_reference": "ZZZZZZ", "form_key": "k2"}
    )

    assert created.status_code == 302
    assert unknown.status_code == 400
    new = Allocation.objects.get(category="housing")
    assert new.case == case
    assert new.amount == Decimal("300.00")
    closed = page.post(f"/funds/allocations/{new.pk}/close/", {"form_key": "k3"})
    new.refresh_from_db()
    assert closed.status_code == 302
    assert new.status == "closed"


def test_a_coordinator_records_a_rouble_rate_and_a_future_date_is_refused(world):
    _, first, _, _, _, _ = world
    page = signed_in_client(first)
    body = {
        "from_currency": "rub",
        "to_currency": "EUR",
        "rate": "0.0102",
        "rate_date": "2026-11-20",
        "rate_source": "Exchange office board",
    }

    recorded = page.post("/funds/rates/", {**body, "form_key": "r1"})
    future = page.post("/funds/rates/", {**body, "rate_date": "2999-01-01", "form_key": "r2"})

    assert recorded.status_code == 302
    assert future.status_code == 400
    rate = ReferenceRate.objects.get()
    assert (rate.from_currency, rate.rate, rate.recorded_by) == (
        "RUB",
        Decimal("0.0102"),
        first.user,
    )


def test_a_rate_check_and_why_two_approvers_are_shown(world, settings):
    caseworker, first, _, _, _, allocation = world
    record_rate("RUB", "EUR", "0.0100")
    page = signed_in_client(caseworker)
    body = a_request_form(
        allocation,
        currency="RUB",
        amount="20000.00",
        exchange_rate="0.0110",
        rate_source="Exchange office",
        rate_date=str(timezone.localdate()),
    )

    response = page.post(NEW, body)

    assert response.status_code == 302, text_of(response)
    shown = text_of(signed_in_client(first).get(response["Location"]))
    assert "Outside the tolerance of the reference rate" in shown
    assert "Two coordinators" in shown
    assert "exchange rate is outside the tolerance" in shown


# --- Cost ------------------------------------------------------------------------------------


def queries_for(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_money_pages_cost_the_same_queries_at_any_size(world):
    caseworker, first, second, auditor, _, allocation = world
    pages = [
        (first, (FUNDS, LIST)),
        (caseworker, (FUNDS, LIST)),
        (auditor, (FUNDS, LIST, "/funds/allocations/", "/funds/sources/")),
    ]
    clients = [(staff, signed_in_client(staff), paths) for staff, paths in pages]

    def costs() -> dict[str, int]:
        return {
            f"{path} {staff.user}": queries_for(client, path)
            for staff, client, paths in clients
            for path in paths
        }

    for _ in range(2):
        paid_later = ask(caseworker, allocation, amount="50.00")
        disbursement_approve(disbursement=paid_later, approver=second.user)
        ask(caseworker, allocation, amount="50.00")
    small = costs()
    for _ in range(4):
        paid_later = ask(caseworker, allocation, amount="50.00")
        disbursement_approve(disbursement=paid_later, approver=second.user)
        ask(caseworker, allocation, amount="50.00")
    large = costs()

    assert large == small


def test_the_money_entry_of_the_navigation_is_current_on_every_money_page(world):
    caseworker, first, _, _, _, allocation = world
    item = ask(caseworker, allocation)
    page = signed_in_client(first)

    for path in (FUNDS, LIST, one(item.pk), "/funds/sources/", "/funds/rates/"):
        html = page.get(path).content.decode()
        assert '<a href="/funds/" aria-current="page">Money</a>' in html, path
    assert '<a href="/funds/">Money</a>' in page.get("/account/").content.decode()


def test_terms_changed_after_the_page_was_opened_are_not_approved(world):
    """The requester swaps amount and payee after the coordinator opened the request: the
    approval sent with the terms as shown is refused, on the request's page and in the inbox."""
    caseworker, first, _, _, _, allocation = world
    item, other = ask(caseworker, allocation), ask(caseworker, allocation)
    as_shown, inbox_as_shown = shown(item), shown_in_inbox(other)
    for changed in (item, other):
        disbursement_update(
            disbursement=changed,
            actor=caseworker.user,
            amount=Decimal("95.00"),
            payee="Someone else entirely",
        )
    page = signed_in_client(first)

    single = page.post(f"{one(item.pk)}approve/", {"approve-otp": first.fresh_totp(), **as_shown})
    several = page.post(
        "/funds/approve/",
        {"selected": [str(other.pk)], "otp": first.fresh_totp(), **inbox_as_shown},
    )
    unsent = page.post("/funds/approve/", {"selected": [str(other.pk)], "otp": "000000"})

    assert single.status_code == several.status_code == 409
    assert "changed after you opened it" in text_of(single)
    assert "changed after you opened it" in text_of(several)
    assert unsent.status_code in (403, 409)  # no terms sent: nothing approved either way
    assert not Approval.objects.exists()
