"""Emails are unique, case-insensitively: an address can't be claimed by a second account.

Before this, signup accepted an address already in use, so someone could register a
colleague's address first (or again) and receive what was meant for it. The index makes
it impossible whatever writes users (signup, admin, scripts, two signups at once).

Existing duplicates can't be resolved by guessing which account is the rightful owner
(the first to register may be the one who claimed it): every account sharing a
duplicated address loses it, and the migration prints their usernames, so an
administrator can set each one's address again in the admin.
"""

from django.conf import settings
from django.db import migrations

INDEX = "moodboards_user_email_ci_unique"


def _table(apps):
    app_label, model_name = settings.AUTH_USER_MODEL.split(".")
    return apps.get_model(app_label, model_name)


def unique_emails(apps, schema_editor):
    User = _table(apps)
    by_address: dict[str, list[tuple[int, str]]] = {}
    for pk, username, email in User.objects.exclude(email="").values_list(
        "pk", "username", "email"
    ):
        by_address.setdefault(email.strip().lower(), []).append((pk, username))
    for users in by_address.values():
        if len(users) < 2:
            continue
        User.objects.filter(pk__in=[pk for pk, _ in users]).update(email="")
        names = ", ".join(username for _, username in users)
        print(f"  {len(users)} accounts shared one email address; cleared on: {names}")
    table = schema_editor.quote_name(User._meta.db_table)
    schema_editor.execute(
        f"CREATE UNIQUE INDEX {INDEX} ON {table} (LOWER(email)) WHERE email <> ''"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("moodboards", "0003_invitations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(unique_emails, drop_index)]
