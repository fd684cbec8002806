"""Bearer tokens: django-rest-knox (random 256-bit tokens, stored only as SHA-512 digests,
expiring, revocable one by one or all at once)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.request import Request

from accounts.services.tokens import token_touch
from audit.context import set_actor

_TOKEN_SHAPE = re.compile(rb"^[0-9a-f]{64}\Z")


class BearerTokenAuthentication(TokenAuthentication):
    """knox, with malformed credentials refused before they reach the database or a decoder
    (knox would answer a non-UTF-8 header with a 500), and each token's last use noted."""

    def authenticate(self, request: Request):
        parts = (
            request.META.get("HTTP_AUTHORIZATION", "").encode("latin-1", errors="replace").split()
        )
        if len(parts) == 2 and parts[0].lower() == b"bearer" and not _TOKEN_SHAPE.match(parts[1]):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        authenticated = super().authenticate(request)
        if authenticated is not None:
            # DRF authenticates inside the view, after every middleware: this is the first
            # moment the actor is known, so the audit context learns it here.
            set_actor(authenticated[0])
            token_touch(token=authenticated[1])
        return authenticated
