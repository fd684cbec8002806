"""Second factors whose secrets a database dump does not give away.

django-otp is the engine (its `Device`, throttling and timestamp mixins, its `oath.TOTP` for
codes, drift and the replay guard), but its stock `TOTPDevice.key` and `StaticToken.token`
columns hold the secrets in clear and are matched as such. These devices keep:

- the TOTP secret sealed (AES-256-GCM) under the device's own data key, wrapped by the KEK like
  every other data key, so `rotate_keys` and the start-up key check cover it, and the
  associated data binds the ciphertext to this row;
- backup codes only as HMAC-SHA256 digests under a key derived from `ENCRYPTION_INDEX_KEY`
  (never in the database), bound to their device, compared in constant time and spent once.

The last time step accepted (`last_t`) is the one replay guard, shared by login and step-up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from base64 import b32encode
from datetime import timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin, VerifyNotAllowed
from django_otp.oath import TOTP

from encryption.fields import EncryptedTextField
from encryption.keyring import Keyring, keyring
from encryption.models import DataKey

TOTP_SECRET_BYTES = 20  # RFC 4226's recommended 160 bits, what authenticator apps expect
BACKUP_CODE_LABEL = "accounts.backup-code"


class CappedThrottlingMixin(ThrottlingMixin):
    """django-otp's exponential back-off (1, 2, 4, ... seconds after successive failures), but
    never longer than `OTP_THROTTLE_MAX_SECONDS`: whoever can make a device fail must not be
    able to freeze it for days."""

    class Meta:
        abstract = True

    def verify_is_allowed(self) -> tuple[bool, dict | None]:
        if self.throttling_failure_count > 0 and self.throttling_failure_timestamp is not None:
            factor = self.get_throttle_factor()
            required = min(
                factor * 2 ** min(self.throttling_failure_count - 1, 62),
                settings.OTP_THROTTLE_MAX_SECONDS,
            )
            locked_until = self.throttling_failure_timestamp + timedelta(seconds=required)
            if factor > 0 and timezone.now() < locked_until:
                return False, {
                    "reason": VerifyNotAllowed.N_FAILED_ATTEMPTS,
                    "failure_count": self.throttling_failure_count,
                    "locked_until": locked_until,
                }
        return True, None


class SealedTOTPDevice(TimestampMixin, CappedThrottlingMixin, Device):
    """A staff member's authenticator app. `confirmed` is False from the moment an enrolment is
    redeemed until its owner proves it with a first code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.OneToOneField(DataKey, on_delete=models.PROTECT, related_name="+")
    secret = EncryptedTextField()  # hex of the TOTP key
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta:
        verbose_name = "authenticator"
        constraints = [models.UniqueConstraint(fields=["user"], name="one_authenticator_each")]

    def __str__(self) -> str:
        return f"authenticator {self.pk}"

    @staticmethod
    def new_secret() -> str:
        return secrets.token_hex(TOTP_SECRET_BYTES)

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.secret)

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def totp(self, *, at: float | None = None) -> TOTP:
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time() if at is None else at
        return totp

    def match(self, code: str) -> bool:
        """Is `code` this device's code for now (within `tolerance` steps) and newer than the
        last one accepted? On a match, the replay guard moves past it (not saved here).

        No throttle is read or written: login wraps this in `verify_token`, step-up counts its
        failures per token."""
        if not (code.isascii() and code.isdigit()) or len(code) != self.digits:
            return False
        totp = self.totp()
        if not totp.verify(int(code), self.tolerance, self.last_t + 1):
            return False
        self.last_t = totp.t()
        self.drift = totp.drift
        self.last_used_at = timezone.now()
        return True

    def verify_token(self, token: str) -> bool:
        """django-otp's contract, for login: throttled, and the device saved either way."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        if self.match(token):
            self.throttle_reset(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False

    @property
    def config_url(self) -> str:
        """The `otpauth://` URI an authenticator app reads (Google's Key URI format)."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}" if issuer else self.user.get_username()
        query = urlencode(
            {
                "secret": self.base32_secret,
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        if issuer:
            query += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{query}"

    @property
    def base32_secret(self) -> str:
        return b32encode(self.bin_key).decode("ascii").rstrip("=")


def normalize_backup_code(code: str) -> str:
    """Codes are read aloud and typed by hand: case, spaces and dashes do not matter."""
    return "".join(code.split()).replace("-", "").lower()


def backup_code_digest(*, device_id: uuid.UUID, code: str, ring: Keyring | None = None) -> str:
    """HMAC-SHA256 of the normalised code, bound to its device, under a key derived from
    `ENCRYPTION_INDEX_KEY` (outside the database): a dump holds nothing to try at login."""
    key = (ring or keyring()).index_key_for(BACKUP_CODE_LABEL)
    message = device_id.bytes + normalize_backup_code(code).encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class BackupCodeDevice(TimestampMixin, CappedThrottlingMixin, Device):
    """A staff member's single-use backup codes, kept as keyed digests (`BackupCode`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = "backup codes"
        constraints = [models.UniqueConstraint(fields=["user"], name="one_backup_code_set_each")]

    def __str__(self) -> str:
        return f"backup codes {self.pk}"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token: str) -> bool:
        """Spend the code if it is one of this device's; throttled like every device."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = backup_code_digest(device_id=self.pk, code=token)
        match = None
        # Every stored digest is compared, each in constant time: how long the check takes
        # says nothing about which code, if any, came close.
        for code in self.codes.all():
            if hmac.compare_digest(code.digest, digest) and match is None:
                match = code
        if match is None:
            self.throttle_increment(commit=True)
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="backup_codes_differ")
        ]

    def __str__(self) -> str:
        return f"backup code {self.pk}"
