"""Repair numbers that can't be served: NaN and ±Infinity stored before the recipe form
checked them (`weight=inf` made /api/generations/ answer 500 for the whole team).

Each one becomes the value a user would have meant, or none: a weight becomes 1 (the
form's default), strength 0.8 and cohesion 1 (the defaults), a fidelity score NULL
(unknown). Rows are read in Python because SQLite and PostgreSQL spell Infinity and NaN
differently; the tables are small (one row per recipe ingredient and output).

Also: copies of board images used as content remember the team they came from.
"""

import math

from django.db import migrations

REPAIRS = {
    "Ingredient": {"weight": 1.0},
    "Generation": {"strength": 0.8, "cohesion": 1.0},
    "Output": {"fidelity": None, "content_fidelity": None},
}


def repair(apps, schema_editor):
    for model_name, defaults in REPAIRS.items():
        model = apps.get_model("generation", model_name)
        fields = list(defaults)
        repaired = 0
        for row in model.objects.values_list("pk", *fields).iterator(chunk_size=2000):
            pk, values = row[0], row[1:]
            changes = {
                name: defaults[name]
                for name, value in zip(fields, values, strict=True)
                if value is not None and not math.isfinite(value)
            }
            if changes:
                model.objects.filter(pk=pk).update(**changes)
                repaired += 1
        if repaired:
            print(f"  repaired {repaired} {model_name} row(s) with a non-finite number")


def remember_content_sources(apps, schema_editor):
    """Content copies of board images remember their team (a rerun checks it)."""
    ContentImage = apps.get_model("generation", "ContentImage")
    rows = ContentImage.objects.filter(source_team_id__isnull=True, board_image__isnull=False)
    for pk, team_id in rows.values_list("pk", "board_image__board__team_id").iterator():
        ContentImage.objects.filter(pk=pk).update(source_team_id=team_id)


class Migration(migrations.Migration):
    dependencies = [("generation", "0003_work_pixels_content_source")]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop),
        migrations.RunPython(remember_content_sources, migrations.RunPython.noop),
    ]
