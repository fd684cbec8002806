"""The login lockout: OWASP's "device cookie" defence, kept in the database.

- A successful login returns a device token (signed, bound to the account, with a row here so
  it can be locked and killed). Sent back as `X-Device-Token`, it lets that device log in
  although others' failures locked the account or slowed the address. Failures that present
  it count against it alone, and lock it after LOGIN_FAILURE_LIMIT within the cool-off: a
  device token never grants unlimited guesses.
- Unknown devices (no token, or one that is not a live token of the account tried) face the
  account lockout: LOGIN_FAILURE_LIMIT failures within LOGIN_COOLOFF_MINUTES lock the account
  for them, whether or not the account exists (so the lockout says nothing about that).
- Failures from an address slow that address down for unknown devices (a delay that doubles
  with every failure past the limit, answered with `Retry-After`); they never lock an account
  the address did not try. `LOGIN_LIMIT_BY_ADDRESS=false` (a Tor onion service, where every
  client shares one address) stops counting addresses.

Failures are filed under keyed digests (HMAC under keys derived from ENCRYPTION_INDEX_KEY) of
the normalised name and of the address: never the name, which may be a password typed in the
wrong field, and nothing else from the request. `purge_login_attempts` forgets them after
LOGIN_ATTEMPT_RETENTION_DAYS, with the device tokens unused for as long.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Count, Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import DeviceToken, LoginFailure, User
from common.client_ip import client_ip_for
from common.exceptions import DomainError
from encryption.keyring import keyring

DEVICE_TOKEN_HEADER = "X-Device-Token"  # noqa: S105 (a header name, not a secret)
DEVICE_TOKEN_MAX_LENGTH = 200
# The first delay an address faces once it reached the limit; each further failure doubles it,
# up to the cool-off. Long enough that a script gains nothing, short enough that a colleague on
# the same network who mistyped once is barely held up.
ADDRESS_FIRST_DELAY = timedelta(seconds=15)

_SIGNER = signing.Signer(salt="accounts.device-token")
_ACCOUNT_LABEL = "accounts.login-attempt.account"
_ADDRESS_LABEL = "accounts.login-attempt.address"

LOCKOUT_MESSAGE = _(
    "Too many failed attempts. Try again later, or from a device that has logged in to this "
    "account before."
)


class LockedOut(DomainError):
    status_code = 429
    code = "locked_out"

    def __init__(self, *, until: datetime) -> None:
        super().__init__(str(LOCKOUT_MESSAGE))
        seconds = math.ceil((until - timezone.now()).total_seconds())
        self.headers = {"Retry-After": str(max(seconds, 1))}


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the digests a failure is filed under, and the device token presented if
    it is a live one of the account tried (`device_token` is then its text, to hand back)."""

    account: str
    address: str | None
    device: DeviceToken | None
    device_token: str | None


def _digest(label: str, value: str) -> str:
    key = keyring().index_key_for(label)
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _device_row(text: str | None, *, lock: bool = False) -> DeviceToken | None:
    """The live row of a device token whose signature and secret check out, or None."""
    if not text or len(text) > DEVICE_TOKEN_MAX_LENGTH or not text.isascii():
        return None
    try:
        pk_hex, _, secret = _SIGNER.unsign(text).partition(".")
        pk = uuid.UUID(hex=pk_hex)
    except (signing.BadSignature, ValueError):
        return None
    rows = DeviceToken.objects.filter(
        pk=pk, last_used_at__gte=timezone.now() - settings.LOGIN_ATTEMPT_RETENTION
    )
    row = (rows.select_for_update() if lock else rows).first()
    if row is None or not hmac.compare_digest(row.digest, _secret_digest(secret)):
        return None
    return row


def presented_device_token(request: HttpRequest) -> str | None:
    """The device token a client presents: the API's `X-Device-Token` header, or the one the
    web sign-in page read from its own cookie (`request.device_token`)."""
    return getattr(request, "device_token", None) or request.headers.get(DEVICE_TOKEN_HEADER)


