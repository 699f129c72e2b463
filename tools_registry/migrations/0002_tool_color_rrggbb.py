"""Tile colours are ``#rrggbb`` only: a colour saved before the validator existed that is not
becomes the default (it goes into the page's styles), lower case otherwise."""

import re

import django.core.validators
from django.db import migrations, models

RRGGBB = re.compile(r"\A#[0-9a-fA-F]{6}\Z")


def repair_colors(apps, schema_editor):
    Tool = apps.get_model("tools_registry", "Tool")
    for tool in Tool.objects.only("pk", "color"):
        color = tool.color.lower() if RRGGBB.match(tool.color) else "#2f6fde"
        if color != tool.color:
            Tool.objects.filter(pk=tool.pk).update(color=color)


class Migration(migrations.Migration):
    dependencies = [
        ("tools_registry", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(repair_colors, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tool",
            name="color",
            field=models.CharField(
                default="#2f6fde",
                help_text="#rrggbb（例: #2f6fde）",
                max_length=16,
                validators=[
                    django.core.validators.RegexValidator(
                        "\\A#[0-9a-fA-F]{6}\\Z",
                        "色は #rrggbb の形（例: #2f6fde）で書いてください",
                        code="invalid_color",
                    )
                ],
                verbose_name="タイルの色",
            ),
        ),
    ]
