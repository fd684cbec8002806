"""Every model is audited through the one helper. (Reads of personal data and their ACCESS
entries: tests/audit/test_disclosure_layer.py.)"""

from __future__ import annotations

import pytest
from django.apps import apps

from accounts.models import BackupCodeDevice
from audit.registry import is_registered, register

# Models that are deliberately not audited row by row, and why. A model that is neither
# registered nor listed here fails the test below, so a new model cannot be forgotten.
NOT_AUDITED = {
    "audit.logentry": "the audit log itself",
    "audit.chainhead": "the chain's lock and cache; recomputed by verification",
    "audit.chainlink": "the chain itself: insert-only, written at commit, checked by verification",
    "audit.accessindex": "which records each ACCESS entry names: kept by a trigger, verified",
    "audit.checkpoint": "append-only in the database, and signed",
    "knox.authtoken": "token issue and revocation are written as TOKEN_ISSUED/TOKEN_REVOKED",
    "sessions.session": "web sessions; signing in and out, quick exit and idle ends are LOGIN and "
    "TOKEN_REVOKED entries",
    "accounts.tokenrecord": "a token's issue details and use; issue and revocation are events",
    "accounts.loginfailure": "lockout counters under keyed digests; failures are LOGIN_FAILED",
    "accounts.devicetoken": "issued with a LOGIN, ended with the TOKEN_REVOKED of its account",
    "otp_totp.totpdevice": "django-otp's stock table (secrets in clear): emptied, never written",
    "otp_static.staticdevice": "django-otp's stock table: emptied by a migration, never written",
    "otp_static.statictoken": "django-otp's stock table (codes in clear): emptied, never written",
    "auth.group": "the four roles, created by a migration; membership changes are audited",
    "auth.permission": "Django's permission table, unused",
    "contenttypes.contenttype": "Django's model registry",
    "encryption.keysentinel": "a constant sealed under each key, written once; no personal data",
    "funds.idempotencyrecord": "a keyed digest of a retried request; what it did is audited",
}


def test_every_model_is_registered_or_deliberately_exempt():
    unaccounted = [
        model._meta.label_lower
        for model in apps.get_models()
        if not is_registered(model) and model._meta.label_lower not in NOT_AUDITED
    ]

    assert not unaccounted, f"register these with audit.registry.register(): {unaccounted}"


def test_registering_an_unknown_field_is_an_error():
    with pytest.raises(ValueError, match="no field"):
        register(BackupCodeDevice, sensitive_fields=["nope"])
