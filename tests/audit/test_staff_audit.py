"""The staff side is audited: who did what, from where, in which request, and never a secret."""

from __future__ import annotations

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from accounts.models import BackupCode, BackupCodeDevice, SealedTOTPDevice
from accounts.models.devices import backup_code_digest
from audit.exceptions import AuditError
from audit.models import Action, LogEntry
from tests.accounts.helpers import admin_post
from tests.conftest import LOGIN_URL

pytestmark = pytest.mark.django_db


def entries_about(instance, action=None):
    found = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_pk=str(instance.pk)
    ).order_by("sequence")
    return found.filter(action=action) if action is not None else found


def all_entries_text() -> str:
    return "\n".join(
        json.dumps([e.object_repr, e.changes, e.additional_data, e.changes_text])
        for e in LogEntry.objects.all()
    )


def test_creating_staff_records_the_account_roles_and_devices_without_secrets(make_staff):
    staff = make_staff("caseworker", "auditor")
    device = SealedTOTPDevice.objects.get(user=staff.user)

    created = entries_about(staff.user, Action.CREATE).get()
    roles = entries_about(staff.user, Action.UPDATE).get()
    assert created.changes["username"] == ["None", staff.user.username]
    assert created.changes["password"] == ["[redacted]", "[redacted]"]
    assert sorted(roles.changes["groups"]["objects"]) == ["auditor", "caseworker"]
    assert entries_about(device, Action.CREATE).get().changes["secret"] == [
        "[redacted]",
        "[redacted]",
    ]
    assert (
        LogEntry.objects.filter(content_type__model="backupcode", action=Action.CREATE).count()
        == 10
    )
    text = all_entries_text()
    assert device.secret not in text
    assert device.base32_secret not in text
    assert staff.password not in text
    assert staff.user.password not in text  # not even the hash
    assert not any(code in text for code in staff.backup_codes)
    assert not any(code.digest in text for code in BackupCode.objects.all())


def test_a_login_is_recorded_with_actor_address_and_correlation_id(api_client, make_staff):
    staff = make_staff()

    response = api_client.post(
        LOGIN_URL, staff.login_body(), format="json", REMOTE_ADDR="192.0.2.44"
    )

    login = entries_about(staff.user, Action.LOGIN).get()
    issued = entries_about(staff.user, Action.TOKEN_ISSUED).get()
    for entry in (login, issued):
        assert entry.actor == staff.user
        assert entry.remote_addr == "192.0.2.44"
        assert entry.cid == response["X-Request-ID"]


def test_a_failed_login_is_recorded_without_the_password_or_code(api_client, make_staff):
    staff = make_staff()
    wrong_password = "my-wrong-password-guess"

    api_client.post(LOGIN_URL, staff.login_body(password=wrong_password), format="json")
    api_client.post(
        LOGIN_URL,
        {"username": "no-such-user", "password": "x" * 12, "otp": "123456"},
        format="json",
    )

    failures = LogEntry.objects.filter(action=Action.LOGIN_FAILED).order_by("sequence")
    assert [f.additional_data["known_account"] for f in failures] == [True, False]
    assert failures[0].object_pk == str(staff.user.pk)
    assert failures[1].object_pk == ""
    assert all(f.actor is None for f in failures)
    assert wrong_password not in all_entries_text()
    assert staff.totp() not in all_entries_text()
    assert "no-such-user" not in all_entries_text()  # might have been a password typed there


