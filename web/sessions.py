"""Browser sessions, each bound to one token of the accounts login service.

The session (a row in the database, never the cache) holds only the bound token's identity
(knox's SHA-512 digest, which knox itself stores) and the time of the last page request; never
the token, a password or a code. On every page request the token must still exist, be unexpired
and belong to an active account, and the session must not have been idle for longer than
`UI_IDLE_TIMEOUT`: so logout-all, deactivation, a second-factor reset, revocation and the
token's own expiry end the browser session too, at its next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken

from accounts.models import User
from accounts.selectors import live_token
from accounts.services import IssuedToken, LoginFailed, token_revoke, token_touch

_BOUND_DIGEST = "web.token"  # the digest of the bound token
_LAST_SEEN = "web.seen"  # POSIX seconds of the last page request

# Why a session ended, as the sign-in page explains it (web.views.ENDED_MESSAGES).
ENDED_SIGNED_OUT = "signed_out"
ENDED_IDLE = "idle"
ENDED_REVOKED = "revoked"


@dataclass(frozen=True)
class WebSession:
    user: User
    token: AuthToken
    idle_ends_at: datetime  # when the session ends if no page is requested before
    ends_at: datetime  # the bound token's expiry: no activity keeps the session past it

    @property
    def next_end(self) -> datetime:
        return min(self.idle_ends_at, self.ends_at)


def session_start(*, request: HttpRequest, issued: IssuedToken) -> WebSession:
    """Bind a fresh session to a token the login service has just issued. The old session,
    if any, is deleted and the key and the CSRF secret change, so nothing an attacker planted
    before sign-in survives it."""
    request.session.flush()
    rotate_token(request)
    digest = hash_token(issued.token)
    now = timezone.now()
    request.session[_BOUND_DIGEST] = digest
    request.session[_LAST_SEEN] = now.timestamp()
    token = live_token(digest=digest)
    if token is None:  # issued a moment ago: only a concurrent deactivation gets here
        request.session.flush()
        raise LoginFailed()
    return _describe(token=token, now=now)


def session_resume(*, request: HttpRequest) -> WebSession | str | None:
    """This request's session: a live WebSession (its idle clock restarted), the reason it has
    just ended (one of the ENDED_ codes; the session is then emptied), or None when there
    was none."""
    digest = request.session.get(_BOUND_DIGEST)
    if not isinstance(digest, str):
        return None
    token = live_token(digest=digest)
    if token is None:
        request.session.flush()
        return ENDED_REVOKED
    now = timezone.now()
    last_seen = request.session.get(_LAST_SEEN)
    if not isinstance(last_seen, float) or now.timestamp() - last_seen > _idle_seconds():
        session_end(request=request, token=token, reason="idle timeout")
        return ENDED_IDLE
    request.session[_LAST_SEEN] = now.timestamp()
    # As the API's authentication does: the account page says when each token was last used.
    token_touch(token=token)
    return _describe(token=token, now=now)


def session_end(*, request: HttpRequest, token: AuthToken | None, reason: str) -> None:
    """Revoke the bound token (audited with `reason`) and delete the session."""
    if token is None:
        digest = request.session.get(_BOUND_DIGEST)
        token = live_token(digest=digest) if isinstance(digest, str) else None
    if token is not None:
        token_revoke(token=token, reason=reason)
    request.session.flush()


def remember_device(response: HttpResponse, device_token: str | None) -> None:
    """Keep the device token the login service issued in this browser's own cookie (HttpOnly,
    SameSite=Strict, Secure and `__Host-` in production), for as long as the service remembers
    device tokens: this browser's later failures count against it, and it can sign in although
    strangers' failures hold the account up for new devices."""
    if not device_token:
        return
    response.set_cookie(
        settings.UI_DEVICE_COOKIE_NAME,
        device_token,
        max_age=int(settings.LOGIN_ATTEMPT_RETENTION.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def _idle_seconds() -> float:
    return settings.UI_IDLE_TIMEOUT.total_seconds()


def _describe(*, token: AuthToken, now: datetime) -> WebSession:
    return WebSession(
        user=token.user,
        token=token,
        idle_ends_at=now + timedelta(seconds=_idle_seconds()),
        ends_at=token.expiry,
    )
