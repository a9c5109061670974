"""The main pages and the API docs work under the Content-Security-Policy without a
single violation: signing in, the customer list filtered as one types and its export
links, the search suggestions, a customer 360 page with a call logged through htmx,
Insights with its charts swapped in by htmx, and Swagger UI."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tendero.contracts.models import Purchase
from tendero.insights.refresh import refresh_retention
from tendero.tests.browser.helpers import collect_csp_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _buy(customer: Any, days_ago: int, amount: str) -> Purchase:
    day = timezone.localdate() - timedelta(days=days_ago)
    return Purchase(
        customer=customer,
        occurred_at=timezone.make_aware(datetime.combine(day, time(11))),
        amount=Decimal(amount),
        currency="EUR",
        product="Fibra 600",
    )


def test_the_main_pages_break_no_policy(page: Page, manager: Any, make_customer: Any) -> None:
    jose = make_customer(display_name="José García López")
    make_customer(display_name="María Ruiz")
    Purchase.objects.bulk_create([_buy(jose, days, "40") for days in (400, 200, 30)])
    refresh_retention(trigger="command")
    violations = collect_csp_violations(page)

    sign_in(page, manager.username)

    # The list filters as one types (htmx), and the search box suggests.
    page.get_by_label("Search", exact=True).fill("maría")
    expect(page.locator("#customer-results")).not_to_contain_text("José García López")
    # The export links take the filters typed since the page loaded (tendero.js).
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert "format=csv" in download.value.url and "q=mar" in download.value.url
    search = page.get_by_role("combobox", name="Search customers")
    search.fill("jose")
    suggestions = page.get_by_role("listbox")
    expect(suggestions).to_contain_text("José García López")
    suggestions.get_by_role("option").filter(has_text="José García López").first.click()

    # The customer 360 page: a call logged without a reload.
    expect(page.get_by_role("heading", name="José García López", level=1)).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    log = page.locator("#log-interaction")
    log.get_by_label("Channel").select_option("phone")
    log.get_by_label("Subject").fill("Asked about the fibre upgrade")
    log.get_by_role("button", name="Log interaction").click()
    expect(page.locator("#timeline .feed-entry").first).to_contain_text("fibre upgrade")
    assert page.evaluate("window.stillTheSamePage === true")

    # Insights: the charts keep their colours, also after htmx swaps them in.
    page.goto("/insights/")
    expect(page.locator(".chart svg")).to_have_count(3)
    page.get_by_label("Periods of").select_option("month")
    expect(page.locator("#flows-heading + .table-wrap tbody th").first).to_have_text(
        re.compile(r"^\d{4}-\d{2}$")
    )
    # Every chart swapped in has its own sheet, and its colours show (waited for:
    # the sheets follow htmx's swap events, not the table the test waits on).
    legend = page.locator(".chart svg .legend rect").first
    expect(legend).not_to_have_css("fill", "rgb(0, 0, 0)")
    page.wait_for_function(
        "document.adoptedStyleSheets.length"
        " === document.querySelectorAll('.chart svg[data-style]').length"
    )

    # The API docs: Swagger UI from the installed package, reading the schema.
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tendero API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()

    assert violations == []
