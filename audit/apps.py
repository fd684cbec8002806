from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Hash-chained audit log"

    def ready(self) -> None:
        from audit.diff import compare_sealed_values_unopened

        compare_sealed_values_unopened()
