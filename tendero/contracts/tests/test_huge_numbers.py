"""Huge numbers are refused as too large, with a 422 and nothing written, whatever
the way in: the API (one purchase, a correction, a batch), the page's form and an
import; never a server error (decimal.InvalidOperation)."""

import json
from pathlib import Path
from typing import Any

import pytest

from tendero.conftest import api_client, login, send
from tendero.contracts import services
from tendero.contracts.models import Purchase
from tendero.core.errors import InvalidData
from tendero.customers import importing
from tendero.customers.models import ImportRowError

API = "/api/v1"
MOMENT = "2024-05-01T10:00:00Z"
HUGE_AMOUNTS = [1e26, "1e30", 1.797e308, "1e26", 10**30, "1" + "0" * 40]
HUGE_QUANTITIES = [1e25, "1e25", 10**25]


def _messages(response: Any) -> str:
    return json.dumps(response.json())


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana Ruiz", external_id="C1", account_executive=sales)


@pytest.fixture
def purchase(sales, customer):
    return services.record_purchase(sales, customer, {"amount": "19.90", "occurred_at": MOMENT})


@pytest.mark.parametrize("amount", HUGE_AMOUNTS)
def test_a_huge_amount_is_too_large_through_the_api(sales, customer, purchase, amount):
    client = api_client(sales)
    answers = [
        send(client, "post", f"{API}/customers/{customer.pk}/purchases", {"amount": amount}),
        send(client, "patch", f"{API}/purchases/{purchase.pk}", {"amount": amount, "version": 1}),
        send(
            client, "post", f"{API}/purchases/batch",
            {"items": [{"customer_id": customer.pk, "amount": amount}]},
        ),
    ]  # fmt: skip
    for response in answers:
        assert response.status_code == 422, response.content
        assert "too large" in _messages(response)
    assert Purchase.objects.count() == 1
    purchase.refresh_from_db()
    assert str(purchase.amount) == "19.90"


@pytest.mark.parametrize("quantity", HUGE_QUANTITIES)
def test_a_huge_quantity_is_too_large_through_the_api(sales, customer, purchase, quantity):
    client = api_client(sales)
    body = {"amount": "10", "quantity": quantity}
    answers = [
        send(client, "post", f"{API}/customers/{customer.pk}/purchases", body),
        send(client, "patch", f"{API}/purchases/{purchase.pk}", {**body, "version": 1}),
        send(
            client, "post", f"{API}/purchases/batch",
            {"items": [{"customer_id": customer.pk, **body}]},
        ),
    ]  # fmt: skip
    for response in answers:
        assert response.status_code == 422, response.content
        assert "too large" in _messages(response)
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize("field", ["amount", "quantity"])
def test_the_form_says_too_large(client, sales, customer, field):
    data = {"amount": "10", "currency": "EUR", "source": "manual", field: "1e30"}

    response = login(client, sales).post(f"/customers/{customer.pk}/purchases/", data)

    assert response.status_code == 422
    assert "too large" in response.text
    assert not Purchase.objects.exists()


def test_the_service_says_too_large_before_any_arithmetic(sales, customer):
    for data in ({"amount": "1e26"}, {"amount": 1.797e308}, {"amount": "5", "quantity": 1e25}):
        with pytest.raises(InvalidData) as error:
            services.record_purchase(sales, customer, data)
        assert "too large" in json.dumps(error.value.field_errors)


def test_an_import_rejects_huge_numbers_row_by_row(admin_user, customer, tmp_path: Path):
    path = tmp_path / "compras.csv"
    path.write_text(
        "Customer,Date,Amount,Quantity,External id\n"
        "C1,2024-03-05,1e26,1,H-1\n"
        "C1,2024-03-05,10,1e25,H-2\n"
        "C1,2024-03-05,1.797e308,1,H-3\n"
        "C1,2024-03-05,12.50,1,H-4\n",
        encoding="utf-8",
    )
    job = importing.create_job(admin_user, "purchases", path, path.name)

    job = importing.run_import(job, admin_user)

    assert (job.status, job.created_count, job.error_count) == ("done", 1, 3)
    errors = {e.row_number: e.errors for e in ImportRowError.objects.filter(job=job)}
    assert set(errors) == {2, 3, 4}
    assert all("too large" in json.dumps(e) for e in errors.values())
