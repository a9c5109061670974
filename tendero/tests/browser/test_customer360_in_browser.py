"""A new user at the customer 360 page: search "jose", open the customer, read the
briefing, log a call without the page reloading, add a fact learned in that call,
see both at the top of the timeline, and merge a duplicate."""

import pytest
from playwright.sync_api import expect

from tendero.customers import services
from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction
from tendero.stewardship.duplicates import detect_duplicates
from tendero.tests.browser.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_day_at_the_counter(page, manager, make_customer):
    jose = make_customer(
        display_name="José García López", preferred_name="Pepe", emails=["jose@garcia.es"]
    )
    duplicate = make_customer(display_name="Jose Garcia Lopez", emails=["JOSE@garcia.es"])
    make_customer(display_name="María Ruiz")
    services.update_customer(manager, jose, jose.version, {"city": "Sevilla"})
    detect_duplicates()

    sign_in(page, manager.username)
    search = page.get_by_role("combobox", name="Search customers")
    search.fill("jose")
    suggestions = page.get_by_role("listbox")
    expect(suggestions).to_contain_text("José García López")
    expect(suggestions).not_to_contain_text("María Ruiz")
    suggestions.get_by_role("option").filter(has_text="José García López").first.click()

    expect(page.get_by_role("heading", name="José García López", level=1)).to_be_visible()
    briefing = page.locator(".briefing")
    expect(briefing).to_contain_text("Before you talk to them")
    expect(briefing).to_contain_text("Pepe")
    assert_accessible(page)

    page.evaluate("window.stillTheSamePage = true")
    log = page.locator("#log-interaction")
    log.get_by_label("Channel").select_option("phone")
    log.get_by_label("Subject").fill("Asked about the fibre upgrade")
    log.get_by_label("Notes").fill("His daughter Lucía starts university in Granada.")
    log.get_by_role("button", name="Log interaction").click()
    first_entry = page.locator("#timeline .feed-entry").first
    expect(first_entry).to_contain_text("Asked about the fibre upgrade")
    assert page.evaluate("window.stillTheSamePage === true")

    page.get_by_role("link", name="Knowledge").click()
    page.get_by_text("Add a fact").click()
    panel = page.locator(".knowledge-panel")
    panel.get_by_label("What kind of fact").select_option("family_member")
    panel.get_by_label("Relation").select_option("child")
    panel.get_by_label("Their name").fill("Lucía")
    panel.get_by_label("What we know").fill("Starts university in Granada")
    panel.get_by_role("button", name="Save fact").click()
    expect(panel).to_contain_text("Lucía")
    assert page.evaluate("window.stillTheSamePage === true")

    page.get_by_role("link", name="Overview").click()
    entries = page.locator("#timeline .feed-entry")
    expect(entries.nth(0)).to_contain_text("Starts university in Granada")
    expect(entries.nth(1)).to_contain_text("Asked about the fibre upgrade")
    assert page.evaluate("window.stillTheSamePage === true")

    candidates = page.locator("#duplicate-candidates")
    expect(candidates).to_contain_text("Jose Garcia Lopez")
    candidates.get_by_role("link", name="Compare and merge").click()
    page.locator("#merge-confirm").check()
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("José García López")
    expect(page.locator("#timeline")).to_contain_text("Jose Garcia Lopez")

    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert Interaction.objects.filter(customer=jose).count() == 1
