"""The purchases REST API: scope (404 outside it), permissions (403), bad input (422
with nothing written), versions (409), idempotent references and batches."""

from typing import Any

import pytest
from django.test import Client

from tendero.conftest import api_client, send
from tendero.contracts import services
from tendero.contracts.models import Purchase

API = "/api/v1"
MOMENT = "2024-05-01T10:00:00Z"


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana Ruiz", account_executive=sales)


@pytest.fixture
def theirs(make_customer, other_sales):
    return make_customer(display_name="Carlos Vega", account_executive=other_sales)


@pytest.fixture
def purchase(sales, customer):
    return services.record_purchase(
        sales, customer, {"amount": "19.90", "external_id": "T-1", "occurred_at": MOMENT}
    )


def test_everything_needs_authentication(customer, purchase):
    client = Client()
    for method, url in [
        ("get", f"{API}/purchases"),
        ("post", f"{API}/purchases/batch"),
        ("get", f"{API}/customers/{customer.pk}/purchases"),
        ("post", f"{API}/customers/{customer.pk}/purchases"),
        ("get", f"{API}/purchases/{purchase.pk}"),
        ("patch", f"{API}/purchases/{purchase.pk}"),
        ("delete", f"{API}/purchases/{purchase.pk}?version=1"),
    ]:
        body: dict[str, Any] | None = {} if method in ("post", "patch") else None
        assert send(client, method, url, body).status_code == 401, (method, url)


def test_recording_answers_201_then_200_for_the_same_reference(sales, customer):
    client = api_client(sales)
    body = {"amount": "12.50", "external_id": "T-9", "occurred_at": MOMENT, "description": "Café"}

    first = send(client, "post", f"{API}/customers/{customer.pk}/purchases", body)
    again = send(client, "post", f"{API}/customers/{customer.pk}/purchases", body)

    assert first.status_code == 201, first.json()
    data = first.json()
    assert (data["amount"], data["currency"], data["source"]) == ("12.50", "EUR", "api")
    assert data["customer"] == {"id": customer.pk, "display_name": "Ana Ruiz"}
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Purchase.objects.count() == 1