def known_device(request: HttpRequest) -> bool:
    """Does the request carry a live device token (of any account)? Such a client is spared the
    login rate limit per address: its own failures are counted against its token."""
    return _device_row(presented_device_token(request)) is not None


def attempt_begin(*, request: HttpRequest, username: str, device_token: str | None) -> Attempt:
    """Identify the attempt and serialise it with others on the same counters, for the rest of
    the caller's transaction: the lockout is check-then-act (is it locked? try; count the
    failure), so concurrent attempts must queue or they would all pass the check first."""
    user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    device = _device_row(device_token, lock=True) if user_id is not None else None
    if device is not None and device.user_id != user_id:
        device = None  # another account's token: this is an unknown device here
    account = _digest(_ACCOUNT_LABEL, username)
    address = None
    if device is None and settings.LOGIN_LIMIT_BY_ADDRESS:
        address = _digest(_ADDRESS_LABEL, client_ip_for(request))
    if device is None:
        _serialise(account, address)
    return Attempt(
        account=account,
        address=address,
        device=device,
        device_token=device_token if device is not None else None,
    )


def _serialise(account: str, *addresses: str | None) -> None:
    """Attempts on one account, and from one address, queue behind each other. Locks are taken
    account first, then addresses in the order given (an unlock sorts them), so two attempts
    cannot deadlock. (The device path locks its token's row.)"""
    if connection.vendor == "postgresql":
        keys = [f"login-account:{account}"]
        keys += [f"login-address:{address}" for address in addresses if address is not None]
        with connection.cursor() as cursor:
            for key in keys:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
    # SQLite needs nothing: its transactions here take the database's write lock at BEGIN.


def refusal(attempt: Attempt) -> LockedOut | None:
    """The lockout that stops this attempt before its credentials are checked, if any."""
    now = timezone.now()
    since = now - settings.LOGIN_COOLOFF
    limit = settings.LOGIN_FAILURE_LIMIT
    if attempt.device is not None:
        return _locked(LoginFailure.objects.filter(device=attempt.device), since, limit)
    if attempt.address is not None:
        slowed_until = _address_slowed_until(attempt.address, now)
        if slowed_until is not None:
            return LockedOut(until=slowed_until)
    unknown_devices = LoginFailure.objects.filter(account=attempt.account, device__isnull=True)
    return _locked(unknown_devices, since, limit)


def _address_slowed_until(address: str, now: datetime) -> datetime | None:
    """Until when new devices from `address` (a digest) must wait, or None: a delay that
    doubles with each failure past the limit within the cool-off, at most the cool-off."""
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = LoginFailure.objects.filter(address=address, at__gte=now - settings.LOGIN_COOLOFF)
    counted = recent.aggregate(count=Count("id"), newest=Max("at"))
    if counted["count"] < limit:
        return None
    doublings = min(counted["count"] - limit, 20)
    delay = min(ADDRESS_FIRST_DELAY * 2**doublings, settings.LOGIN_COOLOFF)
    until = counted["newest"] + delay
    return until if now < until else None


def _locked(failures, since: datetime, limit: int) -> LockedOut | None:
    until = _locked_until(failures, since, limit)
    return None if until is None else LockedOut(until=until)


def _locked_until(failures, since: datetime, limit: int) -> datetime | None:
    """Locked while `limit` failures fall within the cool-off: until the oldest of the last
    `limit` leaves it."""
    times = list(
        failures.filter(at__gte=since).order_by("-at").values_list("at", flat=True)[:limit]
    )
    if len(times) < limit:
        return None
    return times[-1] + settings.LOGIN_COOLOFF


def failure_record(attempt: Attempt) -> None:
    """Count a failed attempt: against its device token if it presented a live one of the
    account, otherwise against the account (for unknown devices) and the address."""
    LoginFailure.objects.create(
        account=attempt.account, address=attempt.address, device=attempt.device
    )


