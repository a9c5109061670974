"""Search tokens and name keys for the customers that existed before search as you
type: in batches, writing only what is missing or changed (safe to run again).
Uses only the pure normalisation functions of tendero.customers.search."""

from django.db import migrations

from tendero.customers.search import collect_tokens, name_key

BATCH_SIZE = 2000


def backfill_search_tokens(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    CustomerEmail = apps.get_model("customers", "CustomerEmail")
    CustomerPhone = apps.get_model("customers", "CustomerPhone")
    Contact = apps.get_model("customers", "Contact")
    SearchToken = apps.get_model("customers", "SearchToken")
    db = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(
            Customer.objects.using(db)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "display_name", "preferred_name", "tax_id", "name_key")[:BATCH_SIZE]
        )
        if not rows:
            return
        last = rows[-1][0]
        ids = [row[0] for row in rows]
        wanted = collect_tokens(
            [row[:4] for row in rows],
            CustomerEmail.objects.using(db)
            .filter(customer_id__in=ids)
            .values_list("customer_id", "address"),
            CustomerPhone.objects.using(db)
            .filter(customer_id__in=ids)
            .values_list("customer_id", "number"),
            Contact.objects.using(db)
            .filter(customer_id__in=ids)
            .values_list("customer_id", "first_name", "last_name", "preferred_name"),
        )
        existing = set(
            SearchToken.objects.using(db)
            .filter(customer_id__in=ids)
            .values_list("customer_id", "token")
        )
        new = [
            SearchToken(customer_id=pk, token=token)
            for pk, tokens in wanted.items()
            for token in sorted(tokens)
            if (pk, token) not in existing
        ]
        SearchToken.objects.using(db).bulk_create(new, batch_size=2000, ignore_conflicts=True)
        renamed = [
            Customer(pk=pk, name_key=key)
            for pk, display_name, _preferred, _tax_id, old_key in rows
            if (key := name_key(display_name)) != old_key
        ]
        Customer.objects.using(db).bulk_update(renamed, ["name_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_search_token_byte_order_index")]

    operations = [migrations.RunPython(backfill_search_tokens, migrations.RunPython.noop)]
