"""A person at a browser merges a duplicate and dismisses a pair that is not one;
both pages pass an accessibility audit."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction
from tendero.stewardship.duplicates import detect_duplicates
from tendero.stewardship.models import CustomerMerge, DuplicatePair
from tendero.tests.browser.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_merging_a_duplicate_in_the_browser(page: Page, manager: Any, make_customer: Any) -> None:
    page = page
    older = make_customer(display_name="Lucía Vega", emails=["lucia@example.es"], city="")
    newer = make_customer(
        display_name="Lucia Vega <b>", emails=["LUCIA@example.es", "lv@example.com"], city="Soria"
    )
    Interaction.objects.create(customer=newer, channel="phone", direction="inbound", subject="Hi")
    Interaction.objects.create(customer=older, channel="email", direction="inbound", subject="Yo")
    Interaction.objects.create(customer=older, channel="visit", direction="inbound", subject="Hey")
    detect_duplicates()

    sign_in(page, manager.username)
    page.goto("/duplicates/")
    expect(page.get_by_role("heading", name="Possible duplicates", level=1)).to_be_visible()
    expect(page.locator(".duplicate-pair")).to_contain_text("Same email")
    expect(page.locator(".duplicate-pair")).to_contain_text("Lucia Vega <b>")
    assert_accessible(page)

    page.get_by_role("link", name="Compare and merge").click()
    expect(page.get_by_role("heading", name="Compare and merge", level=1)).to_be_visible()
    # The older customer has more history: it stays by default.
    expect(page.get_by_role("radio", name=re.compile("^Lucía Vega"))).to_be_checked()
    # Its city is empty, so the duplicate's is preselected.
    expect(page.get_by_role("radio", name="City: Soria")).to_be_checked()
    page.get_by_role("radio", name="Name: Lucia Vega <b>").check()
    assert_accessible(page)

    page.get_by_role("button", name="Merge").click()
    # The confirmation is required: the browser keeps the person on the page.
    expect(page.get_by_role("heading", name="Compare and merge", level=1)).to_be_visible()
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Merge").click()

    expect(page.locator(".messages")).to_contain_text("was merged into")
    assert page.url.endswith(f"/customers/{older.pk}/")
    survivor = Customer.objects.get(pk=older.pk)
    assert survivor.display_name == "Lucia Vega <b>"
    assert survivor.city == "Soria"
    assert not Customer.objects.filter(pk=newer.pk).exists()
    assert Interaction.objects.filter(customer=survivor).count() == 3
    assert CustomerMerge.objects.get().merged_by == manager


def test_dismissing_a_pair_in_the_browser(page: Page, manager: Any, make_customer: Any) -> None:
    page = page
    make_customer(display_name="Twin Uno", phones=["+34600000001"])
    make_customer(display_name="Twin Dos", phones=["+34600000001"])
    detect_duplicates()

    sign_in(page, manager.username)
    page.goto("/duplicates/")
    expect(page.locator(".duplicate-pair")).to_have_count(1)
    page.get_by_role("button", name="Not a duplicate").click()
    expect(page.locator(".duplicate-pair")).to_have_count(0)
    assert DuplicatePair.objects.get().dismissed_by == manager
