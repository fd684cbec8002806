"""The log's tables hold no database foreign keys to content types or to each other.

A deferred foreign key is checked at commit by locking the row it names (FOR KEY SHARE): every
audited commit locked its model's content type, a row every concurrent writer shares, and the
chain link's check ran inside the chain head's lock. The references stay in the models (Django
still refuses to delete what the log names, PROTECT), and what the log's integrity needs is
checked by `audit_verify`: every link names an entry and every index row a read that a chained
entry records. The key from an entry to its actor stays: it is what stops anyone who can
delete staff rows (the application's role can) from removing the name behind an entry, and it
locks only the acting staff member's own row.

SQLite rebuilds a table to change a foreign key, and the triggers die with the old table: they
are dropped first and created again last, in both directions.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from audit.triggers import (
    append_only_drop_statements,
    append_only_statements,
    index_create_statements,
    index_drop_statements,
)

_TABLES = ("audit_logentry", "audit_chainlink", "audit_accessindex")  # the rebuilt ones


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    statements = index_drop_statements("sqlite")
    statements += append_only_drop_statements("sqlite", function="", tables=_TABLES)
    for statement in statements:
        schema_editor.execute(statement, params=None)


def create_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    drop_sqlite_triggers(apps, schema_editor)  # whatever survived the rebuild
    statements = append_only_statements("sqlite", function="", tables=_TABLES, what="the audit log")
    statements += index_create_statements("sqlite")
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0009_access_index"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.AlterField(
            model_name="accessindex",
            name="content_type",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AlterField(
            model_name="accessindex",
            name="entry",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reads",
                to=settings.AUDITLOG_LOGENTRY_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="chainlink",
            name="entry",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="link",
                to=settings.AUDITLOG_LOGENTRY_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="logentry",
            name="content_type",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
    ]
