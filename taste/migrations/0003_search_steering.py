"""Taste search and steering: search vectors, manual tags, short profile codes.

With PostgreSQL and the pgvector extension available, this also enables the extension
and adds an untyped ``embedding vector`` column to the search table (HNSW indexes are
made per search space by taste.search_index, because each encoder has its own
dimension). Without it (SQLite, or a PostgreSQL without pgvector) search stays exact in
numpy over the ``vector`` bytes, so the migration works either way.
"""

import secrets

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models, transaction

import taste.models


def _fill_codes(apps, schema_editor):
    TasteProfile = apps.get_model("taste", "TasteProfile")
    used: set[str] = set()
    for profile in TasteProfile.objects.filter(code__isnull=True).only("pk"):
        code = f"tb-{secrets.token_hex(3)}"
        while code in used:
            code = f"tb-{secrets.token_hex(3)}"
        used.add(code)
        TasteProfile.objects.filter(pk=profile.pk).update(code=code)


def _enable_pgvector(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone() is None:
            return  # no pgvector on this server: exact numpy search
        try:
            # A savepoint: lacking the right to create the extension must not abort
            # the migration's transaction.
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception:  # noqa: BLE001 - any failure means "no pgvector here"
            return
        cursor.execute("ALTER TABLE taste_searchvector ADD COLUMN IF NOT EXISTS embedding vector")


def _noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("moodboards", "0004_unique_user_email"),
        ("taste", "0002_work_lease"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="tasteprofile",
            name="code",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.RunPython(_fill_codes, _noop),
        migrations.AlterField(
            model_name="tasteprofile",
            name="code",
            field=models.CharField(
                default=taste.models.new_profile_code, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.CreateModel(
            name="SearchVector",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sha256", models.CharField(max_length=64)),
                ("space", models.CharField(max_length=96)),
                ("vector", models.BinaryField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("space", "sha256"), name="one_search_vector_per_space"
                    )
                ]
            },
        ),
        migrations.CreateModel(
            name="ImageTag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("term", models.CharField(max_length=60)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "image",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tags",
                        to="moodboards.boardimage",
                    ),
                ),
            ],
            options={
                "ordering": ["term"],
                "constraints": [
                    models.UniqueConstraint(fields=("image", "term"), name="one_tag_per_image")
                ],
            },
        ),
        migrations.RunPython(_enable_pgvector, _noop),
    ]
