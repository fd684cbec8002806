"""The staff management commands, as an administrator at a terminal would use them."""

from __future__ import annotations

import io
import re
import time
from base64 import b32decode
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from knox.models import AuthToken

from accounts.models import SealedTOTPDevice, User
from accounts.services import token_issue
from tests.conftest import LOGIN_URL

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def create_staff(monkeypatch, *args: str, password: str = PASSWORD) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("create_staff", *args, "--password-stdin", stdout=out)
    return out.getvalue()


def code_from_uri(uri: str) -> str:
    """What an authenticator app computes from the printed URI."""
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    key = b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_create_staff_prints_an_enrolment_that_logs_in(monkeypatch, api_client):
    output = create_staff(monkeypatch, "Amina", "--role", "caseworker", "--role", "coordinator")

    uri = re.search(r"otpauth://totp/\S+", output).group(0)
    codes = re.findall(r"^  ([a-z2-7]{8})$", output, flags=re.MULTILINE)
    assert len(codes) == 10
    assert "█" in output  # the QR code
    user = User.objects.get(username="amina")
    assert user.roles == {"caseworker", "coordinator"}

    login = api_client.post(
        LOGIN_URL,
        {"username": "amina", "password": PASSWORD, "otp": code_from_uri(uri)},
        format="json",
    )
    assert login.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}")
    assert api_client.get("/api/v1/auth/me/").json()["username"] == "amina"


def test_create_staff_refuses_a_weak_password(monkeypatch):
    with pytest.raises(CommandError, match=r"too short|too common"):
        create_staff(monkeypatch, "weakling", "--role", "caseworker", password="password")

    assert not User.objects.filter(username="weakling").exists()


def test_create_staff_refuses_a_duplicate_or_invalid_username(monkeypatch):
    create_staff(monkeypatch, "kheda", "--role", "auditor")

    with pytest.raises(CommandError, match="already exists"):
        create_staff(monkeypatch, "KHEDA", "--role", "auditor")
    with pytest.raises(CommandError, match="lowercase"):
        create_staff(monkeypatch, "no spaces allowed", "--role", "auditor")


def test_create_staff_without_a_terminal_or_stdin_password_refuses(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    with pytest.raises(CommandError, match="--password-stdin"):
        call_command("create_staff", "nostdin", "--role", "caseworker", stdout=io.StringIO())


def test_deactivate_and_revoke_commands_kill_tokens(make_staff):
    staff = make_staff()
    token_issue(user=staff.user)

    run("revoke_tokens", staff.user.username)
    assert not AuthToken.objects.filter(user=staff.user).exists()

    token_issue(user=staff.user)
    run("deactivate_staff", staff.user.username)
    staff.user.refresh_from_db()
    assert not staff.user.is_active
    assert not AuthToken.objects.filter(user=staff.user).exists()


def test_reset_second_factor_command_prints_a_new_enrolment_that_logs_in(make_staff, api_client):
    staff = make_staff()
    old_secret = staff.device.secret

    output = run("reset_second_factor", staff.user.username)

    uri = re.search(r"otpauth://totp/\S+", output).group(0)
    assert staff.device.secret != old_secret
    assert f"Secret, to type in by hand: {staff.device.base32_secret}" in output
    login = api_client.post(LOGIN_URL, staff.login_body(otp=code_from_uri(uri)), format="json")
    assert login.status_code == 200


def test_commands_name_an_unknown_user_clearly():
    with pytest.raises(CommandError, match="No staff member"):
        run("deactivate_staff", "ghost")


def test_demo_commands_refuse_outside_development(settings, make_staff):
    settings.DEV_MODE = False
    make_staff(username="demo-caseworker")

    with pytest.raises(CommandError, match="development"):
        run("seed_demo")
    with pytest.raises(CommandError, match="development"):
        run("totp_now", "demo-caseworker")


def test_seed_demo_creates_one_demo_member_per_role(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # not the developer's own var/demo-staff.json
    output = run("seed_demo")

    assert {u.username: set(u.roles) for u in User.objects.all()} == {
        "demo-admin": {"admin"},
        "demo-auditor": {"auditor"},
        "demo-caseworker": {"caseworker"},
        "demo-coordinator": {"coordinator"},
    }
    assert output.count("otpauth://totp/") == 4
    assert re.fullmatch(r"\d{6}\n", run("totp_now", "demo-auditor"))


def test_seed_demo_keeps_the_demo_staff_and_their_secrets_across_runs(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = run("seed_demo", "--address", "http://127.0.0.1:8123")
    secret = SealedTOTPDevice.objects.get(user__username="demo-coordinator").base32_secret
    password = re.search(r"demo-coordinator  password: (\S+)", first).group(1)

    second = run("seed_demo")

    assert SealedTOTPDevice.objects.get(user__username="demo-coordinator").base32_secret == secret
    assert f"demo-coordinator  password: {password}" in second
    assert "kept from before" in second
    assert "http://127.0.0.1:8123/" in first
    assert User.objects.get(username="demo-coordinator").check_password(password)
    assert oct((tmp_path / "demo-staff.json").stat().st_mode & 0o777) == "0o600"


def test_seed_demo_reset_makes_new_secrets(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    run("seed_demo")
    secret = SealedTOTPDevice.objects.get(user__username="demo-auditor").base32_secret

    run("seed_demo", "--reset")

    assert SealedTOTPDevice.objects.get(user__username="demo-auditor").base32_secret != secret


def test_seed_demo_resets_an_account_whose_password_no_longer_matches(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    run("seed_demo")
    user = User.objects.get(username="demo-caseworker")
    user.set_password("changed-by-hand-123")
    user.save(update_fields=["password"])

    output = run("seed_demo")

    password = re.search(r"demo-caseworker  password: (\S+)", output).group(1)
    assert User.objects.get(username="demo-caseworker").check_password(password)
