"""The admins' staff pages, everyone's account pages and enrolment, through the pages as a
browser sends them: each write goes through the same service as the API, each admin write needs
a fresh code (a wrong or reused one is refused and what was typed stays in the form), and the
panic buttons end the other person's open browser session."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP
from knox.models import AuthToken

from accounts.models import LoginFailure, StaffChange, TokenRecord, User
from accounts.roles import Role
from accounts.services import token_issue
from tests.accounts.helpers import a_wrong_code, login
from tests.web.helpers import controls_of, signed_in_client, text_of

pytestmark = pytest.mark.django_db

CODE_ONCE = re.compile(r'class="code-once" lang="en">([^<]+)</p>')


def shown_code(response) -> str:
    """The enrolment code (or the secret) a page shows once."""
    found = CODE_ONCE.findall(response.content.decode())
    assert found, "no code on the page"
    return found[0].strip()


def member_url(staff, action: str = "") -> str:
    return f"/staff/{staff.user.pk}/" + (f"{action}/" if action else "")


def ended_revoked(client: Client) -> bool:
    response = client.get("/account/")
    return response.status_code == 302 and "ended=revoked" in response["Location"]


def enrol_through_the_pages(client: Client, username: str, code: str, password: str):
    """Redeem the code, read the secret off the page, confirm with the app's first code."""
    redeemed = client.post("/enrol/", {"username": username, "code": code, "password": password})
    assert redeemed.status_code == 200, text_of(redeemed)
    secret = shown_code(redeemed).replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    otp = f"{TOTP(key).token():06d}"
    confirmed = client.post(
        "/enrol/confirm/",
        {"username": username, "code": code, "password": password, "otp": otp},
    )
    return redeemed, confirmed


# --- Creating staff, enrolment ------------------------------------------------------------


def test_an_admin_creates_a_member_who_enrols_and_signs_in_through_the_pages(make_staff):
    admin = make_staff(Role.ADMIN)
    page = signed_in_client(admin)

    created = page.post(
        "/staff/new/",
        {"username": "Madina-K", "roles": [Role.AUDITOR], "otp": admin.fresh_totp()},
    )

    assert created.status_code == 201
    code = shown_code(created)
    assert "shown only this once" in text_of(created)
    member = User.objects.get(username="madina-k")
    assert member.roles == {Role.AUDITOR}
    assert not member.has_usable_password()
    # The page that showed it once never shows it again.
    assert code not in page.get(f"/staff/{member.pk}/").content.decode()

    browser = Client()
    redeemed, confirmed = enrol_through_the_pages(
        browser, "madina-k", code, "a long new passphrase 7"
    )

    svg = re.search(r"<svg[^>]*>", redeemed.content.decode()).group(0)
    assert 'role="img"' in svg
    assert "style" not in svg
    assert "otpauth://" not in redeemed.content.decode()  # only inside the QR code's pixels
    assert len(re.findall(r"<li>[a-z2-7]{8}</li>", redeemed.content.decode())) == 10
    assert confirmed.status_code == 302
    assert browser.get("/account/").status_code == 200
    assert settings.UI_DEVICE_COOKIE_NAME in confirmed.cookies
    # Spent: the same code does not enrol anyone again.
    again = Client().post(
        "/enrol/", {"username": "madina-k", "code": code, "password": "a long new passphrase 7"}
    )
    assert again.status_code == 401


def test_a_wrong_or_reused_code_creates_nothing_and_keeps_what_was_typed(make_staff):
    admin = make_staff(Role.ADMIN)
    page = signed_in_client(admin)
    code = admin.fresh_totp()
    assert (
        page.post("/staff/new/", {"username": "first-one", "roles": ["auditor"], "otp": code})
    ).status_code == 201

    wrong = page.post(
        "/staff/new/",
        {"username": "second-one", "roles": ["auditor", "coordinator"], "otp": a_wrong_code(admin)},
    )
    reused = page.post(
        "/staff/new/", {"username": "third-one", "roles": ["coordinator"], "otp": code}
    )

    for response, username, roles in (
        (wrong, "second-one", {"auditor", "coordinator"}),
        (reused, "third-one", {"coordinator"}),
    ):
        assert response.status_code == 403
        html = response.content.decode()
        assert f'value="{username}"' in html
        checked = set(re.findall(r'<input[^>]*value="(\w+)"[^>]*checked', html))
        assert checked == roles
        assert "not used before" in text_of(response)
        assert not User.objects.filter(username=username).exists()
    otp_field = next(c for c in controls_of(reused).controls if c.get("name") == "otp")
    assert "value" not in otp_field  # a spent code is never written back into the form


