"""`Idempotency-Key` for the POSTs that move money: a retry creates nothing twice.

A client that lost the answer to a POST sends it again with the same key and body and gets the
first answer back (the record that request created, as it is now, with the same status). The
same key with a different body is refused (422): it is a client bug, and guessing which body was
meant would move the wrong money.

Only a keyed digest of the request is kept (`salted_hmac` under `SECRET_KEY`, so a payee's name
cannot be confirmed by hashing guesses). The key is claimed (a row, unique per staff member and
key) before anything else happens, and the claim is completed in the same transaction as the
work, so it is complete exactly when the money moved; a request that fails frees its key. A
copy that arrives while the first is still running answers at once with 409
`idempotency_key_in_progress` and `Retry-After` (a retry after it gets the first one's result):
neither the work nor the step-up check runs twice, and no worker waits on another's claim.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import Error, IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request

from funds.models import IdempotencyRecord

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was used with a different request; use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


@dataclass(frozen=True)
class Outcome:
    instance: Model
    status_code: int


def key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise ValidationError({"idempotency_key": ["Use 1 to 255 printable ASCII characters."]})
    return key


def fingerprint_of(request: Request, scope: str) -> str:
    """The step-up code is left out: it proves who is asking, not what is asked, and a person
    retrying by hand may well type a newer one."""
    data = request.data
    if isinstance(data, dict):
        data = {name: value for name, value in data.items() if name != "otp"}
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    message = "\n".join((scope, request.method, request.path, body))
    return salted_hmac("funds.idempotency", message, algorithm="sha256").hexdigest()


class KeyInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "A request with this Idempotency-Key is still being carried out; retry in a moment."
    )
    default_code = "idempotency_key_in_progress"
    wait = 1  # seconds, as Retry-After


# A claim is taken before the work starts, so copies of one request racing each other never
# do the work (or check the step-up code) twice. A copy that finds the key claimed answers at
# once (409 with Retry-After): no worker ever sleeps on someone else's claim.
#
# On PostgreSQL the claimer holds a session-level advisory lock on the key from before the
# claim until its request ends (released in a `finally`, and by the server when the connection
# dies): an unfinished claim whose lock is free belongs to a request that died, and is taken
# over at once. (A transaction-scoped lock would not do: the claim and the step-up check commit
# before the work.) SQLite has no such lock: an unfinished claim is taken over once it is older
# than any request may run (gunicorn's timeout is 30 s).
ABANDONED_AFTER = datetime.timedelta(seconds=35)


def claim_lock_id(user_pk: Any, key: str) -> int:
    """The advisory lock (a signed 64-bit integer) guarding `key` of one staff member."""
    digest = hashlib.sha256(f"funds.idempotency:{user_pk}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(lock_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def _unlock(lock_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def _uses_advisory_locks() -> bool:
    return connection.vendor == "postgresql"


def _find(
    request: Request, key: str, fingerprint: str, *, locked: bool
) -> IdempotencyRecord | None:
    """The finished record of this key, or None when the key is free (now claimed by us).

    `locked`: we hold the key's advisory lock (PostgreSQL), so no live request works on it.
    Raises 422 for a different request under the same key, and 409 at once when another copy
    of this request is still running."""
    record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if record is not None:
        now = timezone.now()
        finished = record.status_code is not None
        expired = record.created_at < now - settings.FUNDS_IDEMPOTENCY_TTL
        if not finished and _uses_advisory_locks():
            abandoned = locked  # its owner would hold the lock: it died
        else:
            abandoned = not finished and record.created_at < now - ABANDONED_AFTER
        if expired or abandoned:  # the key is free again
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            record = None
    if record is None:
        if _uses_advisory_locks() and not locked:
            raise KeyInProgress()  # its claimer holds the lock and is about to write the claim
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint
                )
        except IntegrityError:  # another copy claimed it a moment ago
            raise KeyInProgress() from None
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.status_code is not None:
        return record
    raise KeyInProgress()


def run_idempotent(
    request: Request,
    *,
    scope: str,
    perform: Callable[[], Outcome],
    replay: Callable[[Any], Model],
    before: Callable[[], None] = lambda: None,
) -> Outcome:
    """Run `perform` once per key: `before` (the step-up check) runs only when it will.

    `replay(object_id)` loads what an earlier request with this key created, scoped to the
    caller; `perform` runs in one transaction that also completes the key's record.
    """
    key = key_of(request)
    if key is None:
        before()
        with transaction.atomic():
            return perform()
    fingerprint = fingerprint_of(request, scope)
    lock_id = claim_lock_id(request.user.pk, key)
    locked = _uses_advisory_locks() and _try_lock(lock_id)
    try:
        earlier = _find(request, key, fingerprint, locked=locked)
        if earlier is not None:
            return Outcome(replay(earlier.object_id), earlier.status_code)
        try:
            before()
            with transaction.atomic():
                outcome = perform()
                IdempotencyRecord.objects.filter(user=request.user, key=key).update(
                    status_code=outcome.status_code, object_id=outcome.instance.pk
                )
                return outcome
        except BaseException:
            # Nothing was done: free the key, so a corrected retry with it is carried out.
            _best_effort(
                lambda: IdempotencyRecord.objects.filter(
                    user=request.user, key=key, status_code__isnull=True
                ).delete()
            )
            raise
    finally:
        if locked:
            _best_effort(lambda: _unlock(lock_id))


def _best_effort(cleanup: Callable[[], object]) -> None:
    # When the connection itself was lost, the cleanup cannot run, and must not hide the error
    # that says so (a 503 `outcome_unknown`, not a 500): the lock died with the connection, and
    # the unfinished claim it guarded is recognised as abandoned by the next retry.
    with contextlib.suppress(Error):
        cleanup()
