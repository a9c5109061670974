"""`tendero seed --customers N [--interactions N]`: bulk synthetic customers for benchmarks."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tendero.customers.seeding import (
    DEFAULT_BATCH_SIZE,
    INTERACTIONS_PER_CUSTOMER,
    seed_customers,
)


class Command(BaseCommand):
    help = (
        "Append N synthetic customers (emails, phones, account executives, tags, search "
        "tokens, personal facts) with their interactions for benchmarks: COPY on "
        "PostgreSQL, executemany on SQLite, all in one transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True, help="How many to add.")
        parser.add_argument(
            "--interactions",
            type=int,
            default=None,
            help=(
                "How many interactions to add in all, spread over the new customers by "
                f"their rhythms (default {INTERACTIONS_PER_CUSTOMER} per customer; 0 for none)."
            ),
        )
        parser.add_argument("--no-facts", action="store_true", help="Do not add personal facts.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Customers per batch (default {DEFAULT_BATCH_SIZE:,}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 1 or options["batch_size"] < 1:
            raise CommandError("--customers and --batch-size must be at least 1.")
        if options["interactions"] is not None and options["interactions"] < 0:
            raise CommandError("--interactions cannot be negative.")
        result = seed_customers(
            options["customers"],
            options["batch_size"],
            stdout=self.stdout,
            interactions=options["interactions"],
            facts=not options["no_facts"],
        )
        self.stdout.write(
            f"Seeded {result.customers:,} customers (ids {result.first_id}-{result.last_id}) "
            f"with {result.interactions:,} interactions "
            f"({result.interactions_per_second:,.0f} interactions/s), "
            f"{result.rows:,} rows in {result.seconds:.1f} s: "
            f"{result.rows_per_second:,.0f} rows/s, {result.customers_per_second:,.0f} customers/s."
        )
