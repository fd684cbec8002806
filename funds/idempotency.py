"""`Idempotency-Key` for the POSTs that move money: a retry creates nothing twice.

A client that lost the answer to a POST sends it again with the same key and body and gets the
first answer back (the record that request created, as it is now, with the same status). The
same key with a different body is refused (422): it is a client bug, and guessing which body was
meant would move the wrong money.

Only a keyed digest of the request is kept (`salted_hmac` under `SECRET_KEY`, so a payee's name
cannot be confirmed by hashing guesses); the record is written in the same transaction as what
the request did, so it exists exactly when the money moved. Two copies of one request racing
each other both run, and the second one's record collides with the first's on the unique key:
its whole transaction rolls back and it answers with the first's result.
"""

from __future__ import annotations

import json
import re
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


def _earlier(request: Request, key: str, fingerprint: str) -> IdempotencyRecord | None:
    record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if record is None:
        return None
    if record.created_at < timezone.now() - settings.FUNDS_IDEMPOTENCY_TTL:
        record.delete()  # expired: the key may be used afresh
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return record


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
    caller; `perform` runs in one transaction with the record of its key.
    """
    key = key_of(request)
    if key is None:
        before()
        with transaction.atomic():
            return perform()
    fingerprint = fingerprint_of(request, scope)
    earlier = _earlier(request, key, fingerprint)
    if earlier is not None:
        return Outcome(replay(earlier.object_id), earlier.status_code)
    before()
    try:
        with transaction.atomic():
            outcome = perform()
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                fingerprint=fingerprint,
                status_code=outcome.status_code,
                object_id=outcome.instance.pk,
            )
            return outcome
    except IntegrityError:
        earlier = _earlier(request, key, fingerprint)
        if earlier is None:  # the collision was not this key's: a real integrity error
            raise
        return Outcome(replay(earlier.object_id), earlier.status_code)
