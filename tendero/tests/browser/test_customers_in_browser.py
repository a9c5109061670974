"""A person at a browser: sign in, find customers, create and edit one, run into a
version conflict, switch the language. Each page also passes an accessibility audit."""

import re

import pytest
from playwright.sync_api import expect

from tendero.customers import services
from tendero.tests.browser.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signing_in_lists_and_filters_customers(page, manager, make_customer):
    make_customer(display_name="Begoña Núñez", city="Bilbao")
    make_customer(display_name="Zoë O'Brien", country="GB")
    make_customer(kind="organisation", display_name="Ferretería Ángel SL")

    sign_in(page, manager.username)
    table = page.locator("#customer-results")
    expect(table).to_contain_text("Begoña Núñez")
    expect(table).to_contain_text("Zoë O'Brien")
    assert_accessible(page)

    page.get_by_label("Search", exact=True).fill("Núñez")
    expect(table).not_to_contain_text("Zoë O'Brien")
    expect(table).to_contain_text("Begoña Núñez")
    assert "q=N" in page.url  # the filter is in the address, so it can be shared

    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Kind").select_option("organisation")
    expect(table).to_contain_text("Ferretería Ángel SL")
    expect(table).not_to_contain_text("Begoña Núñez")


def test_creating_and_editing_a_customer(page, manager):
    sign_in(page, manager.username)
    page.get_by_role("link", name="New customer").first.click()
    page.get_by_label("Kind").select_option("person")
    page.get_by_label(re.compile(r"^Name")).fill("José Álvarez")
    page.get_by_label("Preferred name").fill("Pepe")
    page.get_by_label("Emails").fill("jose@example.es")
    page.get_by_label("Phones").fill("612 34 56 78")
    page.get_by_label("Country").select_option("ES")
    page.get_by_role("button", name=re.compile("Save|Create", re.I)).click()

    expect(page.get_by_role("heading", name="José Álvarez", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("+34 612 34 56 78")
    assert_accessible(page)

    page.get_by_role("link", name="Edit").first.click()
    page.get_by_label("City").fill("Sevilla")
    page.get_by_role("button", name=re.compile("Save", re.I)).click()
    expect(page.locator("main")).to_contain_text("Sevilla")


def test_a_version_conflict_keeps_what_was_typed(page, manager, admin_user, make_customer):
    customer = make_customer(display_name="Ángela Ruiz")
    sign_in(page, manager.username)
    page.goto(f"/customers/{customer.pk}/edit/")

    # Someone else saves first.
    services.update_customer(admin_user, customer, customer.version, {"city": "Madrid"})

    page.get_by_label("City").fill("Valencia")
    page.get_by_role("button", name=re.compile("Save", re.I)).click()
    expect(page.locator("main")).to_contain_text("Someone else changed this")
    expect(page.get_by_label("City")).to_have_value("Valencia")
    customer.refresh_from_db()
    assert customer.city == "Madrid"


def test_switching_the_language_to_spanish(page, manager, make_customer):
    make_customer(display_name="Begoña Núñez")
    sign_in(page, manager.username)
    page.get_by_role("button", name="ES").click()
    expect(page.get_by_role("heading", name="Clientes", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Nuevo cliente")).to_be_visible()
    manager.refresh_from_db()
    assert manager.language == "es"


def test_the_list_is_usable_on_a_phone(page, manager, make_customer):
    make_customer(display_name="Begoña Núñez")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, manager.username)
    expect(page.locator("#customer-results")).to_contain_text("Begoña Núñez")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_a_customer_named_like_a_script_is_shown_as_text(page, manager, make_customer):
    customer = make_customer(display_name="<script>window.pwned = 1</script>")
    sign_in(page, manager.username)
    page.goto(f"/customers/{customer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("<script>window.pwned = 1</script>")
    assert page.evaluate("window.pwned === undefined")


def test_the_login_page_is_accessible(page, db):
    page.goto("/accounts/login/")
    assert_accessible(page)
