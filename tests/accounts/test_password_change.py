"""Changing one's own password: the current one and a fresh code; every other token and every
device token ends; a stolen token cannot use it to guess the password."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import DeviceToken
from accounts.services import token_issue
from tests.accounts.helpers import a_wrong_code, known_device, login

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/password/"
ME = "/api/v1/auth/me/"
NEW = "a brand new passphrase 2026"


def change(client, staff, **overrides):
    body = {"current_password": staff.password, "new_password": NEW, "otp": staff.fresh_totp()}
    body.update(overrides)
    return client.post(URL, body, format="json")


def test_a_password_change_ends_every_other_token_and_every_device_token(make_staff, client_for):
    staff = make_staff()
    known_device(staff)
    other = token_issue(user=staff.user).token
    client = client_for(staff)

    response = change(client, staff)

    assert response.status_code == 200
    assert response.json() == {"revoked": 2}  # the other token and the one known_device got
    assert not DeviceToken.objects.filter(user=staff.user).exists()
    assert client.get(ME).status_code == 200  # the caller's own stays
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Bearer {other}").get("/api/v1/auth/me/").status_code == 401
    )
    assert login(staff.login_body(), "10.9.0.1").status_code == 401  # the old password
    with_new = login(staff.login_body(password=NEW, otp=staff.fresh_totp()), "10.9.0.2")
    assert with_new.status_code == 200


def test_a_stolen_token_cannot_guess_the_password_here(make_staff, client_for):
    staff = make_staff()
    client = client_for(staff)

    answers = [
        change(client, staff, current_password=f"guess-{n}-password").status_code
        for n in range(settings.STEP_UP_FAILURE_LIMIT + 1)
    ]

    limit = settings.STEP_UP_FAILURE_LIMIT
    assert answers == [403] * (limit - 1) + [401, 401]
    assert login(staff.login_body(), "10.9.1.1").status_code == 200  # unchanged


def test_a_wrong_code_changes_nothing(make_staff, client_for):
    staff = make_staff()

    response = change(client_for(staff), staff, otp=a_wrong_code(staff))

    assert response.status_code == 403
    assert login(staff.login_body(), "10.9.2.1").status_code == 200


def test_a_weak_new_password_is_refused_with_its_field(make_staff, client_for):
    staff = make_staff()

    response = change(client_for(staff), staff, new_password="password")

    assert response.status_code == 400
    assert "new_password" in response.json()["fields"]
