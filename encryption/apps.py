from django.apps import AppConfig


class EncryptionConfig(AppConfig):
    name = "encryption"
    verbose_name = "Keyring, data keys, encrypted fields, blind indexes and key rotation"

    def ready(self) -> None:
        from audit.registry import register
        from common.health import register_readiness_check
        from encryption.models import DataKey, LookupKey
        from encryption.sentinels import readiness_check

        # The wrapped key is never copied into the (append-only) log: if it were, erasing a
        # record could not destroy its key. Its changes show as kek_id and destroyed_at.
        register(DataKey, exclude_fields=["wrapped"])
        register(LookupKey)
        register_readiness_check("encryption_keys", readiness_check)
