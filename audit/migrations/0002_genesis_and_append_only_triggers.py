"""The chain's genesis head, and the triggers that make the audit tables append-only."""

from django.db import migrations

from audit.triggers import TABLES_BEFORE_LINKS, create_statements, drop_statements


def create_head(apps, schema_editor):
    apps.get_model("audit", "ChainHead").objects.using(schema_editor.connection.alias).create(
        id=1, sequence=0, prev_hash="0" * 64, entry_hash="0" * 64
    )


def create_triggers(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor, TABLES_BEFORE_LINKS):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor, TABLES_BEFORE_LINKS):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
