"""The product-centric view: units and revenue by product per period, the best sellers
by revenue with the rest summed as other products and the purchases without a product
apart; on a small data set worked out by hand, in one query, scoped to what each user
may see (a sales rep must not learn another portfolio's products); on the Insights page
(chart and table, escaped) and in the API."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import api_client, login
from tendero.contracts.models import Purchase
from tendero.customers.models import Customer
from tendero.insights.refresh import refresh_retention
from tendero.insights.retention import _period_starts, product_sales, retention

TODAY = date(2026, 6, 15)
MakeCustomer = Callable[..., Customer]
SECRET = "Secreto de Dani"


def _buy(
    customer: Customer, day: date, amount: str, product: str = "", quantity: str = "1", **extra: Any
) -> Purchase:
    return Purchase(
        customer=customer,
        occurred_at=timezone.make_aware(datetime.combine(day, time(12))),
        amount=Decimal(amount),
        currency=extra.pop("currency", "EUR"),
        product=product,
        quantity=Decimal(quantity),
        **extra,
    )


def _sales_by_product(
    make_customer: MakeCustomer, sales: User, other_sales: User, today: date
) -> None:
    """The quarter before `today`'s (Q1) and `today`'s (Q2). Ana and Bea are Sergio's,
    Dani is Olga's.

    product     Q1 units / revenue          Q2 units / revenue          total revenue
    Secreto     5 / 500 (Dani)              -                           500
    Fibra       1 / 35 (Ana)                3 / 105 (Bea)               140
    Router      2 - 1 / 60 - 30 (Ana)       1 / 30 (Dani)               60
    Funda       -                           2 / 19.90 (Bea)             19.90
    (none)      -                           1 / 12 (Bea)                12
    Left out: Bea's Router of the day before Q1, Ana's Router in dollars.
    """
    q1, q2, _end = _period_starts(today, "quarter", 2)
    ana = make_customer(display_name="Ana", account_executive=sales)
    bea = make_customer(display_name="Bea", account_executive=sales)
    dani = make_customer(display_name="Dani", account_executive=other_sales)
    Purchase.objects.bulk_create(
        [
            _buy(ana, q1 + timedelta(days=9), "60", "Router", "2"),
            _buy(ana, q1 + timedelta(days=31), "35", "Fibra"),  # the quarter's 2nd month
            _buy(ana, q1 + timedelta(days=35), "-30", "Router", "-1"),
            _buy(ana, q1 + timedelta(days=40), "1000", "Router", currency="USD"),
            _buy(bea, q1 - timedelta(days=1), "300", "Router", "10"),
            _buy(bea, q2 + timedelta(days=1), "105", "Fibra", "3"),  # the 1st month
            _buy(bea, q2 + timedelta(days=2), "12"),
            _buy(bea, q2 + timedelta(days=30), "19.90", "Funda", "2"),
            _buy(dani, q1 + timedelta(days=59), "500", SECRET, "5"),
            _buy(dani, q2 + timedelta(days=30), "30", "Router"),
        ]
    )
    refresh_retention()


@pytest.fixture
def sales_by_product(make_customer: MakeCustomer, sales: User, other_sales: User) -> None:
    """The data set in 2026's first two quarters (TODAY: 2026-06-15)."""
    _sales_by_product(make_customer, sales, other_sales, TODAY)


@pytest.fixture
def recent_sales_by_product(make_customer: MakeCustomer, sales: User, other_sales: User) -> None:
    """The data set in the last two quarters, for the page and the API (which answer
    for today)."""
    _sales_by_product(make_customer, sales, other_sales, timezone.localdate())


def _lines(user: User, top: int) -> dict[tuple[str, str], tuple[Any, ...]]:
    starts = _period_starts(TODAY, "quarter", 2)
    return {
        (line.kind, line.name): (
            [str(u) for u in line.units], [str(r) for r in line.revenue], line.purchases,
            line.products,
        )
        for line in product_sales(user, "quarter", starts, top)
    }  # fmt: skip


def test_best_sellers_by_revenue_then_the_others_then_no_product(
    sales_by_product: None, manager: User, django_assert_num_queries: Any
) -> None:
    starts = _period_starts(TODAY, "quarter", 2)
    with django_assert_num_queries(1):
        lines = product_sales(manager, "quarter", starts, top=2)

    assert [(line.kind, line.name) for line in lines] == [
        ("product", SECRET), ("product", "Fibra"), ("other", ""), ("none", ""),
    ]  # fmt: skip
    assert _lines(manager, 2) == {
        ("product", SECRET): (["5.000", "0.000"], ["500.00", "0.00"], [1, 0], 1),
        ("product", "Fibra"): (["1.000", "3.000"], ["35.00", "105.00"], [1, 1], 1),
        # Router (2 sold, 1 returned; 1 sold) and Funda (2): two products.
        ("other", ""): (["1.000", "3.000"], ["30.00", "49.90"], [2, 2], 2),
        ("none", ""): (["0.000", "1.000"], ["0.00", "12.00"], [0, 1], 0),
    }
    other = lines[2]
    assert (other.total_units, other.total_revenue, other.total_purchases) == (
        Decimal("4"), Decimal("79.90"), 4,
    )  # fmt: skip


