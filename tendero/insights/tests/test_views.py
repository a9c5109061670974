"""Scores on the customer pages: the 360 header (within its query budget) and the
list's value column when its query loads the scores."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.contracts.models import Purchase
from tendero.customers.models import Customer
from tendero.insights.models import CustomerValue
from tendero.insights.pipeline import score_all

END = date(2025, 6, 30)


@pytest.fixture
def customer(make_customer: Callable[..., Customer], sales: User) -> Customer:
    return make_customer(display_name="Ana Ruiz", account_executive=sales)


def _score(customer: Customer, make_customer: Callable[..., Customer]) -> CustomerValue:
    other = make_customer(display_name="Bea")
    rows = [(customer, 200, "40"), (customer, 100, "60"), (customer, 20, "50"), (other, 90, "10")]
    Purchase.objects.bulk_create(
        Purchase(
            customer=who,
            occurred_at=timezone.make_aware(datetime.combine(END - timedelta(days=ago), time(12))),
            amount=Decimal(amount),
            currency="EUR",
        )
        for who, ago, amount in rows
    )
    assert score_all(calibration_end=END).status == "succeeded"
    return CustomerValue.objects.get(customer=customer)


def test_the_header_says_when_a_customer_is_not_scored_yet(
    client: Client, customer: Customer, sales: User
) -> None:
    html = login(client, sales).get(reverse("customers:detail", args=[customer.pk])).text
    assert "Lifetime value" in html and "not scored yet" in html


def test_the_header_shows_value_probability_and_segment(
    client: Client,
    customer: Customer,
    sales: User,
    make_customer: Callable[..., Customer],
    django_assert_max_num_queries: Any,
) -> None:
    value = _score(customer, make_customer)
    login(client, sales)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("customers:detail", args=[customer.pk])).text
    assert f"{value.p_alive_percent}% likely still buying" in html
    assert "in 36 months" in html and "EUR" in html
    assert value.get_segment_display() in html
    assert "not scored yet" not in html


def test_the_list_shows_the_value_column_only_when_its_query_loads_the_scores(
    customer: Customer, sales: User, make_customer: Callable[..., Customer]
) -> None:
    value = _score(customer, make_customer)
    request = RequestFactory().get("/customers/")
    request.user = sales
    request.htmx = False  # type: ignore[attr-defined]
    context = {"customers": list(Customer.objects.filter(pk=customer.pk)), "columns": []}
    assert "Value, 36 months" not in render_to_string("customers/_table.html", context, request)
    loaded = list(Customer.objects.filter(pk=customer.pk).select_related("value"))
    html = render_to_string("customers/_table.html", {**context, "customers": loaded}, request)
    assert "Value, 36 months" in html and f"{value.p_alive_percent}% alive" in html
