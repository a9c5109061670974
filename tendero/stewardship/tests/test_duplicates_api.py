"""The duplicates API: pairs, dismissing, live candidates and merging, scoped per role."""

from collections.abc import Callable
from typing import Any

from pytest_django import DjangoAssertNumQueries

from tendero.accounts.models import User
from tendero.conftest import api_client, send
from tendero.customers import services
from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction
from tendero.stewardship.duplicates import detect_duplicates
from tendero.stewardship.models import CustomerMerge, DuplicatePair

API = "/api/v1"
MakeCustomer = Callable[..., Customer]


def twins(make_customer: MakeCustomer, name: str = "Ana Ruiz", **extra: object) -> list[Customer]:
    a = make_customer(display_name=name, emails=["ana@example.com"], **extra)
    b = make_customer(display_name=name, emails=["ana@example.com"], city="Lugo", **extra)
    detect_duplicates()
    return [a, b]


def merge_body(a: Customer, b: Customer, **extra: Any) -> dict[str, Any]:
    return {
        "duplicate_id": b.pk,
        "survivor_version": a.version,
        "duplicate_version": b.version,
        **extra,
    }


def test_list_of_open_pairs(manager: User, make_customer: MakeCustomer) -> None:
    a, b = twins(make_customer, name="<script>alert(1)</script>")
    response = api_client(manager).get(f"{API}/duplicates")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    [pair] = data["items"]
    assert (pair["first"]["id"], pair["second"]["id"]) == (a.pk, b.pk)
    assert pair["first"]["display_name"] == "<script>alert(1)</script>"
    assert pair["reasons"] == ["email", "name"]
    assert pair["reason_labels"] == ["Same email", "Same name"]
    assert pair["score"] == 60
    assert pair["first"]["email"] == "ana@example.com"


