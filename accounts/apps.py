from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff, roles, second factors and tokens"

    def ready(self) -> None:
        from django.db.models import signals
        from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from accounts.models import (
            BackupCode,
            BackupCodeDevice,
            EnrolmentCode,
            SealedTOTPDevice,
            StaffChange,
            User,
        )
        from audit.registry import register

        # last_login changes at every login, which the LOGIN entries already record.
        register(
            User,
            sensitive_fields=["password"],
            exclude_fields=["last_login"],
            m2m_fields=["groups"],
        )
        # A device's use (replay guard, drift, throttle counters) is not an audit event; its
        # enrolment, confirmation, reset and each backup code's use or deletion are.
        device_use = [
            "throttling_failure_timestamp",
            "throttling_failure_count",
            "last_used_at",
        ]
        register(SealedTOTPDevice, exclude_fields=[*device_use, "last_t", "drift"])
        register(BackupCodeDevice, exclude_fields=device_use)
        register(BackupCode, sensitive_fields=["digest"])
        register(EnrolmentCode, sensitive_fields=["digest"])
        register(StaffChange)

        # django-otp's stock devices keep their secrets in clear; migration 0004 moved every
        # one into the sealed devices. Nothing may write them again.
        for stock in (TOTPDevice, StaticDevice, StaticToken):
            signals.pre_save.connect(
                _refuse_stock_device,
                sender=stock,
                dispatch_uid=f"refuse-stock-{stock._meta.label_lower}",
            )


def _refuse_stock_device(sender: type, **kwargs: Any) -> None:
    raise RuntimeError(
        f"{sender._meta.label} stores second-factor secrets in clear: use accounts' sealed "
        "devices (accounts.second_factor)."
    )
