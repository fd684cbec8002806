from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Evacuation cases, needs, notes and workflow"

    def ready(self) -> None:
        from audit.registry import register
        from cases import disclosure  # noqa: F401  (puts its personal fields under the layer)
        from cases.models import Case, CaseAssignment, CaseMember, Need, Note, TimelineEntry

        # Encrypted fields are sensitive by declaration: entries say which changed, not how.
        # Each model's str() names its case by reference, nothing personal: entries keep it.
        for model in (Case, CaseAssignment, CaseMember, Need, Note, TimelineEntry):
            register(model, safe_repr=True)
