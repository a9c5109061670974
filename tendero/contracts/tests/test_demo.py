"""Demo purchases from a buy-till-you-die process: three years, deterministic,
realistic tickets, refunds as negative purchases."""

import random
from datetime import date, timedelta
from decimal import Decimal
from statistics import mean

from django.db.models import Count

from tendero.contracts import demo
from tendero.contracts.models import Purchase


def test_demo_purchases_cover_three_years_and_are_deterministic(make_customer, sales):
    customers = [
        make_customer(display_name=f"Cliente {n}", account_executive=sales) for n in range(40)
    ]
    for customer in customers:  # customers for years, as in the demo
        customer.created_at -= timedelta(days=4 * 365)
    today = date(2026, 11, 23)

    created = demo.create_demo_purchases(customers, today, random.Random(7))

    assert created == Purchase.objects.count() > len(customers)
    rows = list(Purchase.objects.values_list("customer_id", "occurred_at", "amount"))
    first = min(r[1] for r in rows).date()
    last = max(r[1] for r in rows).date()
    assert today - timedelta(days=3 * 365 + 1) <= first and last < today
    assert (last - first).days > 2 * 365
    positive = [r[2] for r in rows if r[2] > 0]
    assert 10 < mean(positive) < 80  # Gamma-Gamma: about 30 a ticket
    per_customer = Purchase.objects.values("customer").annotate(n=Count("id"))
    assert max(row["n"] for row in per_customer) > 3 * min(row["n"] for row in per_customer)

    again = list(Purchase.objects.order_by("external_id").values_list("external_id", "amount"))
    Purchase.objects.all().delete()
    assert demo.create_demo_purchases(customers, today, random.Random(7)) == created
    assert (
        list(Purchase.objects.order_by("external_id").values_list("external_id", "amount")) == again
    )


def test_purchase_days_follow_bg_nbd():
    rng = random.Random(1)
    start, today = date(2023, 1, 1), date(2026, 1, 1)
    counts = [len(demo.purchase_days(rng, start, today)) for _ in range(2000)]
    # Everyone buys once; most stop early (dropout) and a few buy often.
    assert min(counts) == 1
    assert 0.3 < sum(1 for c in counts if c == 1) / len(counts) < 0.9
    assert max(counts) > 10
    assert Decimal(str(mean(counts))) > 1
