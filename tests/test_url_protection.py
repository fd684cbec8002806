"""Every API endpoint, enumerated from the URL conf, refuses a missing or dead token with 401.

An endpoint added later without protection fails here, because the list comes from the URL
conf itself and only the public endpoints of the design are exempt.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import token_issue, tokens_revoke_all
from tests.urlconf import url_paths

PUBLIC = {
    "/healthz",
    "/readyz",
    "/api/v1/auth/login/",
    "/api/v1/auth/enrol/",
    "/api/v1/auth/enrol/confirm/",
    "/api/v1/schema/",
    "/api/v1/docs/",
}
METHODS = ["get", "head", "options", "post", "put", "patch", "delete"]
# The web pages (mounted at `/`) sign in by session, not token: tests/web/test_page_matrix.py
# proves that every one of them without a live session redirects to the sign-in page.
PROTECTED = sorted({path for _, path in url_paths() if path.startswith("/api/")} - PUBLIC)


def test_the_enumeration_sees_the_public_and_the_protected_endpoints():
    assert {path for _, path in url_paths()} >= PUBLIC
    assert {"/api/v1/auth/me/", "/api/v1/auth/logout-all/", "/api/v1/staff/"} <= set(PROTECTED)


@pytest.fixture
def dead_credentials(make_staff) -> dict[str, str]:
    """One header per way a token can be dead."""
    expired_user, revoked_user, deactivated_user = make_staff(), make_staff(), make_staff()
    _, expired = AuthToken.objects.create(user=expired_user.user, expiry=timedelta(seconds=-1))
    revoked = token_issue(user=revoked_user.user).token
    tokens_revoke_all(user=revoked_user.user, reason="test")
    deactivated = token_issue(user=deactivated_user.user).token
    deactivated_user.user.is_active = False
    deactivated_user.user.save(update_fields=["is_active"])
    return {
        "none": "",
        "expired": f"Bearer {expired}",
        "revoked": f"Bearer {revoked}",
        "deactivated": f"Bearer {deactivated}",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", PROTECTED)
def test_every_protected_endpoint_refuses_dead_credentials(dead_credentials, path):
    failures = []
    for kind, header in dead_credentials.items():
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        for method in METHODS:
            response = getattr(client, method)(path, {}, format="json")
            body_ok = method == "head" or response.json().get("status") == 401
            if response.status_code != 401 or not body_ok:
                failures.append(
                    f"{method.upper()} {path} with {kind} token: {response.status_code}"
                )
    assert not failures


@pytest.mark.django_db
def test_a_live_token_passes_the_same_gate(make_staff, client_for):
    # Guards the test above against passing because every request fails for another reason.
    client = client_for(make_staff())
    assert client.get("/api/v1/auth/me/").status_code == 200