def test_admin_actions_carry_the_admin_as_actor(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff()
    client = client_for(admin)

    response = admin_post(
        client, admin, f"/api/v1/staff/{target.user.pk}/deactivate/", REMOTE_ADDR="198.51.100.9"
    )

    deactivated = entries_about(target.user, Action.UPDATE).last()
    revoked = entries_about(target.user, Action.TOKEN_REVOKED).get()
    assert deactivated.changes == {"is_active": ["True", "False"]}
    assert deactivated.actor == admin.user
    assert deactivated.remote_addr == "198.51.100.9"
    assert deactivated.cid == response["X-Request-ID"]
    assert revoked.additional_data == {"count": 0, "device_tokens": 0, "reason": "deactivated"}
    assert revoked.actor == admin.user


def test_resetting_a_second_factor_records_the_old_devices_removed(make_staff, client_for):
    admin, target = make_staff("admin"), make_staff("auditor")
    old_device = SealedTOTPDevice.objects.get(user=target.user)

    admin_post(client_for(admin), admin, f"/api/v1/staff/{target.user.pk}/reset-second-factor/")

    assert entries_about(old_device, Action.DELETE).get().actor == admin.user
    assert (
        LogEntry.objects.filter(content_type__model="backupcode", action=Action.DELETE).count()
        == 10
    )


def test_using_a_backup_code_is_recorded_as_its_deletion(api_client, make_staff):
    staff = make_staff()
    device = BackupCodeDevice.objects.get(user=staff.user)
    digest = backup_code_digest(device_id=device.pk, code=staff.backup_codes[0])
    code = BackupCode.objects.get(device=device, digest=digest)

    api_client.post(LOGIN_URL, staff.login_body(otp=staff.backup_codes[0]), format="json")

    deleted = entries_about(code, Action.DELETE).get()
    assert deleted.changes["digest"] == ["[redacted]", "[redacted]"]


def test_a_rolled_back_change_leaves_no_entry(make_staff):
    staff = make_staff()
    before = LogEntry.objects.count()

    inside: list[int] = []

    def change_then_fail() -> None:
        with transaction.atomic():
            staff.user.is_active = False
            staff.user.save(update_fields=["is_active"])
            inside.append(LogEntry.objects.count())  # written in the same transaction
            raise RuntimeError("the change fails after it was logged")

    with pytest.raises(RuntimeError):
        change_then_fail()

    assert inside == [before + 1]
    assert LogEntry.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_audited_changes_outside_a_transaction_are_refused_before_they_happen(make_staff):
    staff = make_staff()
    device = BackupCodeDevice.objects.get(user=staff.user)
    entries = LogEntry.objects.count()
    assert not connection.in_atomic_block

    staff.user.is_active = False
    with pytest.raises(AuditError, match="inside a transaction"):
        staff.user.save(update_fields=["is_active"])
    with pytest.raises(AuditError, match="inside a transaction"):
        BackupCode.objects.create(device=device, digest="created-bare")

    staff.user.refresh_from_db()
    assert staff.user.is_active
    assert not BackupCode.objects.filter(digest="created-bare").exists()
    assert LogEntry.objects.count() == entries


@pytest.mark.django_db(transaction=True)
def test_deletions_and_role_changes_are_logged_in_their_own_transaction(make_staff):
    staff = make_staff()
    token = BackupCode.objects.filter(device__user=staff.user).first()
    token_pk = token.pk
    assert not connection.in_atomic_block

    token.delete()  # Django wraps these in a transaction; the entry is written inside it
    staff.user.groups.clear()

    token.pk = token_pk
    assert entries_about(token, Action.DELETE).exists()
    assert (
        entries_about(staff.user, Action.UPDATE).last().changes["groups"]["operation"] == "delete"
    )


def test_floats_are_refused_in_entries(make_staff):
    from audit.events import record_event

    staff = make_staff()

    with pytest.raises(TypeError, match="floats"):
        record_event(action=Action.LOGIN, instance=staff.user, data={"amount": 1.5})


def test_a_link_local_ipv6_client_is_audited_without_its_zone(api_client, make_staff):
    staff = make_staff()

    response = api_client.post(
        LOGIN_URL, staff.login_body(), format="json", REMOTE_ADDR="fe80::1%eth0"
    )

    assert response.status_code == 200
    assert entries_about(staff.user, Action.LOGIN).get().remote_addr == "fe80::1"


def test_an_attempt_on_a_locked_account_is_audited_as_locked(api_client, make_staff, settings):
    staff = make_staff()
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        api_client.post(LOGIN_URL, staff.login_body(password=f"wrong-{n}-password"), format="json")

    api_client.post(LOGIN_URL, staff.login_body(), format="json")

    last = entries_about(staff.user, Action.LOGIN_FAILED).last()
    assert last.additional_data == {"known_account": True, "locked_out": True, "step": "login"}