def test_a_reference_of_another_purchase_is_422(sales, customer, purchase):
    response = send(
        api_client(sales),
        "post",
        f"{API}/customers/{customer.pk}/purchases",
        {"amount": "1", "external_id": "T-1", "occurred_at": MOMENT},
    )
    assert response.status_code == 422
    assert "external_id" in response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"amount": "abc"},
        {"amount": "Infinity"},
        {"amount": "1.234"},
        {"amount": 0},
        {"amount": 1, "currency": "EURO"},
        {"amount": 1, "currency": "ZZZ"},
        {"amount": 1, "occurred_at": "2999-01-01T00:00:00Z"},
        {"amount": 1, "occurred_at": "1800-01-01T00:00:00Z"},
        {"amount": 1, "source": "gift"},
        {"amount": 1, "colour": "red"},
        {"amount": 1, "description": "x\x00y"},
    ],
)
def test_bad_input_is_422_and_nothing_is_written(sales, customer, body):
    response = send(api_client(sales), "post", f"{API}/customers/{customer.pk}/purchases", body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"]
    assert not Purchase.objects.exists()


def test_someone_elses_customer_and_purchase_are_not_found(other_sales, customer, purchase):
    client = api_client(other_sales)
    assert send(client, "get", f"{API}/customers/{customer.pk}/purchases").status_code == 404
    assert (
        send(client, "post", f"{API}/customers/{customer.pk}/purchases", {"amount": 1}).status_code
        == 404
    )
    assert send(client, "get", f"{API}/purchases/{purchase.pk}").status_code == 404
    assert (
        send(
            client, "patch", f"{API}/purchases/{purchase.pk}", {"version": 1, "amount": 2}
        ).status_code
        == 404
    )
    assert send(client, "delete", f"{API}/purchases/{purchase.pk}?version=1").status_code == 404
    assert send(client, "get", f"{API}/purchases").json()["items"] == []
    assert send(client, "get", f"{API}/purchases/{2**70}").status_code in (404, 422)
    assert Purchase.objects.get().amount == purchase.amount


def test_read_only_people_read_but_cannot_record(reader, outsider, customer, purchase):
    client = api_client(reader)
    assert send(client, "get", f"{API}/purchases/{purchase.pk}").status_code == 200
    response = send(client, "post", f"{API}/customers/{customer.pk}/purchases", {"amount": 1})
    assert response.status_code == 403
    assert send(api_client(outsider), "get", f"{API}/purchases").status_code == 403
    assert Purchase.objects.count() == 1


def test_list_filters_by_customer_and_time(manager, sales, customer, theirs, purchase):
    services.record_purchase(manager, theirs, {"amount": "5", "occurred_at": "2023-01-01"})
    client = api_client(manager)

    everyone = send(client, "get", f"{API}/purchases").json()
    assert everyone["count"] == 2
    mine = send(client, "get", f"{API}/purchases?customer_id={customer.pk}").json()
    assert [p["id"] for p in mine["items"]] == [purchase.pk]
    older = send(client, "get", f"{API}/purchases?until=2024-01-01T00:00:00Z").json()
    assert [p["customer"]["id"] for p in older["items"]] == [theirs.pk]
    since = send(client, "get", f"{API}/customers/{customer.pk}/purchases?since={MOMENT}").json()
    assert since["count"] == 1
    assert send(client, "get", f"{API}/purchases?colour=red").status_code == 422
    # A sales rep sees their portfolio only.
    assert send(api_client(sales), "get", f"{API}/purchases").json()["count"] == 1


def test_correcting_is_versioned(sales, purchase):
    client = api_client(sales)
    url = f"{API}/purchases/{purchase.pk}"

    ok = send(client, "patch", url, {"version": 1, "amount": "-19.90", "description": "Refund"})
    stale = send(client, "patch", url, {"version": 1, "amount": "3"})
    bad = send(client, "patch", url, {"version": 2, "currency": "NOPE"})

    assert ok.status_code == 200 and ok.json()["amount"] == "-19.90" and ok.json()["version"] == 2
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert bad.status_code == 422
    assert Purchase.objects.get().amount == purchase.amount * -1


def test_deleting_is_versioned_and_for_managers(sales, manager, purchase):
    url = f"{API}/purchases/{purchase.pk}"
    assert send(api_client(sales), "delete", f"{url}?version=1").status_code == 403
    assert send(api_client(manager), "delete", f"{url}?version=3").status_code == 409
    assert send(api_client(manager), "delete", url).status_code == 422
    assert send(api_client(manager), "delete", f"{url}?version=1").status_code == 204
    assert not Purchase.objects.exists()


def test_a_batch_is_recorded_whole_and_again_changes_nothing(sales, customer):
    items = [
        {"customer_id": customer.pk, "amount": "1", "external_id": "B-1", "occurred_at": MOMENT},
        {"customer_id": customer.pk, "amount": 2.5, "external_id": "B-2", "occurred_at": MOMENT},
    ]
    client = api_client(sales)

    first = send(client, "post", f"{API}/purchases/batch", {"items": items})
    again = send(client, "post", f"{API}/purchases/batch", {"items": items})

    assert first.status_code == 200, first.json()
    assert (first.json()["created"], first.json()["already_recorded"]) == (2, 0)
    assert (again.json()["created"], again.json()["already_recorded"]) == (0, 2)
    assert [p["amount"] for p in again.json()["items"]] == ["1.00", "2.50"]
    assert Purchase.objects.count() == 2


def test_a_bad_batch_writes_nothing_and_says_which_items(sales, customer, theirs):
    items = [
        {"customer_id": customer.pk, "amount": "1"},
        {"customer_id": theirs.pk, "amount": "2"},
        {"customer_id": customer.pk, "amount": "1.001"},
        {"customer_id": customer.pk, "amount": "x"},
    ]
    response = send(api_client(sales), "post", f"{API}/purchases/batch", {"items": items})

    assert response.status_code == 422
    assert "items.3.amount" in response.json()["errors"]  # refused by the schema first
    items[3]["amount"] = "4"
    response = send(api_client(sales), "post", f"{API}/purchases/batch", {"items": items})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"items.1.customer_id", "items.2.amount"}
    assert not Purchase.objects.exists()


def test_a_batch_has_at_most_a_thousand(sales, customer):
    items = [{"customer_id": customer.pk, "amount": "1"}] * 1001
    response = send(api_client(sales), "post", f"{API}/purchases/batch", {"items": items})
    assert response.status_code == 422
    assert (
        send(api_client(sales), "post", f"{API}/purchases/batch", {"items": []}).status_code == 422
    )
    assert not Purchase.objects.exists()


