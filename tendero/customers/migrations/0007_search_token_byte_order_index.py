"""An index on search tokens in byte order, for prefix ranges on PostgreSQL.

Search as you type asks for `token >= 'jos' AND token < 'jot'`. That range holds
exactly the tokens starting with "jos" only in byte (code point) order; a
linguistic collation such as en_US.UTF-8 orders differently, so the query compares
`token COLLATE "C"` and needs an index on that expression. SQLite compares text in
byte order already and uses the model's (token, customer) index.
"""

from django.db import migrations

INDEX = "search_token_c_idx"


def create_byte_order_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} "
        'ON customers_searchtoken (token COLLATE "C", customer_id)'
    )


def drop_byte_order_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_customer_export_merge_permissions")]

    operations = [migrations.RunPython(create_byte_order_index, drop_byte_order_index)]