@transaction.atomic
def device_token_issue(*, user: User, attempt: Attempt) -> str:
    """The device token to hand back after a successful login: the one presented, refreshed,
    or a new one for a device this account has not seen."""
    now = timezone.now()
    if attempt.device is not None and attempt.device_token is not None:
        attempt.device.last_used_at = now
        attempt.device.save(update_fields=["last_used_at"])
        return attempt.device_token
    secret = secrets.token_urlsafe(32)
    row = DeviceToken.objects.create(
        user=user, digest=_secret_digest(secret), created_at=now, last_used_at=now
    )
    return _SIGNER.sign(f"{row.pk.hex}.{secret}")


@transaction.atomic
def device_tokens_revoke(*, user: User) -> int:
    count, _ = DeviceToken.objects.filter(user=user).delete()
    return count


@transaction.atomic
def login_attempts_purge(*, now: datetime | None = None) -> tuple[int, int]:
    """Forget failures older than LOGIN_ATTEMPT_RETENTION_DAYS and device tokens unused for as
    long. Returns (failures, device tokens) deleted."""
    cutoff = (now or timezone.now()) - settings.LOGIN_ATTEMPT_RETENTION
    failures, _ = LoginFailure.objects.filter(at__lt=cutoff).delete()
    _, deleted = DeviceToken.objects.filter(last_used_at__lt=cutoff).delete()
    failures += deleted.get(LoginFailure._meta.label, 0)  # those counted against the tokens
    return failures, deleted.get(DeviceToken._meta.label, 0)


@dataclass(frozen=True)
class LockoutState:
    """Where an account stands with the lockout, for the admins' pages."""

    locked_until: datetime | None  # for unknown devices: None when not locked
    device_tokens_locked: int  # this account's device tokens locked by their own failures


def lockout_state(*, user: User) -> LockoutState:
    """Is `user` locked out for unknown devices now, and how many of their device tokens are
    locked? Reads only; three queries."""
    since = timezone.now() - settings.LOGIN_COOLOFF
    limit = settings.LOGIN_FAILURE_LIMIT
    account = _digest(_ACCOUNT_LABEL, user.username)
    unknown = LoginFailure.objects.filter(account=account, device__isnull=True)
    locked_until = _locked_until(unknown, since, limit)
    devices = (
        LoginFailure.objects.filter(device__user=user, at__gte=since)
        .values("device")
        .annotate(count=Count("id"))
        .filter(count__gte=limit)
        .count()
    )
    return LockoutState(locked_until=locked_until, device_tokens_locked=devices)


@dataclass(frozen=True)
class Cleared:
    """What `failures_clear` forgot, and whether any address that tried the account is still
    slowed down (by failures for other names, or every failure when `addresses` was False)."""

    account_failures: int  # unknown devices' failures against the account
    device_failures: int  # failures counted against the account's device tokens
    address_failures: int  # other failures from the addresses that tried it (addresses=True)
    addresses_still_slowed: int


def failures_clear(*, user: User, addresses: bool) -> Cleared:
    """Forget the failures that lock `user` out (against the account and against its device
    tokens) and, with `addresses`, every failure from the addresses that tried it, so a
    colleague behind the same office address is not held up either. Runs in the caller's
    transaction, queued behind attempts on the same counters (`_serialise`)."""
    account = _digest(_ACCOUNT_LABEL, user.username)
    own = LoginFailure.objects.filter(account=account, device__isnull=True)
    tried_from = sorted(set(own.exclude(address=None).values_list("address", flat=True)))
    _serialise(account, *tried_from)  # sorted: two unlocks cannot deadlock
    device_failures, _ = LoginFailure.objects.filter(device__user=user).delete()
    account_failures, _ = own.delete()
    address_failures = 0
    if addresses and tried_from:
        address_failures, _ = LoginFailure.objects.filter(address__in=tried_from).delete()
    now = timezone.now()
    still = sum(1 for address in tried_from if _address_slowed_until(address, now) is not None)
    return Cleared(
        account_failures=account_failures,
        device_failures=device_failures,
        address_failures=address_failures,
        addresses_still_slowed=still,
    )
