"""Tokens die on logout, logout-all, deactivation, revocation and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import DeviceToken, TokenRecord
from accounts.services import staff_deactivate, token_issue
from tests.accounts.helpers import known_device
from tests.conftest import LOGIN_URL

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
TOKENS = "/api/v1/auth/tokens/"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_me_describes_the_caller(make_staff):
    staff = make_staff("coordinator", "auditor")
    issued = token_issue(user=staff.user)

    body = bearer(issued.token).get(ME).json()

    assert body["username"] == staff.user.username
    assert body["roles"] == ["auditor", "coordinator"]
    assert body["id"] == str(staff.user.pk)


def test_logout_kills_only_the_token_it_was_sent_with(make_staff):
    staff = make_staff()
    kept, killed = token_issue(user=staff.user).token, token_issue(user=staff.user).token

    assert bearer(killed).post("/api/v1/auth/logout/").status_code == 204

    assert bearer(killed).get(ME).status_code == 401
    assert bearer(kept).get(ME).status_code == 200


def test_logout_all_kills_every_token_of_the_caller(make_staff):
    staff, other = make_staff(), make_staff()
    tokens = [token_issue(user=staff.user).token for _ in range(3)]
    others = token_issue(user=other.user).token

    response = bearer(tokens[0]).post("/api/v1/auth/logout-all/")

    assert response.json() == {"revoked": 3}
    assert [bearer(token).get(ME).status_code for token in tokens] == [401, 401, 401]
    assert bearer(others).get(ME).status_code == 200


def test_deactivation_kills_tokens(make_staff):
    staff = make_staff()
    token = token_issue(user=staff.user).token

    staff_deactivate(user=staff.user)

    assert bearer(token).get(ME).status_code == 401
    assert not AuthToken.objects.filter(user=staff.user).exists()


def test_a_token_of_an_inactive_user_is_refused_even_if_it_survived(make_staff):
    staff = make_staff()
    token = token_issue(user=staff.user).token

    staff.user.is_active = False
    staff.user.save(update_fields=["is_active"])

    assert bearer(token).get(ME).status_code == 401


def test_an_expired_token_is_refused_and_removed(make_staff):
    staff = make_staff()
    _, token = AuthToken.objects.create(user=staff.user, expiry=timedelta(seconds=-1))

    response = bearer(token).get(ME)

    assert response.status_code == 401
    assert not AuthToken.objects.filter(user=staff.user).exists()


def test_tokens_expire_after_the_configured_lifetime(make_staff, settings):
    staff = make_staff()

    issued = token_issue(user=staff.user)

    assert abs(issued.expiry - (timezone.now() + settings.TOKEN_TTL)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer " + "0" * 64,
        "Bearer " + "g" * 64,
        "Bearer abc def",
        "Bearer \u00e9\u00e9\u00e9",
        "Token " + "0" * 64,
        "Basic dXNlcjpwYXNz",
    ],
)
def test_malformed_or_unknown_credentials_get_401_not_500(make_staff, header):
    make_staff()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_a_token_records_when_where_and_with_which_client_it_was_issued(make_staff, api_client):
    staff = make_staff()
    agent = "Mozilla/5.0 (Android 14; Mobile) Firefox/128.0 " + "x" * 300

    issued = api_client.post(
        LOGIN_URL, staff.login_body(), format="json", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT=agent
    ).json()
    listed = bearer(issued["token"]).get(TOKENS).json()["results"]

    assert len(listed) == 1
    row = listed[0]
    assert set(row) == {
        "id",
        "issued_at",
        "issued_from",
        "client",
        "last_used_at",
        "expiry",
        "current",
    }
    assert row["issued_from"] == "192.0.2.7"
    assert row["client"] == agent[:200]
    assert row["current"] is True
    assert issued["token"] not in str(listed)
    assert issued["token"][:15] not in str(listed)


def test_the_last_use_is_written_at_most_once_a_minute(make_staff):
    staff = make_staff()
    issued = token_issue(user=staff.user)
    record = TokenRecord.objects.get(token__user=staff.user)
    client = bearer(issued.token)

    client.get(ME)
    unchanged = TokenRecord.objects.get(pk=record.pk).last_used_at
    TokenRecord.objects.filter(pk=record.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    client.get(ME)
    moved = TokenRecord.objects.get(pk=record.pk).last_used_at

    assert unchanged == record.last_used_at
    assert timezone.now() - moved < timedelta(seconds=5)


def test_each_person_lists_and_ends_only_their_own_tokens(make_staff):
    staff, other = make_staff(), make_staff()
    current, spare = token_issue(user=staff.user).token, token_issue(user=staff.user).token
    others = token_issue(user=other.user).token
    client = bearer(current)
    listed = {row["current"]: row["id"] for row in client.get(TOKENS).json()["results"]}
    others_id = bearer(others).get(TOKENS).json()["results"][0]["id"]

    ended = client.post(f"{TOKENS}{listed[False]}/revoke/")
    foreign = client.post(f"{TOKENS}{others_id}/revoke/")

    assert len(listed) == 2
    assert ended.status_code == 204
    assert bearer(spare).get(ME).status_code == 401
    assert bearer(current).get(ME).status_code == 200
    assert foreign.status_code == 404
    assert bearer(others).get(ME).status_code == 200


def test_logout_all_also_ends_every_device_token(make_staff):
    staff = make_staff()
    known_device(staff)
    token = token_issue(user=staff.user).token

    response = bearer(token).post("/api/v1/auth/logout-all/")

    assert response.status_code == 200
    assert not DeviceToken.objects.filter(user=staff.user).exists()
