"""The purchases pages: a customer's purchases with the form to record one (htmx, no
reload), the company-wide list scoped per user, CSRF, escaping, and purchases on the
customer timeline."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tendero.conftest import login
from tendero.contracts import services
from tendero.contracts.models import Purchase
from tendero.contracts.templatetags.purchases import format_money

HTMX = {"HX-Request": "true"}


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana Ruiz", account_executive=sales)


@pytest.fixture
def theirs(make_customer, other_sales):
    return make_customer(display_name="Carlos Vega", account_executive=other_sales)


def _url(customer) -> str:
    return reverse("contracts:customer_purchases", args=[customer.pk])


def test_the_customer_page_lists_purchases_and_offers_the_form(client, sales, customer):
    services.record_purchase(sales, customer, {"amount": "1234.5", "description": "Caldera"})
    html = login(client, sales).get(_url(customer)).text
    assert "Caldera" in html and "€1,234.50" in html
    assert 'name="amount"' in html and "csrfmiddlewaretoken" in html


def test_recording_with_htmx_answers_the_section_with_a_fresh_form(client, sales, customer):
    response = login(client, sales).post(
        _url(customer),
        {"amount": "12,50", "currency": "EUR", "description": "Café", "source": "manual"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.text
    assert 'id="customer-purchases"' in html and "<html" not in html
    assert "Café" in html and "autofocus" in html
    assert Purchase.objects.get().amount == Decimal("12.50")


def test_recording_without_htmx_redirects_back(client, sales, customer):
    response = login(client, sales).post(
        _url(customer), {"amount": "3", "currency": "EUR", "source": "manual"}
    )
    assert response.status_code == 302 and response["Location"] == _url(customer)
    assert Purchase.objects.count() == 1


def test_errors_come_back_at_the_field_with_what_was_typed(client, sales, customer):
    response = login(client, sales).post(
        _url(customer),
        {"amount": "doce", "currency": "ZZZ", "description": "Typed text", "source": "manual"},
        headers=HTMX,
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    html = response.text
    assert "Enter an amount." in html and "ZZZ" in html and "Typed text" in html
    assert not Purchase.objects.exists()
    plain = client.post(_url(customer), {"amount": "doce", "currency": "EUR", "source": "manual"})
    assert plain.status_code == 422


def test_posting_needs_the_csrf_token(sales, customer):
    client = login(Client(enforce_csrf_checks=True), sales)
    response = client.post(_url(customer), {"amount": "3", "currency": "EUR", "source": "manual"})
    assert response.status_code == 403
    assert not Purchase.objects.exists()


def test_someone_elses_customer_is_not_found(client, other_sales, customer):
    login(client, other_sales)
    assert client.get(_url(customer)).status_code == 404
    response = client.post(_url(customer), {"amount": "3", "currency": "EUR", "source": "manual"})
    assert response.status_code == 404
    assert not Purchase.objects.exists()


def test_readers_see_but_get_no_form_and_cannot_post(client, reader, customer):
    login(client, reader)
    html = client.get(_url(customer)).text
    assert 'name="amount"' not in html
    response = client.post(_url(customer), {"amount": "3", "currency": "EUR", "source": "manual"})
    assert response.status_code == 403
    assert not Purchase.objects.exists()


def test_people_without_a_role_are_refused(client, outsider, customer):
    login(client, outsider)
    assert client.get(_url(customer)).status_code == 403
    assert client.get(reverse("contracts:list")).status_code == 403


def test_anonymous_people_are_sent_to_sign_in(client, customer):
    response = client.get(reverse("contracts:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_text_is_escaped(client, sales, customer):
    services.record_purchase(
        sales, customer, {"amount": "1", "description": "<script>alert(1)</script>"}
    )
    for url in (_url(customer), reverse("contracts:list"), customer.get_absolute_url()):
        html = login(client, sales).get(url).text
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_the_list_is_scoped_and_filtered(client, manager, sales, customer, theirs):
    services.record_purchase(sales, customer, {"amount": "1", "description": "Mine"})
    services.record_purchase(
        manager, theirs, {"amount": "2", "description": "Theirs", "occurred_at": "2023-01-05"}
    )
    url = reverse("contracts:list")

    html = login(client, sales).get(url).text
    assert "Mine" in html and "Theirs" not in html

    html = login(client, manager).get(url).text
    assert "Mine" in html and "Theirs" in html
    fragment = client.get(url, {"until": "2023-12-31"}, headers=HTMX).text
    assert "Theirs" in fragment and "Mine" not in fragment and "<html" not in fragment
    assert "Nothing matches" in client.get(url, {"source": "subscription"}).text
    assert client.get(url, {"since": "not-a-date"}).status_code == 200


def test_a_purchase_is_on_the_customer_timeline(client, sales, customer):
    services.record_purchase(
        sales, customer, {"amount": "-7.5", "description": "Devuelto", "external_id": "R-7"}
    )
    html = login(client, sales).get(customer.get_absolute_url()).text
    assert "Devuelto" in html and "R-7" in html and "-€7.50" in html
    fragment = client.get(
        reverse("customers:timeline", args=[customer.pk]), {"group": "purchases"}, headers=HTMX
    ).text
    assert "Devuelto" in fragment


def test_money_in_spanish_and_english():
    with translation.override("es"):
        assert format_money("12345.5", "EUR") == "12.345,50\xa0€"
    with translation.override("en"):
        assert format_money(Decimal("-3"), "USD") == "-$3.00"
    assert format_money("oops", "EUR") == "oops"


def test_managers_remove_a_purchase_with_the_version_they_saw(client, sales, manager, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "9", "description": "Oops"})
    url = reverse("contracts:delete", args=[purchase.pk])
    login(client, manager)
    assert "Remove" in client.get(_url(customer)).text

    stale = client.post(url, {"version": "2"}, headers=HTMX)
    assert stale.status_code == 200 and "Someone else changed" in stale.text
    assert Purchase.objects.exists()

    done = client.post(url, {"version": "1"}, headers=HTMX)
    assert done.status_code == 200 and "Purchase removed." in done.text
    assert 'id="customer-purchases"' in done.text and "Oops" not in done.text
    assert not Purchase.objects.exists()


def test_removing_is_for_managers_within_their_scope(client, sales, other_sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "9"})
    url = reverse("contracts:delete", args=[purchase.pk])
    assert "Remove" not in login(client, sales).get(_url(customer)).text
    assert client.post(url, {"version": "1"}).status_code == 403
    assert login(client, other_sales).post(url, {"version": "1"}).status_code == 403
    assert client.get(url).status_code in (403, 405)
    assert Purchase.objects.exists()


def test_removing_needs_the_csrf_token(manager, sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "9"})
    client = login(Client(enforce_csrf_checks=True), manager)
    url = reverse("contracts:delete", args=[purchase.pk])
    assert client.post(url, {"version": "1"}).status_code == 403
    assert Purchase.objects.exists()


# Products and quantities


def test_the_form_records_product_and_quantity(client, sales, customer):
    response = login(client, sales).post(
        _url(customer),
        {"product": "Fibra 600", "quantity": "1,5", "amount": "52,50", "currency": "EUR",
         "source": "manual"},
        headers=HTMX,
    )  # fmt: skip
    assert response.status_code == 200
    purchase = Purchase.objects.get()
    assert (purchase.product, purchase.quantity) == ("Fibra 600", Decimal("1.5"))
    html = response.text
    assert "Recorded: 1.5 \u00d7 Fibra 600, €52.50." in html
    assert 'name="product"' in html and 'name="quantity"' in html


def test_an_empty_quantity_is_one_unit_and_a_bad_one_comes_back_at_its_field(
    client, sales, customer
):
    login(client, sales)
    client.post(_url(customer), {"amount": "3", "currency": "EUR", "source": "manual"})
    assert Purchase.objects.get().quantity == 1

    response = client.post(
        _url(customer),
        {"product": "Router", "quantity": "1.000", "amount": "3", "currency": "EUR",
         "source": "manual"},
        headers=HTMX,
    )  # fmt: skip
    html = response.text
    assert response.status_code == 200 and "can be read two ways" in html
    assert 'id="id_purchase_quantity_error"' in html and 'value="Router"' in html
    assert Purchase.objects.count() == 1


def test_pages_show_product_and_quantity_and_do_without(client, manager, sales, customer):
    services.record_purchase(
        sales, customer, {"amount": "59.80", "product": "Router Wi-Fi 6", "quantity": "2"}
    )
    services.record_purchase(sales, customer, {"amount": "-29.90", "description": "Devuelto"})

    for url in (_url(customer), reverse("contracts:list")):
        html = login(client, manager).get(url).text
        assert ">Product</th>" in html and ">Quantity</th>" in html, url
        assert "Router Wi-Fi 6" in html and ">2</td>" in html and ">-1</td>" in html, url
        assert "<td>—</td>" in html, url  # the refund names no product
    with translation.override("es"):
        html = client.get(_url(customer), headers={"Accept-Language": "es"}).text
    assert "Producto" in html and "Cantidad" in html


def test_a_product_name_is_escaped_everywhere(client, sales, customer):
    services.record_purchase(
        sales, customer, {"amount": "1", "product": "<script>alert(1)</script>"}
    )
    login(client, sales)
    saved = client.post(
        _url(customer),
        {"product": "<script>alert(2)</script>", "amount": "1", "currency": "EUR",
         "source": "manual"},
        headers=HTMX,
    ).text  # fmt: skip
    assert "<script>alert(2)" not in saved and "&lt;script&gt;alert(2)" in saved
    for url in (_url(customer), reverse("contracts:list"), customer.get_absolute_url()):
        html = client.get(url).text
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_the_timeline_names_the_product_and_its_units(client, sales, customer):
    services.record_purchase(
        sales, customer, {"amount": "45", "product": "Fibra 600", "quantity": "1,5"}
    )
    services.record_purchase(sales, customer, {"amount": "9", "description": "Sin producto"})
    html = login(client, sales).get(customer.get_absolute_url()).text
    assert "1.5 \u00d7 Fibra 600" in html
    assert "Sin producto" in html and html.count('class="feed-product"') == 1


# Corrections


def test_a_purchase_is_corrected_with_the_version_read_and_audited(client, sales, customer):
    from tendero.audit.models import AuditEntry

    purchase = services.record_purchase(
        sales, customer, {"amount": "12,50", "product": "Router", "description": "Oops"}
    )
    login(client, sales)
    assert reverse("contracts:edit", args=[purchase.pk]) in client.get(_url(customer)).text
    url = reverse("contracts:edit", args=[purchase.pk])
    page = client.get(url).text
    assert (
        'value="12.50"' in page and 'value="Router"' in page and 'name="version" value="1"' in page
    )

    form = {
        "product": "Router 5G", "quantity": "2", "amount": "25,00", "currency": "EUR",
        "occurred_at": "2026-11-20T10:30", "description": "Two routers",
        "external_id": "", "source": "manual", "version": "1",
    }  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 302 and response["Location"] == _url(customer)
    purchase.refresh_from_db()
    assert (purchase.product, purchase.quantity, purchase.amount, purchase.version) == (
        "Router 5G", Decimal("2.000"), Decimal("25.00"), 2,
    )  # fmt: skip
    assert AuditEntry.objects.filter(object_pk=str(purchase.pk), action=1).exists()

    # The same form again: the version read is no longer current; nothing changes and
    # the page shows the purchase as it is now, with its current version.
    stale = client.post(url, {**form, "amount": "99"})
    assert stale.status_code == 409 and "Someone else changed" in stale.text
    assert 'name="version" value="2"' in stale.text and 'value="25.00"' in stale.text
    purchase.refresh_from_db()
    assert purchase.amount == Decimal("25.00")


def test_a_bad_correction_comes_back_at_its_field_and_changes_nothing(client, sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "9"})
    url = reverse("contracts:edit", args=[purchase.pk])
    response = login(client, sales).post(
        url, {"amount": "1.000", "currency": "EUR", "source": "manual", "version": "1"}
    )
    assert response.status_code == 422 and "two ways" in response.text
    purchase.refresh_from_db()
    assert purchase.amount == Decimal("9.00") and purchase.version == 1


def test_corrections_are_for_the_purchases_people_may_change(
    client, sales, other_sales, reader, customer
):
    purchase = services.record_purchase(sales, customer, {"amount": "9", "description": "<b>x</b>"})
    url = reverse("contracts:edit", args=[purchase.pk])
    assert client.get(url).status_code == 302  # to sign in
    assert login(client, other_sales).get(url).status_code == 404
    assert login(client, reader).get(url).status_code == 403
    assert "Correct" not in client.get(_url(customer)).text
    html = login(client, sales).get(url).text
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    csrf = login(Client(enforce_csrf_checks=True), sales)
    assert csrf.post(url, {"amount": "10", "currency": "EUR", "version": "1"}).status_code == 403
    purchase.refresh_from_db()
    assert purchase.amount == Decimal("9.00")


def test_an_imported_purchase_keeps_its_source_when_corrected(client, sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "9", "source": "import"})
    url = reverse("contracts:edit", args=[purchase.pk])
    page = login(client, sales).get(url).text
    assert 'value="import"' in page and 'value="manual"' not in page
    form = {"amount": "10", "currency": "EUR", "source": "import", "version": "1"}
    assert client.post(url, form).status_code == 302
    purchase.refresh_from_db()
    assert (purchase.amount, purchase.source) == (Decimal("10.00"), "import")
