"""`Idempotency-Key` for the POSTs that move money: a retry creates nothing twice.

A client that lost the answer to a POST sends it again with the same key and body and gets the
first answer back (the record that request created, as it is now, with the same status). The
same key with a different body is refused (422): it is a client bug, and guessing which body was
meant would move the wrong money.

Only a keyed digest of the request is kept (`salted_hmac` under `SECRET_KEY`, so a payee's name
cannot be confirmed by hashing guesses). The key is claimed (a row, unique per staff member and
key) before anything else happens, and the claim is completed in the same transaction as the
work, so it is complete exactly when the money moved; a request that fails frees its key. A
copy that arrives while the first is still running waits for it and answers with its result:
neither the work nor the step-up check runs twice.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
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


# A claim is taken before the work starts, so copies of one request racing each other wait for
# the first and answer with its result instead of doing the work (or checking the step-up code)
# again. How long a copy waits, and after how long a claim whose request died is taken over
# (longer than any request may run: gunicorn's timeout is 30 s).
WAIT_FOR_CLAIM = 5.0
ABANDONED_AFTER = datetime.timedelta(minutes=2)
_POLL = 0.05


def _find(request: Request, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The finished record of this key, or None when the key is free (now claimed by us).

    Raises 422 for a different request under the same key, and 409 when another copy of this
    request is still running after `WAIT_FOR_CLAIM` seconds."""
    deadline = time.monotonic() + WAIT_FOR_CLAIM
    while True:
        record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        now = timezone.now()
        if record is None:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint
                    )
                return None
            except IntegrityError:  # another copy claimed it a moment ago
                continue
        finished = record.status_code is not None
        expired = record.created_at < now - settings.FUNDS_IDEMPOTENCY_TTL
        abandoned = not finished and record.created_at < now - ABANDONED_AFTER
        if expired or abandoned:  # the key is free again
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            continue
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if finished:
            return record
        if time.monotonic() >= deadline:
            raise KeyInProgress()
        time.sleep(_POLL)


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
    earlier = _find(request, key, fingerprint)
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
        IdempotencyRecord.objects.filter(
            user=request.user, key=key, status_code__isnull=True
        ).delete()
        raise
