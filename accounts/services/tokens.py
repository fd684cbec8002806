"""API tokens (django-rest-knox) and what each one records: issue, use, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from accounts.lockout import device_tokens_revoke
from accounts.models import TokenRecord, User
from accounts.models.tokens import CLIENT_MAX_LENGTH
from audit import writes
from audit.events import record_event
from audit.models import Action
from common.client_ip import client_ip_for

# A token's last use is written when it is older than this: often enough to tell which token a
# seized phone holds, rarely enough that reading the API does not turn every request into a
# write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str
    expiry: datetime
    device_token: str | None = None


def client_of(request: HttpRequest | None) -> tuple[str, str]:
    """(address, client) as a token records them: the user agent is cut short and stripped of
    anything but printable ASCII, so it shows as it was sent and cannot fill a row."""
    if request is None:
        return "", ""
    agent = request.META.get("HTTP_USER_AGENT", "")
    agent = "".join(char for char in agent if " " <= char <= "~")
    return client_ip_for(request)[:64], agent[:CLIENT_MAX_LENGTH]


@writes.atomic
def token_issue(*, user: User, request: HttpRequest | None = None) -> IssuedToken:
    instance, token = AuthToken.objects.create(user=user)
    address, client = client_of(request)
    TokenRecord.objects.create(
        token=instance, issued_at=instance.created, issued_from=address, client=client
    )
    record_event(
        action=Action.TOKEN_ISSUED, instance=user, data={"expiry": instance.expiry.isoformat()}
    )
    return IssuedToken(user=user, token=token, expiry=instance.expiry)


def token_touch(*, token: AuthToken) -> None:
    """Note that `token` was used now, at most once per LAST_USED_RESOLUTION: one indexed read
    per request, and a write only when the last one is stale."""
    now = timezone.now()
    last = TokenRecord.objects.filter(token=token).values_list("last_used_at", flat=True).first()
    if last is None or last > now - LAST_USED_RESOLUTION:
        return
    TokenRecord.objects.filter(token=token, last_used_at=last).update(last_used_at=now)


@writes.atomic
def token_revoke(*, token: AuthToken, reason: str = "logout") -> None:
    AuthToken.objects.filter(pk=token.pk).delete()
    record_event(
        action=Action.TOKEN_REVOKED, instance=token.user, data={"count": 1, "reason": reason}
    )


@writes.atomic
def tokens_revoke_all(*, user: User, reason: str, keep: AuthToken | None = None) -> int:
    """Every API token of `user` (but `keep`, the caller's own, when given) and every device
    token: whatever a lost or seized device holds stops working. Returns the API tokens
    revoked."""
    tokens = AuthToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    _, deleted = tokens.delete()
    count = deleted.get(AuthToken._meta.label, 0)  # not the token records deleted with them
    devices = device_tokens_revoke(user=user)
    record_event(
        action=Action.TOKEN_REVOKED,
        instance=user,
        data={"count": count, "device_tokens": devices, "reason": reason},
    )
    return count
