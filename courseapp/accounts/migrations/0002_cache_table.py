"""The database cache's table, made by ``migrate`` so that a first run needs no extra command.

Without ``REDIS_URL`` the cache (what every process must share, such as the login throttle) is
Django's database cache; ``createcachetable`` makes its table and does nothing when it exists or
when the cache is Redis.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
