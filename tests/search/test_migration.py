"""Migration 0003 on a database that already holds profiles: each gets a unique code,
and the search table is there (with pgvector's column where the extension is)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("taste", "0002_work_lease")]
AFTER = [("taste", "0003_search_steering")]


def test_existing_profiles_get_unique_codes(library):
    profile = library.profile
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    TasteProfile = old.get_model("taste", "TasteProfile")
    original = TasteProfile.objects.get(pk=profile.pk)
    for version in (2, 3):  # more rows, as an install with history has
        TasteProfile.objects.create(
            board_id=original.board_id, version=version, encoder_id=original.encoder_id,
            fingerprint=f"f{version}", image_count=1, data=original.data, images={},
        )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    codes = list(new.get_model("taste", "TasteProfile").objects.values_list("code", flat=True))
    assert len(codes) == 4 and len(set(codes)) == 4  # with the private board's
    assert all(c.startswith("tb-") and len(c) == 9 for c in codes)
    with connection.cursor() as cursor:
        columns = [
            c.name
            for c in connection.introspection.get_table_description(cursor, "taste_searchvector")
        ]
    assert "vector" in columns
