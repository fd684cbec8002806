"""The client's own request id joins the chain: entries gain `client_request_id` and
`chain_version` (1 for every entry already written, whose hash covers the version 1 fields;
the application writes version 2 from now on, see audit/chain.py).

SQLite cannot add a NOT NULL column in place: Django rebuilds the table (a copy, the old table
dropped, the copy renamed), and the triggers die with the old table. So the triggers are
dropped first and created again last, on both databases, in both directions.
"""

from django.db import migrations, models

from audit.triggers import TABLES_BEFORE_LINKS, create_statements, drop_statements


def create_triggers(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor, TABLES_BEFORE_LINKS):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor, TABLES_BEFORE_LINKS):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_action_step_up_failed")]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.AddField(
            model_name="logentry",
            name="client_request_id",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="logentry",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
