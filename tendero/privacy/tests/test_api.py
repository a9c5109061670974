"""A customer's audit trail over the API: who changed what, when, before and after."""

import json

from django.contrib.auth.models import Permission
from django.test import Client

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.conftest import api_client
from tendero.customers import services
from tendero.customers.models import Customer

API = "/api/v1"


def test_the_trail_shows_before_and_after_of_an_update_with_its_actor(
    manager, sales, make_customer
):
    customer = make_customer(display_name="Ana Ruiz", city="Lugo", account_executive=sales)
    response = api_client(sales).patch(
        f"{API}/customers/{customer.pk}",
        data=json.dumps({"version": 1, "city": "Vigo"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    trail = api_client(sales).get(f"{API}/customers/{customer.pk}/audit")
    assert trail.status_code == 200
    entries = trail.json()["items"]
    latest = entries[0]
    assert latest["action"] == "update"
    assert latest["object_type"] == "customer"
    assert latest["object_id"] == str(customer.pk)
    assert latest["object_repr"] == "Ana Ruiz"
    assert latest["changes"]["city"] == ["Lugo", "Vigo"]
    assert latest["actor"] == {"id": sales.pk, "name": "Sergio Peña"}
    creation = [e for e in entries if e["action"] == "create" and e["object_type"] == "customer"]
    assert creation[0]["actor"]["id"] == manager.pk
    timestamps = [e["timestamp"] for e in entries]
    assert timestamps == sorted(timestamps, reverse=True)


def test_the_trail_includes_contacts_and_deletions(manager, make_customer):
    customer = make_customer(kind="organisation", display_name="Bodegas Ruiz")
    contact = services.create_contact(manager, customer, {"first_name": "Lucía"})
    services.delete_contact(manager, contact)
    entries = api_client(manager).get(f"{API}/customers/{customer.pk}/audit").json()["items"]
    contact_actions = [e["action"] for e in entries if e["object_type"] == "contact"]
    assert contact_actions == ["delete", "create"]


def test_the_trail_is_paginated(manager, make_customer):
    customer = make_customer(display_name="Ana")
    for version, city in enumerate(["A", "B", "C", "D"], start=1):
        services.update_customer(manager, customer, version, {"city": city})
    page = api_client(manager).get(f"{API}/customers/{customer.pk}/audit?limit=2").json()
    assert len(page["items"]) == 2
    assert page["items"][0]["changes"]["city"] == ["C", "D"]
    assert page["count"] >= 5 and page["next"]


def test_another_reps_customer_trail_is_not_found(sales, other_sales, make_customer):
    customer = make_customer(account_executive=other_sales)
    response = api_client(sales).get(f"{API}/customers/{customer.pk}/audit")
    assert response.status_code == 404
    assert api_client(sales).get(f"{API}/customers/999999/audit").status_code == 404


def test_the_trail_needs_the_audit_permission(outsider, make_customer):
    customer = make_customer()
    outsider.user_permissions.add(
        Permission.objects.get(codename="view_customer"),
        Permission.objects.get(codename="view_all_customers"),
    )
    user = User.objects.get(pk=outsider.pk)
    client = api_client(user)
    assert client.get(f"{API}/customers/{customer.pk}").status_code == 200
    response = client.get(f"{API}/customers/{customer.pk}/audit")
    assert response.status_code == 403
    assert "detail" in response.json()


def test_the_trail_needs_authentication(make_customer):
    customer = make_customer()
    assert Client().get(f"{API}/customers/{customer.pk}/audit").status_code == 401


def test_a_deleted_customers_trail_is_kept_but_not_served(manager, make_customer):
    customer = make_customer()
    customer_id = customer.pk
    services.delete_customer(manager, customer)
    assert not Customer.objects.filter(pk=customer_id).exists()
    assert AuditEntry.objects.for_customer(customer_id).filter(action=2).exists()
    assert api_client(manager).get(f"{API}/customers/{customer_id}/audit").status_code == 404
