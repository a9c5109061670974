"""The personal knowledge API: facts, relations and important dates, scoped per
reader, writes through the knowledge services."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import api_client, send
from tendero.customers import services
from tendero.customers.models import Customer
from tendero.knowledge.models import PersonalFact
from tendero.knowledge.services import record_fact, retire_fact

API = "/api/v1"
MakeCustomer = Callable[..., Customer]


@pytest.fixture
def customer(make_customer: MakeCustomer, sales: User) -> Customer:
    return make_customer(display_name="José Pérez", account_executive=sales)


@pytest.fixture
def company(make_customer: MakeCustomer, sales: User) -> Customer:
    return make_customer(kind="organisation", display_name="Bodegas Ruiz", account_executive=sales)


def test_facts_need_authentication(customer: Customer) -> None:
    response = Client().get(f"{API}/customers/{customer.pk}/facts")
    assert response.status_code == 401


def test_create_list_show_a_fact(sales: User, customer: Customer) -> None:
    client = api_client(sales)
    response = send(
        client,
        "post",
        f"{API}/customers/{customer.pk}/facts",
        {
            "kind": "family_member",
            "relation": "child",
            "related_name": "Lucía",
            "date": "2012-03-14",
            "recurs_yearly": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["relation_label"] == "Child"
    assert body["kind_label"] == "Family member"
    assert body["learned_by"]["id"] == sales.pk
    assert body["contact"] is None
    assert body["year_known"] is True
    assert body["version"] == 1
    listed = client.get(f"{API}/customers/{customer.pk}/facts").json()
    assert listed["count"] == 1
    assert [f["id"] for f in listed["items"]] == [body["id"]]
    shown = client.get(f"{API}/facts/{body['id']}")
    assert shown.status_code == 200
    assert shown.json()["related_name"] == "Lucía"


def test_list_filters_by_kind_contact_and_retired(
    sales: User, manager: User, company: Customer
) -> None:
    ana = services.create_contact(manager, company, {"first_name": "Ana"})
    record_fact(sales, company, {"kind": "interest", "text": "Wine"})
    about_ana = record_fact(sales, company, {"kind": "note", "text": "Tea", "contact_id": ana.pk})
    old = record_fact(sales, company, {"kind": "interest", "text": "Golf"})
    retire_fact(sales, old, "", 1)
    client = api_client(sales)
    url = f"{API}/customers/{company.pk}/facts"
    assert {f["text"] for f in client.get(url).json()["items"]} == {"Wine", "Tea"}
    assert {f["text"] for f in client.get(f"{url}?include_retired=true").json()["items"]} == {
        "Wine",
        "Tea",
        "Golf",
    }
    assert [f["text"] for f in client.get(f"{url}?kind=interest").json()["items"]] == ["Wine"]
    items = client.get(f"{url}?contact_id={ana.pk}").json()["items"]
    assert [f["id"] for f in items] == [about_ana.pk]
    assert items[0]["contact"] == {"id": ana.pk, "name": "Ana"}
    assert client.get(f"{url}?kind=hobby").status_code == 422
    assert client.get(f"{url}?colour=red").status_code == 422


def test_list_is_paginated(sales: User, customer: Customer) -> None:
    for i in range(3):
        record_fact(sales, customer, {"kind": "note", "text": f"Note {i}"})
    body = api_client(sales).get(f"{API}/customers/{customer.pk}/facts?limit=2").json()
    assert len(body["items"]) == 2
    assert body["count"] == 3
    assert body["next"] is not None and "offset=2" in body["next"]


def test_patch_corrects_with_the_version_and_409_when_stale(
    sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "preference", "text": "Calls after 5"})
    client = api_client(sales)
    url = f"{API}/facts/{fact.pk}"
    response = send(client, "patch", url, {"version": 1, "text": "Calls after 6"})
    assert response.status_code == 200, response.content
    assert response.json()["text"] == "Calls after 6"
    assert response.json()["version"] == 2
    stale = send(client, "patch", url, {"version": 1, "text": "Emails"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert PersonalFact.objects.get().text == "Calls after 6"


def test_patch_may_clear_the_date_but_not_null_the_text(sales: User, customer: Customer) -> None:
    fact = record_fact(
        sales, customer, {"kind": "note", "text": "Anniversary", "date": "2001-05-05"}
    )
    client = api_client(sales)
    url = f"{API}/facts/{fact.pk}"
    assert send(client, "patch", url, {"version": 1, "date": None}).json()["date"] is None
    response = send(client, "patch", url, {"version": 2, "text": None})
    assert response.status_code == 422
    assert "text" in response.json()["errors"]


def test_retire_and_retiring_twice(sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "dislike", "text": "Cold calls"})
    client = api_client(sales)
    url = f"{API}/facts/{fact.pk}/retire"
    response = send(client, "post", url, {"reason": "Fine now", "version": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["is_current"] is False
    assert body["retired_reason"] == "Fine now"
    assert body["retired_by"]["id"] == sales.pk
    again = send(client, "post", url, {"reason": "", "version": 2})
    assert again.status_code == 422
    assert "already retired" in again.json()["detail"]
    assert send(client, "post", url, {"version": 2, "why": "x"}).status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "interest"}, "text"),
        ({"kind": "family_member", "related_name": "Ana"}, "relation"),
        ({"kind": "family_member", "relation": "manager", "related_name": "Ana"}, "relation"),
        ({"kind": "interest", "text": "x" * 501}, "text"),
        ({"kind": "interest", "text": "nul\u0000"}, "text"),
        ({"kind": "interest", "text": "x", "colour": "red"}, "colour"),
        ({"kind": "interest", "text": "x", "contact_id": "1"}, "contact_id"),
        ({"kind": "interest", "text": "x", "recurs_yearly": "yes"}, "recurs_yearly"),
        ({"kind": "interest", "text": "x", "date": "14/03/2012"}, "date"),
        ({"kind": "interest", "text": "x", "contact_id": 999999}, "contact_id"),
        ({"text": "x"}, "kind"),
    ],
)
def test_bad_input_is_422_with_the_field(
    sales: User, customer: Customer, body: dict[str, Any], field: str
) -> None:
    response = send(api_client(sales), "post", f"{API}/customers/{customer.pk}/facts", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not PersonalFact.objects.exists()


def test_learned_in_the_future_is_refused(sales: User, customer: Customer) -> None:
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    response = send(
        api_client(sales),
        "post",
        f"{API}/customers/{customer.pk}/facts",
        {"kind": "note", "text": "x", "learned_at": tomorrow},
    )
    assert response.status_code == 422
    assert "learned_at" in response.json()["errors"]


def test_reader_can_read_but_not_write(reader: User, sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "note", "text": "x"})
    client = api_client(reader)
    assert client.get(f"{API}/customers/{customer.pk}/facts").status_code == 200
    assert client.get(f"{API}/facts/{fact.pk}").status_code == 200
    created = send(
        client, "post", f"{API}/customers/{customer.pk}/facts", {"kind": "note", "text": "y"}
    )
    assert created.status_code == 403
    assert (
        send(client, "patch", f"{API}/facts/{fact.pk}", {"version": 1, "text": "z"}).status_code
        == 403
    )
    retired = send(client, "post", f"{API}/facts/{fact.pk}/retire", {"version": 1})
    assert retired.status_code == 403
    assert PersonalFact.objects.get().text == "x"


def test_other_reps_customers_and_facts_are_not_found(
    other_sales: User, sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "note", "text": "x"})
    client = api_client(other_sales)
    for url in (
        f"{API}/customers/{customer.pk}/facts",
        f"{API}/customers/{customer.pk}/relations",
        f"{API}/customers/{customer.pk}/important-dates",
        f"{API}/facts/{fact.pk}",
        f"{API}/facts/999999",
        f"{API}/facts/{2**70}",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        send(client, "patch", f"{API}/facts/{fact.pk}", {"version": 1, "text": "z"}).status_code
        == 404
    )
    assert send(client, "post", f"{API}/facts/{fact.pk}/retire", {"version": 1}).status_code == 404
    created = send(
        client, "post", f"{API}/customers/{customer.pk}/facts", {"kind": "note", "text": "y"}
    )
    assert created.status_code == 404


def test_outsider_without_role_sees_nothing(
    outsider: User, sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "note", "text": "x"})
    client = api_client(outsider)
    assert client.get(f"{API}/facts/{fact.pk}").status_code == 404
    assert client.get(f"{API}/customers/{customer.pk}/facts").status_code == 404


def test_relations_list_family_and_relations_with_labels(
    sales: User, manager: User, company: Customer
) -> None:
    pilar = services.create_contact(manager, company, {"first_name": "Pilar", "last_name": "Sanz"})
    record_fact(
        sales,
        company,
        {
            "kind": "relation",
            "relation": "assistant",
            "related_name": "Pilar",
            "related_contact_id": pilar.pk,
        },
    )
    record_fact(sales, company, {"kind": "interest", "text": "Wine"})
    body = api_client(sales).get(f"{API}/customers/{company.pk}/relations").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["relation_label"] == "Assistant"
    assert item["related_contact"] == {"id": pilar.pk, "name": "Pilar Sanz"}


def test_important_dates_coming_up(sales: User, customer: Customer) -> None:
    today = timezone.localdate()
    soon = today + timedelta(days=3)
    record_fact(
        sales,
        customer,
        {
            "kind": "family_member",
            "relation": "spouse",
            "related_name": "Marta",
            "date": soon.replace(year=soon.year - 40),
            "recurs_yearly": True,
        },
    )
    record_fact(
        sales,
        customer,
        {"kind": "important_date", "text": "Far away", "date": today + timedelta(days=60)},
    )
    client = api_client(sales)
    found = client.get(f"{API}/customers/{customer.pk}/important-dates").json()
    assert len(found) == 1
    assert found[0]["on"] == soon.isoformat()
    assert found[0]["days_away"] == 3
    assert found[0]["fact"]["related_name"] == "Marta"
    longer = client.get(f"{API}/customers/{customer.pk}/important-dates?days=90").json()
    assert [d["fact"]["text"] for d in longer] == ["", "Far away"]
    assert client.get(f"{API}/customers/{customer.pk}/important-dates?days=999").status_code == 422


def test_list_queries_do_not_grow_with_facts(
    sales: User, manager: User, company: Customer, django_assert_max_num_queries: Any
) -> None:
    ana = services.create_contact(manager, company, {"first_name": "Ana"})
    for i in range(20):
        record_fact(
            sales,
            company,
            {
                "kind": "relation",
                "relation": "colleague",
                "related_name": f"P{i}",
                "contact_id": ana.pk,
                "date": date(1990, 1 + i % 12, 1),
                "recurs_yearly": True,
            },
        )
    client = api_client(sales)
    for url in (
        f"{API}/customers/{company.pk}/facts?limit=50&include_retired=true",
        f"{API}/customers/{company.pk}/relations?limit=50",
        f"{API}/customers/{company.pk}/important-dates?days=366",
    ):
        with django_assert_max_num_queries(8):
            response = client.get(url)
        assert response.status_code == 200


def test_facts_are_in_the_openapi_document(sales: User) -> None:
    paths = api_client(sales).get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "/api/v1/customers/{customer_id}/facts",
        "/api/v1/facts/{fact_id}",
        "/api/v1/facts/{fact_id}/retire",
        "/api/v1/customers/{customer_id}/relations",
        "/api/v1/customers/{customer_id}/important-dates",
    ):
        assert path in paths
