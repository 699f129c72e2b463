"""The configuration generation row and the triggers that bump it (lti_platform.generation)."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from lti_platform import generation


def install_triggers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    generation.install(schema_editor.connection, apps)


def drop_triggers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    generation.drop(schema_editor.connection, apps)


class Migration(migrations.Migration):
    dependencies = [
        ("lti_platform", "0003_accesstoken_lineitem_score_scoreevent_and_more"),
        ("roster", "0002_enrollment_date_last_modified_enrollment_status"),
        ("tools_registry", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "設定の世代",
                "verbose_name_plural": "設定の世代",
            },
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
