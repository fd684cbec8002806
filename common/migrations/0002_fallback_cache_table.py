"""Create the database cache table whatever the shared cache is.

With Redis configured the table is the `fallback` cache: the guessing limits (login rate,
duplicate checks) count there while Redis is unavailable (common/cache.py). `createcachetable`
creates only the tables that are missing.
"""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_fallback_table(apps, schema_editor):
    # 0001 owns the table when the database is the default cache; otherwise it is ours.
    if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
        return
    table = settings.CACHES["fallback"]["LOCATION"]
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.connection.ops.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = [("common", "0001_cache_table")]

    operations = [migrations.RunPython(create_cache_tables, drop_fallback_table)]