def test_with_room_for_every_product_there_are_no_other_products(
    sales_by_product: None, manager: User
) -> None:
    lines = _lines(manager, 8)
    assert list(lines) == [
        ("product", SECRET), ("product", "Fibra"), ("product", "Router"),
        ("product", "Funda"), ("none", ""),
    ]  # fmt: skip
    assert lines[("product", "Router")][:2] == (["1.000", "1.000"], ["30.00", "30.00"])


def test_many_products_still_one_query_and_nine_lines(
    make_customer: MakeCustomer, manager: User, django_assert_num_queries: Any
) -> None:
    customer = make_customer(display_name="Eva")
    # Product n sells n units of 1 euro: the best sellers are 30 down to 23.
    Purchase.objects.bulk_create(
        _buy(customer, date(2026, 5, 1), str(n), f"P{n:02d}", str(n)) for n in range(1, 31)
    )
    refresh_retention()
    starts = _period_starts(TODAY, "quarter", 4)
    with django_assert_num_queries(1):
        lines = product_sales(manager, "quarter", starts)
    assert [line.name for line in lines[:8]] == [f"P{n}" for n in range(30, 22, -1)]
    (other,) = lines[8:]
    assert (other.kind, other.products, other.total_units) == ("other", 22, sum(range(1, 23)))


def test_a_sales_rep_cannot_see_another_portfolios_products(
    sales_by_product: None, sales: User, other_sales: User
) -> None:
    mine = _lines(sales, 20)
    assert list(mine) == [
        ("product", "Fibra"), ("product", "Router"), ("product", "Funda"), ("none", ""),
    ]  # fmt: skip
    # Only Ana's Router: 2 sold and 1 returned in Q1; Dani's of Q2 is not Sergio's.
    assert mine[("product", "Router")][:2] == (["1.000", "0.000"], ["30.00", "0.00"])
    # Nor summed into "other products" when the best sellers are fewer.
    assert _lines(sales, 1)[("other", "")][1] == ["30.00", "19.90"]  # Router, Funda

    theirs = _lines(other_sales, 20)
    assert list(theirs) == [("product", SECRET), ("product", "Router")]


def test_the_retention_answer_carries_the_product_view(
    sales_by_product: None, manager: User
) -> None:
    result = retention(manager, unit="quarter", periods=2, today=TODAY, top_products=2)
    assert [line.name for line in result.products] == [SECRET, "Fibra", "", ""]
    # The lines add up to the period's sales.
    for at, flow in enumerate(result.periods):
        assert sum(line.revenue[at] for line in result.products) == flow.revenue
        assert sum(line.purchases[at] for line in result.products) == flow.purchases
    monthly = retention(manager, unit="month", periods=6, today=TODAY)
    fibra = next(line for line in monthly.products if line.name == "Fibra")
    assert fibra.revenue == [0, 35, 0, 105, 0, 0]  # Jan..Jun 2026


def test_nothing_sold_nothing_shown(manager: User, outsider: User) -> None:
    starts = _period_starts(TODAY, "quarter", 4)
    assert product_sales(manager, "quarter", starts) == []
    assert product_sales(outsider, "quarter", starts) == []


# The page


def test_the_page_shows_units_and_revenue_by_product_beside_the_customers(
    client: Client, recent_sales_by_product: None, manager: User, django_assert_max_num_queries: Any
) -> None:
    login(client, manager)
    # Thirteen today: the session, the user, permissions, ten for the figures (the last
    # refresh, customers by day, sales, scorecard, expected values, two for the value
    # change, names, cohorts, products).
    with django_assert_max_num_queries(13):
        response = client.get("/insights/?unit=quarter&periods=2")
    assert response.status_code == 200
    text = response.content.decode()
    product_view = text.split('id="product-view-heading"')[1].split('id="customer-view-heading"')[0]
    assert "Sales by product" in product_view and "<svg" in product_view
    # Room for eight best sellers: each of the four has its line, and no "other".
    for name in (SECRET, "Fibra", "Router", "Funda", "No product"):
        assert f">{name}</" in product_view, name
    assert "Other products" not in product_view
    assert "€140.00" in product_view and "€731.90" in product_view  # Fibra; the total
    assert "<script" not in product_view


