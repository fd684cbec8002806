from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff, roles, second factors and tokens"

    def ready(self) -> None:
        from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from accounts.models import User
        from audit.registry import register

        # last_login changes at every login, which the LOGIN entries already record.
        register(
            User,
            sensitive_fields=["password"],
            exclude_fields=["last_login"],
            m2m_fields=["groups"],
        )
        # A device's use (replay guard, drift, throttle counters) is not an audit event; its
        # enrolment, reset and each backup code's use or deletion are.
        device_use = [
            "throttling_failure_timestamp",
            "throttling_failure_count",
            "last_used_at",
        ]
        register(
            TOTPDevice, sensitive_fields=["key"], exclude_fields=[*device_use, "last_t", "drift"]
        )
        register(StaticDevice, exclude_fields=device_use)
        register(StaticToken, sensitive_fields=["token"])
