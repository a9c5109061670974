"""Pair tokens for the customers indexed before them: each two adjacent words of a
name ("jose garcia", "garcia lopez") are now a token too, so a query typed in the
name's order is one prefix range. Re-runs the backfill of 0008, which computes the
tokens with the pure functions of tendero.customers.search in batches and writes
only the missing ones (safe to run again; nothing becomes stale)."""

import importlib

from django.db import migrations

backfill = importlib.import_module("tendero.customers.migrations.0008_backfill_search_tokens")


def add_pair_tokens(apps, schema_editor):
    backfill.backfill_search_tokens(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_backfill_search_tokens")]

    operations = [migrations.RunPython(add_pair_tokens, migrations.RunPython.noop)]