def test_the_page_says_when_purchases_name_no_product(
    client: Client, make_customer: MakeCustomer, manager: User
) -> None:
    customer = make_customer(display_name="Eva")
    Purchase.objects.bulk_create([_buy(customer, timezone.localdate(), "10")])
    refresh_retention()
    text = login(client, manager).get("/insights/").content.decode()
    assert "No purchase names its product yet" in text


def test_the_page_without_sales_says_so(client: Client, manager: User) -> None:
    refresh_retention()
    text = login(client, manager).get("/insights/").content.decode()
    assert "No sales in these periods." in text


def test_a_product_name_is_escaped_on_the_page(
    client: Client, make_customer: MakeCustomer, sales: User
) -> None:
    customer = make_customer(display_name="Eva", account_executive=sales)
    Purchase.objects.bulk_create(
        [_buy(customer, timezone.localdate(), "10", "<script>alert(1)</script>")]
    )
    refresh_retention()
    text = login(client, sales).get("/insights/").content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_a_sales_rep_sees_only_their_portfolios_products_on_the_page(
    client: Client, recent_sales_by_product: None, sales: User
) -> None:
    text = login(client, sales).get("/insights/?unit=quarter&periods=2").content.decode()
    assert "Fibra" in text and SECRET not in text


# The API


def test_the_api_gives_the_product_view(recent_sales_by_product: None, manager: User) -> None:
    body = api_client(manager).get("/api/v1/insights/retention?periods=2&top_products=2").json()
    assert body["top_products"] == 2
    lines = {(line["kind"], line["name"]): line for line in body["products"]}
    assert list(lines) == [("product", SECRET), ("product", "Fibra"), ("other", ""), ("none", "")]
    assert len(lines[("product", "Fibra")]["units"]) == len(body["periods"])
    assert lines[("product", "Fibra")]["total_units"] == 4
    assert lines[("product", "Fibra")]["total_revenue"] == 140
    assert lines[("other", "")]["products"] == 2
    assert lines[("other", "")]["total_revenue"] == pytest.approx(79.90)


def test_the_api_keeps_other_portfolios_products_from_a_sales_rep(
    recent_sales_by_product: None, sales: User
) -> None:
    for top in (1, 20):
        url = f"/api/v1/insights/retention?periods=2&top_products={top}"
        response = api_client(sales).get(url)
        assert response.status_code == 200
        assert SECRET not in response.content.decode()
        total = sum(line["total_revenue"] for line in response.json()["products"])
        assert total == pytest.approx(30 + 140 + 19.90 + 12)  # Ana's and Bea's, in euros


def test_the_api_refuses_a_bad_number_of_products(manager: User) -> None:
    client = api_client(manager)
    for top in ("0", "21", "x"):
        assert client.get(f"/api/v1/insights/retention?top_products={top}").status_code == 422


def test_the_product_view_is_in_the_openapi_schema(admin_user: User) -> None:
    schema = api_client(admin_user).get("/api/v1/openapi.json").json()
    retention_out = schema["components"]["schemas"]["RetentionOut"]
    assert "products" in retention_out["properties"]
    line = schema["components"]["schemas"]["ProductSalesOut"]["properties"]
    assert {"kind", "name", "units", "revenue", "purchases", "products"} <= set(line)
    parameters = schema["paths"]["/api/v1/insights/retention"]["get"]["parameters"]
    assert "top_products" in {parameter["name"] for parameter in parameters}


def test_periods_are_the_local_ones_as_in_the_sales_per_period(
    make_customer: MakeCustomer, manager: User, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Madrid"
    customer = make_customer(display_name="Eva")
    just_after_midnight = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 00:30 in Madrid
    Purchase.objects.create(
        customer=customer, occurred_at=just_after_midnight, amount=Decimal("10"),
        currency="EUR", product="Hora",
    )  # fmt: skip
    refresh_retention()
    result = retention(manager, unit="quarter", periods=2, today=TODAY)
    (hours,) = result.products
    assert [str(r) for r in hours.revenue] == ["0.00", "10.00"]  # the second quarter
    assert [flow.revenue for flow in result.periods] == hours.revenue


def test_the_product_view_in_spanish(
    client: Client, recent_sales_by_product: None, manager: User
) -> None:
    login(client, manager)
    client.cookies["django_language"] = "es"
    text = client.get("/insights/?unit=quarter&periods=2", HTTP_ACCEPT_LANGUAGE="es").text
    assert "Ventas por producto" in text and "Sin producto" in text
    assert "140,00\xa0€" in text  # Fibra's revenue, as Spanish writes money
