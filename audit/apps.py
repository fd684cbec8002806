from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Hash-chained audit log"

    def ready(self) -> None:
        from audit.diff import compare_sealed_values_unopened

        compare_sealed_values_unopened()

        from audit import writes
        from common.db.commit import register_before_commit, register_on_rollback

        register_before_commit(writes.refuse_unwritten)

        from django.db.backends.signals import connection_created

        from audit.models import forget_prepared

        connection_created.connect(forget_prepared, dispatch_uid="audit.forget_prepared")
        register_on_rollback(writes.drop_rolled_back)
