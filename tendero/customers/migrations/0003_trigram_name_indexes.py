"""Trigram indexes so that "name contains" searches use an index on PostgreSQL.

PostgreSQL only (pg_trgm); SQLite has no such index and scans, which is fine at
its scale. The indexes are on UPPER(...) because that is what Django's
case-insensitive `icontains` compares on PostgreSQL.
"""

from django.db import migrations

INDEXES = {
    "customer_name_trgm_idx": "display_name",
    "customer_preferred_name_trgm_idx": "preferred_name",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_indexes")]

    operations = [migrations.RunPython(create_trigram_indexes, drop_trigram_indexes)]
