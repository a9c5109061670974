"""tendero reindex_search: rebuild every customer's search tokens and name key."""

from typing import Any

from django.core.management.base import BaseCommand

from tendero.customers.models import Customer
from tendero.customers.search import index_customers


class Command(BaseCommand):
    help = (
        "Rebuild the search index (search tokens and name keys) of every customer, in "
        "batches. Safe to run at any time and more than once: only what changed is written."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = Customer.objects.count()

        def report(done: int) -> None:
            self.stdout.write(f"\rIndexed {done:,} of {total:,} customers", ending="")
            self.stdout.flush()

        indexed = index_customers(progress=report)
        if indexed:
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Indexed {indexed:,} customers."))
