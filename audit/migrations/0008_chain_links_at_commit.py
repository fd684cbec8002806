"""Chain version 3: entries are chained when their transaction commits.

The chain's positions (sequence, previous hash, hash) move out of the entries into an
insert-only table of links, so that the commit can chain what a transaction wrote without
ever updating an entry. Every entry already written gets its link copied unchanged (their
hashes, versions 1 and 2, still verify), then the entry columns go. Entries gain the digest of
their content (version 3) and, on PostgreSQL, the id of the transaction that wrote them, which
is how the commit-time trigger finds them (see audit/triggers.py).

SQLite rebuilds the entry table to drop columns, and the triggers die with the old table: they
are dropped first and created again last, in both directions. Going back is possible only for a
log with no entry of version 3 (their hashes need the digest, which version 2 does not chain):
the links are copied back into the entries, as the owner, with the triggers dropped.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from audit.triggers import (
    TABLES_BEFORE_LINKS,
    chain_create_statements,
    chain_drop_statements,
    create_statements,
    drop_statements,
)


_TABLES = (*TABLES_BEFORE_LINKS, "audit_chainlink")  # append-only from here on


def _schema(connection) -> str:
    if connection.vendor != "postgresql":
        return "main"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def drop_old_triggers(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor, TABLES_BEFORE_LINKS):
        schema_editor.execute(statement, params=None)


def copy_links(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO audit_chainlink (sequence, entry_id, prev_hash, entry_hash) "
        "SELECT sequence, id, prev_hash, entry_hash FROM audit_logentry",
        params=None,
    )


def copy_links_back(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_logentry WHERE chain_version >= 3")
        if cursor.fetchone()[0]:
            raise RuntimeError(
                "The log holds entries of chain version 3, chained at commit: they cannot be "
                "written in the format before it. Restore a backup from before this migration."
            )
    for column in ("sequence", "prev_hash", "entry_hash"):
        schema_editor.execute(
            f"UPDATE audit_logentry SET {column} = (SELECT l.{column} FROM audit_chainlink l "  # noqa: S608
            "WHERE l.entry_id = audit_logentry.id)",
            params=None,
        )


def create_old_triggers(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor, TABLES_BEFORE_LINKS):
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    statements = create_statements(connection.vendor, _TABLES)
    statements += chain_create_statements(connection.vendor, _schema(connection))
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    statements = chain_drop_statements(connection.vendor, _schema(connection))
    statements += drop_statements(connection.vendor, _TABLES)
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_action_account_unlocked"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_old_triggers, create_old_triggers),
        migrations.CreateModel(
            name="ChainLink",
            fields=[
                ("sequence", models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="link",
                        to=settings.AUDITLOG_LOGENTRY_MODEL,
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64)),
                ("entry_hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.RemoveConstraint(model_name="logentry", name="audit_sequence_gt_0"),
        *(
            migrations.AlterField(
                model_name="logentry", name=name, field=models.CharField(max_length=64, null=True)
            )
            for name in ("prev_hash", "entry_hash")
        ),
        migrations.AlterField(
            model_name="logentry",
            name="sequence",
            field=models.BigIntegerField(unique=True, null=True),
        ),
        migrations.RunPython(copy_links, copy_links_back),
        migrations.AlterModelOptions(
            name="logentry",
            options={
                "get_latest_by": "timestamp",
                "ordering": ["-link__sequence"],
                "verbose_name": "log entry",
                "verbose_name_plural": "log entries",
            },
        ),
        migrations.RemoveField(model_name="logentry", name="entry_hash"),
        migrations.RemoveField(model_name="logentry", name="prev_hash"),
        migrations.RemoveField(model_name="logentry", name="sequence"),
        migrations.AddField(
            model_name="logentry",
            name="digest",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="logentry",
            name="txid",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="logentry",
            index=models.Index(
                condition=models.Q(("txid__isnull", False)),
                fields=["txid"],
                name="audit_entry_txid",
            ),
        ),
        migrations.AddConstraint(
            model_name="chainlink",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequence__gt", 0)), name="audit_sequence_gt_0"
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