def test_the_endpoints_are_in_the_openapi_schema(admin_user):
    paths = api_client(admin_user).get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "/api/v1/purchases",
        "/api/v1/purchases/batch",
        "/api/v1/purchases/{purchase_id}",
        "/api/v1/customers/{customer_id}/purchases",
    ):
        assert path in paths


# Products and quantities


def test_product_and_quantity_are_recorded_read_and_listed(sales, customer):
    client = api_client(sales)
    body = {"amount": "59.80", "product": "Router Wi-Fi 6", "quantity": 2, "occurred_at": MOMENT}

    created = send(client, "post", f"{API}/customers/{customer.pk}/purchases", body)
    refund = send(client, "post", f"{API}/customers/{customer.pk}/purchases", {"amount": "-1"})

    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["product"], data["quantity"]) == ("Router Wi-Fi 6", "2.000")
    assert refund.json()["quantity"] == "-1.000" and refund.json()["product"] == ""
    shown = send(client, "get", f"{API}/purchases/{data['id']}").json()
    assert (shown["product"], shown["quantity"]) == ("Router Wi-Fi 6", "2.000")
    listed = send(client, "get", f"{API}/customers/{customer.pk}/purchases").json()["items"]
    assert {(p["product"], p["quantity"]) for p in listed} == {
        ("Router Wi-Fi 6", "2.000"), ("", "-1.000"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 1, "quantity": "many"},
        {"amount": 1, "quantity": "1.2345"},
        {"amount": 1, "quantity": 0},
        {"amount": 1, "quantity": -1},
        {"amount": -1, "quantity": 1},
        {"amount": 1, "quantity": 1e10},
        {"amount": 1, "quantity": "NaN"},
        {"amount": 1, "quantity": [1]},
        {"amount": 1, "product": "x" * 121},
        {"amount": 1, "product": 7},
        {"amount": 1, "product": "a\x00b"},
    ],
)
def test_a_bad_product_or_quantity_is_422_with_the_field(sales, customer, body):
    response = send(api_client(sales), "post", f"{API}/customers/{customer.pk}/purchases", body)
    assert response.status_code == 422, response.content
    field = "quantity" if "quantity" in body else "product"
    assert any(field in name for name in response.json()["errors"]), response.json()
    assert not Purchase.objects.exists()


def test_correcting_product_and_quantity_is_versioned(sales, purchase):
    client = api_client(sales)
    url = f"{API}/purchases/{purchase.pk}"

    ok = send(client, "patch", url, {"version": 1, "product": "Caldera", "quantity": "3"})
    stale = send(client, "patch", url, {"version": 1, "quantity": "4"})
    bad = send(client, "patch", url, {"version": 2, "quantity": "-4"})
    null = send(client, "patch", url, {"version": 2, "quantity": None})
    refund = send(client, "patch", url, {"version": 2, "amount": "-19.90"})

    assert ok.status_code == 200 and (ok.json()["product"], ok.json()["quantity"]) == (
        "Caldera", "3.000",
    )  # fmt: skip
    assert stale.status_code == 409
    assert bad.status_code == 422 and "quantity" in bad.json()["errors"]
    assert null.status_code == 422
    assert refund.status_code == 200 and refund.json()["quantity"] == "-3.000"


def test_a_batch_carries_product_and_quantity_and_reports_bad_ones(sales, customer):
    items = [
        {"customer_id": customer.pk, "amount": "30", "product": "Fibra", "quantity": "1.5"},
        {"customer_id": customer.pk, "amount": "5", "quantity": "0"},
    ]
    client = api_client(sales)

    bad = send(client, "post", f"{API}/purchases/batch", {"items": items})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"items.1.quantity"}
    assert not Purchase.objects.exists()

    items[1]["quantity"] = 5
    good = send(client, "post", f"{API}/purchases/batch", {"items": items})
    assert good.status_code == 200, good.json()
    assert [(p["product"], p["quantity"]) for p in good.json()["items"]] == [
        ("Fibra", "1.500"), ("", "5.000"),
    ]  # fmt: skip


def test_product_and_quantity_are_in_the_openapi_schema(admin_user):
    schemas = api_client(admin_user).get(f"{API}/openapi.json").json()["components"]["schemas"]
    for name in ("PurchaseIn", "PurchaseOut", "PurchasePatch", "PurchaseBatchItem"):
        assert {"product", "quantity"} <= set(schemas[name]["properties"]), name
    assert "maxLength" in str(schemas["PurchaseIn"]["properties"]["product"])
    assert "sign" in str(schemas["PurchaseIn"]["properties"]["quantity"])