def test_list_is_paginated_with_bounded_queries(
    manager: User,
    make_customer: MakeCustomer,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for i in range(5):
        make_customer(display_name=f"A {i}", emails=[f"x{i}@example.com"])
        make_customer(display_name=f"B {i}", emails=[f"x{i}@example.com"])
    detect_duplicates()
    client = api_client(manager)
    with django_assert_max_num_queries(14):
        data = client.get(f"{API}/duplicates?limit=2").json()
    assert len(data["items"]) == 2
    assert data["count"] == 5
    assert data["next"]


def test_list_needs_the_permission(sales: User) -> None:
    assert api_client(sales).get(f"{API}/duplicates").status_code == 403


def test_unknown_query_parameter_is_422(manager: User) -> None:
    assert api_client(manager).get(f"{API}/duplicates?bogus=1").status_code == 422


def test_dismiss(manager: User, make_customer: MakeCustomer) -> None:
    twins(make_customer)
    pair = DuplicatePair.objects.get()
    response = api_client(manager).post(f"{API}/duplicates/{pair.pk}/dismiss")
    assert response.status_code == 200
    assert response.json()["dismissed_at"]
    assert DuplicatePair.objects.open().count() == 0


def test_reader_cannot_dismiss(reader: User, make_customer: MakeCustomer) -> None:
    twins(make_customer)
    pair = DuplicatePair.objects.get()
    response = api_client(reader).post(f"{API}/duplicates/{pair.pk}/dismiss")
    assert response.status_code == 403
    assert response.json()["detail"]
    assert DuplicatePair.objects.open().count() == 1


def test_dismiss_unknown_or_out_of_scope_pair_is_404(
    sales: User, manager: User, make_customer: MakeCustomer
) -> None:
    twins(make_customer)
    pair = DuplicatePair.objects.get()
    assert api_client(sales).post(f"{API}/duplicates/{pair.pk}/dismiss").status_code == 404
    assert api_client(manager).post(f"{API}/duplicates/999999/dismiss").status_code == 404
    assert api_client(manager).post(f"{API}/duplicates/{2**70}/dismiss").status_code in (404, 422)


def test_live_candidates_of_a_customer(manager: User, make_customer: MakeCustomer) -> None:
    a, b = twins(make_customer)
    response = api_client(manager).get(f"{API}/customers/{a.pk}/duplicates")
    assert response.status_code == 200
    [candidate] = response.json()
    assert candidate["customer"]["id"] == b.pk
    assert candidate["reasons"] == ["email", "name"]
    assert candidate["score"] == 60


def test_live_candidates_scoped(sales: User, reader: User, make_customer: MakeCustomer) -> None:
    a, _b = twins(make_customer)
    assert api_client(sales).get(f"{API}/customers/{a.pk}/duplicates").status_code == 404
    assert api_client(reader).get(f"{API}/customers/{a.pk}/duplicates").status_code == 403


def test_merge(manager: User, make_customer: MakeCustomer) -> None:
    a, b = twins(make_customer)
    Interaction.objects.create(customer=b, channel="email", direction="inbound", subject="Hi")
    response = send(
        api_client(manager),
        "post",
        f"{API}/customers/{a.pk}/merge",
        merge_body(a, b, field_choices={"city": "duplicate"}),
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["customer"]["id"] == a.pk
    assert data["customer"]["city"] == "Lugo"
    assert data["customer"]["version"] == a.version + 1
    assert CustomerMerge.objects.get().pk == data["merge_id"]
    assert Interaction.objects.get().customer_id == a.pk
    assert not Customer.objects.filter(pk=b.pk).exists()


def test_merge_with_a_stale_version_is_409(manager: User, make_customer: MakeCustomer) -> None:
    a, b = twins(make_customer)
    body = merge_body(a, b)
    services.update_customer(manager, a, a.version, {"city": "Vigo"})
    response = send(api_client(manager), "post", f"{API}/customers/{a.pk}/merge", body)
    assert response.status_code == 409
    assert response.json()["current_version"] == a.version
    assert Customer.objects.filter(pk=b.pk).exists()


def test_sales_rep_cannot_merge_their_own(sales: User, make_customer: MakeCustomer) -> None:
    a, b = twins(make_customer, account_executive=sales)
    response = send(api_client(sales), "post", f"{API}/customers/{a.pk}/merge", merge_body(a, b))
    assert response.status_code == 403
    assert Customer.objects.filter(pk=b.pk).exists()


def test_merge_out_of_scope_is_404(sales: User, manager: User, make_customer: MakeCustomer) -> None:
    a, b = twins(make_customer)
    response = send(api_client(sales), "post", f"{API}/customers/{a.pk}/merge", merge_body(a, b))
    assert response.status_code == 404
    body = merge_body(a, b, duplicate_id=999_999)
    response = send(api_client(manager), "post", f"{API}/customers/{a.pk}/merge", body)
    assert response.status_code == 404


def test_merge_with_itself_is_422(manager: User, make_customer: MakeCustomer) -> None:
    a, _b = twins(make_customer)
    response = send(api_client(manager), "post", f"{API}/customers/{a.pk}/merge", merge_body(a, a))
    assert response.status_code == 422
    assert "duplicate_id" in response.json()["errors"]


def test_bad_field_choices_are_422(manager: User, make_customer: MakeCustomer) -> None:
    a, b = twins(make_customer)
    client = api_client(manager)
    for choices in ({"relationship_level": "duplicate"}, {"city": "both"}, {"city": 1}):
        body = merge_body(a, b, field_choices=choices)
        response = send(client, "post", f"{API}/customers/{a.pk}/merge", body)
        assert response.status_code == 422, choices
        assert response.json()["errors"]
    body = merge_body(a, b, survivor_version="1", extra=True)
    response = send(client, "post", f"{API}/customers/{a.pk}/merge", body)
    assert response.status_code == 422
    assert set(response.json()["errors"]) >= {"survivor_version", "extra"}
    assert Customer.objects.filter(pk=b.pk).exists()