def test_wrong_codes_on_the_pages_end_the_session_at_the_limit(make_staff):
    admin, target = make_staff(Role.ADMIN), make_staff(Role.CASEWORKER)
    page = signed_in_client(admin)

    responses = [
        page.post(member_url(target, "revoke"), {"revoke-otp": a_wrong_code(admin)})
        for _ in range(settings.STEP_UP_FAILURE_LIMIT)
    ]

    statuses = [response.status_code for response in responses]
    assert statuses[:-1] == [403] * (settings.STEP_UP_FAILURE_LIMIT - 1)
    assert statuses[-1] == 302
    assert "ended=revoked" in responses[-1]["Location"]
    assert page.get("/account/").status_code == 302
    assert target.user.is_active


# --- The panic buttons ---------------------------------------------------------------------


def test_the_deactivate_button_ends_the_other_persons_open_browser_session(make_staff):
    admin, target = make_staff(Role.ADMIN), make_staff(Role.CASEWORKER)
    targets_browser = signed_in_client(target)
    assert targets_browser.get("/account/").status_code == 200

    response = signed_in_client(admin).post(
        member_url(target, "deactivate"), {"deactivate-otp": admin.fresh_totp()}
    )

    assert response.status_code == 200
    assert "The account is deactivated" in text_of(response)
    assert ended_revoked(targets_browser)
    target.user.refresh_from_db()
    assert not target.user.is_active
    assert not AuthToken.objects.filter(user=target.user).exists()


def test_the_end_every_session_button_keeps_the_account(make_staff):
    admin, target = make_staff(Role.ADMIN), make_staff(Role.CASEWORKER)
    targets_browser = signed_in_client(target)
    token_issue(user=target.user)

    response = signed_in_client(admin).post(
        member_url(target, "revoke"), {"revoke-otp": admin.fresh_totp()}
    )

    assert "2 tokens were revoked" in text_of(response)
    assert ended_revoked(targets_browser)
    target.user.refresh_from_db()
    assert target.user.is_active


def test_a_panic_button_without_a_code_does_nothing(make_staff):
    admin, target = make_staff(Role.ADMIN), make_staff(Role.CASEWORKER)
    targets_browser = signed_in_client(target)

    response = signed_in_client(admin).post(member_url(target, "deactivate"), {})

    assert response.status_code == 400
    assert targets_browser.get("/account/").status_code == 200
    target.user.refresh_from_db()
    assert target.user.is_active


# --- Four eyes through the pages ------------------------------------------------------------


def test_a_grant_waits_for_a_second_admin_who_approves_it_on_the_changes_page(make_staff):
    first, second, target = make_staff(Role.ADMIN), make_staff(Role.ADMIN), make_staff()
    body = {"roles-roles": [Role.CASEWORKER, Role.COORDINATOR], "roles-otp": first.fresh_totp()}

    asked = signed_in_client(first).post(member_url(target, "roles"), body)

    assert "waits for another administrator" in text_of(asked)
    change = StaffChange.objects.get(status=StaffChange.Status.PENDING)
    own = signed_in_client(first).post(
        f"/staff/changes/{change.pk}/approve/",
        {f"c{change.pk.hex}-approve-otp": first.fresh_totp()},
    )
    assert own.status_code == 403
    assert "A second admin must approve this" in text_of(own)

    approved = signed_in_client(second).post(
        f"/staff/changes/{change.pk}/approve/",
        {f"c{change.pk.hex}-approve-otp": second.fresh_totp()},
    )

    assert approved.status_code == 200
    assert "approved and took effect" in text_of(approved)
    target.user._roles = None
    assert target.user.roles == {Role.CASEWORKER, Role.COORDINATOR}


