"""Fewer indexes to keep up to date on every write (imports, seeding, merges).

- On PostgreSQL, search reads the byte-order index of migration 0007, so the
  model's default-collation (token, customer) index is dropped there (SQLite
  keeps it: it is the one SQLite uses).
- The trigram indexes of migration 0003 served the old "name contains" search;
  search now reads the search words (SearchToken) instead.
- The customer's account executive is already the first column of the portfolio
  indexes (by name, by next contact due), so its own foreign-key index goes.
  (A search word's customer keeps its own index: with only the unique
  customer + token, PostgreSQL checks a second search word through the
  byte-order token index instead, which was 100 times slower.)
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TRIGRAM_INDEXES = {
    "customer_name_trgm_idx": "display_name",
    "customer_preferred_name_trgm_idx": "preferred_name",
}


def drop_redundant_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [*TRIGRAM_INDEXES, "search_token_idx"]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def restore_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS search_token_idx ON customers_searchtoken (token, customer_id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_search_pair_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="account_executive",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="portfolio",
                to=settings.AUTH_USER_MODEL,
                verbose_name="account executive",
            ),
        ),
        migrations.RunPython(drop_redundant_postgresql_indexes, restore_postgresql_indexes),
    ]
