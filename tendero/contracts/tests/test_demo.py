"""Demo purchases from a buy-till-you-die process: three years, deterministic,
realistic tickets, refunds as negative purchases; products of the demo company with
quantities that fit the amounts, without changing when and how much people buy."""

import random
from collections import Counter
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

    fields = ("external_id", "amount", "product", "quantity")
    again = list(Purchase.objects.order_by("external_id").values_list(*fields))
    Purchase.objects.all().delete()
    assert demo.create_demo_purchases(customers, today, random.Random(7)) == created
    assert list(Purchase.objects.order_by("external_id").values_list(*fields)) == again


def test_purchase_days_follow_bg_nbd():
    rng = random.Random(1)
    start, today = date(2023, 1, 1), date(2026, 1, 1)
    counts = [len(demo.purchase_days(rng, start, today)) for _ in range(2000)]
    # Everyone buys once; most stop early (dropout) and a few buy often.
    assert min(counts) == 1
    assert 0.3 < sum(1 for c in counts if c == 1) / len(counts) < 0.9
    assert max(counts) > 10
    assert Decimal(str(mean(counts))) > 1


def _demo_customers(make_customer, sales, n=60):
    customers = [
        make_customer(display_name=f"Cliente {i}", account_executive=sales) for i in range(n)
    ]
    for customer in customers:
        customer.created_at -= timedelta(days=4 * 365)
    return customers


def test_demo_purchases_sell_the_demo_companys_products(make_customer, sales):
    customers = _demo_customers(make_customer, sales)
    demo.create_demo_purchases(customers, date(2026, 11, 23), random.Random(7))

    prices = {product.name: product.price for product in demo.PRODUCTS}
    sales_rows = list(Purchase.objects.filter(amount__gt=0))
    named = [p for p in sales_rows if p.product]
    assert 0.9 < len(named) / len(sales_rows) < 1  # a few name no product
    for purchase in named:
        unit_price = purchase.amount / purchase.quantity
        assert Decimal("0.66") <= unit_price / prices[purchase.product] <= Decimal("1.5"), purchase
    assert all(p.quantity >= 1 for p in sales_rows)
    best = [name for name, _n in Counter(p.product for p in named).most_common(3)]
    assert "Tarifa Móvil 10 GB" in best  # the plans sell most
    assert len({p.product for p in named}) >= 8


def test_refunds_return_the_units_only_when_everything_comes_back(make_customer, sales):
    customers = _demo_customers(make_customer, sales, 150)
    demo.create_demo_purchases(customers, date(2026, 11, 23), random.Random(3))

    refunds = list(Purchase.objects.filter(amount__lt=0))
    assert refunds
    sold = {p.external_id: p for p in Purchase.objects.filter(amount__gt=0)}
    for refund in refunds:
        sale = sold[refund.external_id.removesuffix("-R")]
        assert refund.product == sale.product
        whole = refund.amount == -sale.amount
        assert refund.quantity == (-sale.quantity if whole else 0), refund


def test_products_do_not_change_when_and_how_much_people_buy(make_customer, sales, monkeypatch):
    customers = _demo_customers(make_customer, sales)
    today = date(2026, 11, 23)
    demo.create_demo_purchases(customers, today, random.Random(11))
    fields = ("external_id", "customer_id", "occurred_at", "amount", "source")
    with_products = list(Purchase.objects.order_by("external_id").values_list(*fields))
    Purchase.objects.all().delete()

    monkeypatch.setattr(demo, "product_for", lambda picker, amount: ("", Decimal(1)))
    demo.create_demo_purchases(customers, today, random.Random(11))

    assert list(Purchase.objects.order_by("external_id").values_list(*fields)) == with_products