def test_an_approved_reset_shows_the_enrolment_code_to_the_approving_admin(make_staff):
    first, second, target = make_staff(Role.ADMIN), make_staff(Role.ADMIN), make_staff()
    signed_in_client(first).post(member_url(target, "reset"), {"reset-otp": first.fresh_totp()})
    change = StaffChange.objects.get(status=StaffChange.Status.PENDING)

    approved = signed_in_client(second).post(
        f"/staff/changes/{change.pk}/approve/",
        {f"c{change.pk.hex}-approve-otp": second.fresh_totp()},
    )

    code = shown_code(approved)
    browser = Client()
    _, confirmed = enrol_through_the_pages(browser, target.user.username, code, target.password)
    assert confirmed.status_code == 302
    assert browser.get("/account/").status_code == 200


def test_an_admin_cannot_change_their_own_roles_on_the_page(make_staff):
    admin = make_staff(Role.ADMIN)
    make_staff(Role.ADMIN)
    body = {"roles-roles": [Role.ADMIN, Role.COORDINATOR], "roles-otp": admin.fresh_totp()}

    response = signed_in_client(admin).post(member_url(admin, "roles"), body)

    assert response.status_code == 403
    assert "Another admin must change your roles." in text_of(response)
    admin.user._roles = None
    assert admin.user.roles == {Role.ADMIN}


# --- Unlock ----------------------------------------------------------------------------------


def test_an_admin_unlocks_a_locked_out_member_on_the_page(make_staff):
    admin, target = make_staff(Role.ADMIN), make_staff(Role.CASEWORKER)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(target.login_body(password="not-the-password"), "203.0.113.50")
    page = signed_in_client(admin)
    assert "Locked for new devices until" in text_of(page.get(member_url(target)))

    response = page.post(member_url(target, "unlock"), {"unlock-otp": admin.fresh_totp()})

    assert response.status_code == 200
    assert "The account is unlocked." in text_of(response)
    assert "Not locked for new devices" in text_of(response)
    assert not LoginFailure.objects.exists()
    assert login(target.login_body(), "203.0.113.50").status_code == 200


# --- One's own account ------------------------------------------------------------------------


def test_the_account_page_lists_ones_own_sessions_and_ends_one(make_staff):
    staff, someone_else = make_staff(), make_staff()
    browser = signed_in_client(staff)
    Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="SeizedPhone/1.0").post(
        "/login/",
        {"username": staff.user.username, "password": staff.password, "otp": staff.totp()},
    )
    token_issue(user=someone_else.user)

    page = browser.get("/account/")

    text = text_of(page)
    assert "198.51.100.23" in text
    assert "SeizedPhone/1.0" in text
    assert "(this session)" in text
    assert (
        len(re.findall(r'action="/account/tokens/[0-9a-f-]{36}/end/"', page.content.decode())) == 2
    )
    seized = TokenRecord.objects.get(client="SeizedPhone/1.0")

    ended = browser.post(f"/account/tokens/{seized.pk}/end/")

    assert ended.status_code == 302
    assert not AuthToken.objects.filter(pk=seized.token_id).exists()
    assert browser.get("/account/").status_code == 200
    assert AuthToken.objects.filter(user=someone_else.user).exists()


def test_ending_ones_own_current_session_signs_out_and_ending_the_others_keeps_it(make_staff):
    staff = make_staff()
    browser = signed_in_client(staff)
    for _ in range(2):
        token_issue(user=staff.user)

    browser.post("/account/tokens/end-others/")

    assert AuthToken.objects.filter(user=staff.user).count() == 1
    current = TokenRecord.objects.get(token__user=staff.user)
    assert browser.get("/account/").status_code == 200
    signed_out = browser.post(f"/account/tokens/{current.pk}/end/")
    assert "ended=signed_out" in signed_out["Location"]
    assert browser.get("/account/").status_code == 302


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(make_staff):
    staff = make_staff()
    browser, other_browser = signed_in_client(staff), signed_in_client(staff)
    new = "another long passphrase 9"

    mismatch = browser.post(
        "/account/password/",
        {
            "current_password": staff.password,
            "new_password": new,
            "new_password_again": new + "x",
            "otp": staff.fresh_totp(),
        },
    )
    wrong = browser.post(
        "/account/password/",
        {
            "current_password": "not-my-password",
            "new_password": new,
            "new_password_again": new,
            "otp": staff.fresh_totp(),
        },
    )
    changed = browser.post(
        "/account/password/",
        {
            "current_password": staff.password,
            "new_password": new,
            "new_password_again": new,
            "otp": staff.fresh_totp(),
        },
    )

    assert mismatch.status_code == 400
    assert wrong.status_code == 403
    assert "The current password or the code is not right." in text_of(wrong)
    assert changed.status_code == 200
    assert "Your password is changed. 1 other session or token" in text_of(changed)
    assert browser.get("/account/").status_code == 200
    assert ended_revoked(other_browser)
    staff.user.refresh_from_db()
    assert staff.user.check_password(new)


