"""Search tokens and name keys for the customers that existed before search as you
type: in batches, writing only what is missing or changed (safe to run again)."""

from django.db import migrations
from django.db.models import Prefetch

from tendero.customers.search import name_key, tokens_from

BATCH_SIZE = 2000


def backfill_search_tokens(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    SearchToken = apps.get_model("customers", "SearchToken")
    db = schema_editor.connection.alias
    contacts = Contact.objects.using(db).only(
        "pk", "customer_id", "first_name", "last_name", "preferred_name"
    )
    last = 0
    while True:
        customers = list(
            Customer.objects.using(db)
            .filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "display_name", "preferred_name", "tax_id", "name_key")
            .prefetch_related("emails", "phones", Prefetch("contacts", queryset=contacts))[
                :BATCH_SIZE
            ]
        )
        if not customers:
            return
        last = customers[-1].pk
        existing = set(
            SearchToken.objects.using(db)
            .filter(customer_id__in=[c.pk for c in customers])
            .values_list("customer_id", "token")
        )
        new = []
        renamed = []
        for customer in customers:
            tokens = tokens_from(
                display_name=customer.display_name,
                preferred_name=customer.preferred_name,
                tax_id=customer.tax_id,
                emails=[email.address for email in customer.emails.all()],
                phones=[phone.number for phone in customer.phones.all()],
                contact_names=[
                    name
                    for contact in customer.contacts.all()
                    for name in (contact.first_name, contact.last_name, contact.preferred_name)
                    if name
                ],
            )
            new.extend(
                SearchToken(customer_id=customer.pk, token=token)
                for token in sorted(tokens)
                if (customer.pk, token) not in existing
            )
            key = name_key(customer.display_name)
            if customer.name_key != key:
                customer.name_key = key
                renamed.append(customer)
        SearchToken.objects.using(db).bulk_create(new, batch_size=1000, ignore_conflicts=True)
        Customer.objects.using(db).bulk_update(renamed, ["name_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_search_token_byte_order_index")]

    operations = [migrations.RunPython(backfill_search_tokens, migrations.RunPython.noop)]
