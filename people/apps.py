from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "People being evacuated"

    def ready(self) -> None:
        from audit.registry import register
        from people import disclosure  # noqa: F401  (puts its personal fields under the layer)
        from people.models import Person

        # The encrypted fields and blind indexes are sensitive by declaration: their entries
        # say which field changed, never a value (not even the ciphertext or the index).
        register(Person)