def test_a_wrong_enrolment_is_refused_and_counted_by_the_lockout(make_staff):
    make_staff(username="not-enrolling")

    responses = [
        Client().post(
            "/enrol/",
            {"username": "not-enrolling", "code": "AAAA-BBBB-CCCC-DDDD", "password": "x" * 12},
        )
        for _ in range(settings.LOGIN_FAILURE_LIMIT)
    ]

    assert [r.status_code for r in responses[:-1]] == [401] * (settings.LOGIN_FAILURE_LIMIT - 1)
    assert responses[-1].status_code == 429
    assert "Too many failed attempts." in text_of(responses[-1])
    assert LoginFailure.objects.count() == settings.LOGIN_FAILURE_LIMIT


def test_the_staff_list_costs_the_same_queries_at_any_size(make_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = make_staff(Role.ADMIN)
    page = signed_in_client(admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert page.get("/staff/").status_code == 200
        return len(captured)

    make_staff(Role.AUDITOR)
    few = queries()
    for role in (Role.CASEWORKER, Role.COORDINATOR, Role.AUDITOR, Role.ADMIN) * 3:
        make_staff(role)
    assert queries() == few


def test_resetting_an_auditors_second_factor_shows_the_code_at_once(make_staff):
    admin, auditor = make_staff(Role.ADMIN), make_staff(Role.AUDITOR)
    auditors_browser = signed_in_client(auditor)

    response = signed_in_client(admin).post(
        member_url(auditor, "reset"), {"reset-otp": admin.fresh_totp()}
    )

    assert response.status_code == 200
    assert "The second factor is reset" in text_of(response)
    code = shown_code(response)
    assert ended_revoked(auditors_browser)
    old_backup = auditor.login_body(otp=auditor.backup_codes[0])
    assert login(old_backup, "198.51.100.60").status_code == 401
    _, confirmed = enrol_through_the_pages(Client(), auditor.user.username, code, auditor.password)
    assert confirmed.status_code == 302


def test_the_staff_pages_speak_russian(make_staff):
    admin, member = make_staff(Role.ADMIN), make_staff(Role.AUDITOR)
    page = signed_in_client(admin, HTTP_ACCEPT_LANGUAGE="ru")

    member_page = text_of(page.get(member_url(member)))
    enrol_page = text_of(Client(HTTP_ACCEPT_LANGUAGE="ru").get("/enrol/"))

    assert "Тревожные кнопки" in member_page
    assert "Отключить и завершить все сеансы" in member_page
    assert "Регистрация по коду" in enrol_page


def test_a_refused_code_on_a_members_page_keeps_the_chosen_roles_and_options(make_staff):
    admin, target = make_staff(Role.ADMIN), make_staff(Role.AUDITOR)
    page = signed_in_client(admin)
    used = admin.fresh_totp()
    assert page.post(member_url(target, "unlock"), {"unlock-otp": used}).status_code == 200

    roles = page.post(
        member_url(target, "roles"),
        {"roles-roles": [Role.AUDITOR, Role.COORDINATOR], "roles-otp": used},
    )
    unlock = page.post(
        member_url(target, "unlock"), {"unlock-addresses": "on", "unlock-otp": a_wrong_code(admin)}
    )

    assert roles.status_code == unlock.status_code == 403
    checked = set(
        re.findall(r'name="roles-roles" value="(\w+)"[^>]*checked', roles.content.decode())
    )
    assert checked == {Role.AUDITOR, Role.COORDINATOR}
    assert re.search(r'name="unlock-addresses"[^>]*checked', unlock.content.decode())
    target.user._roles = None
    assert target.user.roles == {Role.AUDITOR}


def test_the_navigation_marks_staff_and_account_on_their_sub_pages(make_staff):
    page = signed_in_client(make_staff(Role.ADMIN))

    for url, current in (
        ("/staff/new/", "/staff/"),
        ("/staff/changes/", "/staff/"),
        ("/account/password/", "/account/"),
    ):
        html = page.get(url).content.decode()
        assert re.findall(r'<a href="([^"]+)" aria-current="page"', html) == [current], url
