"""What the authorization matrices (cases and people, funds) share: the callers, the kinds of
object, how a row's request is sent, and the check that a table covers the URL conf."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import staff_create
from tests.urlconf import url_paths

API = "/api/v1/"
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")

CW_ASSIGNED = "caseworker_assigned"
CW_UNASSIGNED = "caseworker_unassigned"
COORDINATOR = "coordinator"
AUDITOR = "auditor"
ADMIN = "admin"
ANONYMOUS = "anonymous"
ACTORS = (CW_ASSIGNED, CW_UNASSIGNED, COORDINATOR, AUDITOR, ADMIN, ANONYMOUS)

OWN, OTHER, MISSING = "own", "other", "missing"
OBJECTS = (OWN, OTHER, MISSING)
NO_OBJECT = "-"  # for a row that names no object

Expect = dict[str, dict[str, int]]  # actor -> object kind -> status


def everywhere(status: int) -> dict[str, int]:
    return {kind: status for kind in (*OBJECTS, NO_OBJECT)}


def new_staff(*roles: str) -> User:
    user, _ = staff_create(
        username=f"{roles[0]}-{secrets.token_hex(4)}",
        roles=roles,
        password=secrets.token_urlsafe(18),
    )
    return user


def send(client: APIClient, method: str, path: str, body: Any = None):
    if method in ("GET", "HEAD"):
        return getattr(client, method.lower())(path)
    return getattr(client, method.lower())(path, body, format="json")


def table_gaps(
    prefixes: tuple[str, ...], covered: Iterable[tuple[str, str]]
) -> tuple[set[str], list[tuple[str, str]], list[str]]:
    """The routed paths under `prefixes`, the (path, method) pairs the table lacks, and the
    table's paths the URL conf does not have."""
    covered = set(covered)
    routed = {path for _, path in url_paths() if path.startswith(prefixes)}
    missing = sorted((path, m) for path in routed for m in METHODS if (path, m) not in covered)
    stale = sorted({path for path, _ in covered} - routed)
    return routed, missing, stale
