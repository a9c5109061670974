"""Search as you type in a browser: suggestions under the top bar, keyboard
navigation of the combobox, and the accessibility audit with the list open."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tendero.tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_suggests_customers_and_the_keyboard_opens_one(
    page: Page,
    manager,
    make_customer,
) -> None:
    make_customer(display_name="José Pérez", emails=["jose@example.com"])
    josefa = make_customer(display_name="Josefa Muñoz")
    make_customer(display_name="<script>alert(1)</script> Jost")
    sign_in(page, manager.username)

    page.keyboard.press("/")
    box = page.get_by_role("combobox", name="Search customers")
    expect(box).to_be_focused()
    box.press_sequentially("jos", delay=20)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(4)  # three customers and "all results"
    expect(options.nth(0)).to_contain_text("José Pérez")
    expect(listbox).to_contain_text("<script>alert(1)</script> Jost")  # shown as text

    results = Axe().run(page)
    serious = [
        v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}
    ]
    assert not serious, results.generate_report()

    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "search-option-2")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    box.press_sequentially("efa", delay=20)
    expect(options).to_have_count(2)
    box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/customers/{josefa.pk}/$"))


def test_enter_without_a_choice_lists_the_matches(
    page: Page,
    manager,
    make_customer,
) -> None:
    make_customer(display_name="Begoña Núñez")
    make_customer(display_name="Zoë O'Brien")
    sign_in(page, manager.username)
    box = page.get_by_role("combobox", name="Search customers")
    box.fill("nunez")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/customers/\?q=nunez$"))
    table = page.locator("#customer-results")
    expect(table).to_contain_text("Begoña Núñez")
    expect(table).not_to_contain_text("Zoë O'Brien")
