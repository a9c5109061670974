"""A manager at a browser reads the Insights page: sales by product beside customers
won and lost, changes the periods without a reload, opens the products' period table,
and the page passes an accessibility audit, also 390 px wide; then a customer's
lifetime value on their page after scoring."""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tendero.contracts.models import Purchase
from tendero.insights.pipeline import score_all
from tendero.insights.refresh import refresh_retention
from tendero.tests.browser.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _buy(customer: Any, days_ago: int, amount: str, product: str = "") -> Purchase:
    day = timezone.localdate() - timedelta(days=days_ago)
    return Purchase(
        customer=customer,
        occurred_at=timezone.make_aware(datetime.combine(day, time(11))),
        amount=Decimal(amount),
        currency="EUR",
        product=product,
    )


def test_insights_in_the_browser(page: Page, manager: Any, make_customer: Any) -> None:
    loyal = make_customer(display_name="Lucía Vega")
    gone = make_customer(display_name="Pedro Gil")
    new = make_customer(display_name="Nora Sanz")
    purchases = [_buy(loyal, days, "40", "Fibra 600") for days in (700, 500, 300, 200, 90, 20)]
    purchases += [_buy(gone, days, "90", "Router Wi-Fi 6") for days in (800, 650, 420)]
    purchases += [_buy(new, 15, "25", "Fibra 600"), _buy(new, 3, "30")]
    Purchase.objects.bulk_create(purchases)
    score_all(calibration_end=date.today())
    refresh_retention(trigger="command")

    sign_in(page, manager.username)
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="The product-centric view")).to_be_visible()
    expect(page.get_by_role("heading", name="The customer-centric view")).to_be_visible()
    expect(page.locator(".chart svg")).to_have_count(3)
    expect(page.locator(".insight-cards")).to_contain_text("Customers with purchases")
    expect(page.locator(".as-of")).to_contain_text("As of ")
    products = page.get_by_role("table", name=re.compile("Units and revenue by product"))
    expect(products.get_by_role("rowheader")).to_have_text(
        ["Fibra 600", "Router Wi-Fi 6", "No product", "Total"]
    )
    page.get_by_text("Units and revenue by product, period by period").click()
    expect(page.locator(".product-periods table")).to_be_visible()
    assert_accessible(page)

    page.evaluate("window.stayedOnPage = true")
    page.get_by_label("Periods of").select_option("month")
    periods = page.locator("#flows-heading + .table-wrap tbody th")
    expect(periods.first).to_have_text(re.compile(r"^\d{4}-\d{2}$"))  # months, not quarters
    expect(periods).to_have_count(8)
    assert page.evaluate("window.stayedOnPage") is True  # htmx swapped the results in
    assert "unit=month" in page.url

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("img", name="Sales by product")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # tables scroll
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/customers/{loyal.pk}/")
    expect(page.locator("body")).to_contain_text("likely still buying")
