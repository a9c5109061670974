"""The dialogue REST API: interactions, the customer's voice, going quiet, contact
rhythms and departments; 401/403/404/409/422, never 500."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tendero.conftest import api_client, send
from tendero.customers.models import Customer
from tendero.dialogue import services
from tendero.dialogue.models import Interaction
from tendero.organization.models import Department

API = "/api/v1"
CALL = {"channel": "phone", "direction": "inbound", "subject": "Asked about delivery"}


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana Ruiz", account_executive=sales)


@pytest.fixture
def theirs(make_customer, other_sales):
    return make_customer(display_name="Carlos Vega", account_executive=other_sales)


@pytest.fixture
def interaction(sales, customer):
    return services.record_interaction(
        sales, customer, {**CALL, "voice": "complaint", "follow_up_on": timezone.localdate()}
    )


# Authentication and scope


def test_everything_needs_authentication(customer, interaction):
    client = Client()
    for method, url in [
        ("get", f"{API}/customers/{customer.pk}/interactions"),
        ("post", f"{API}/customers/{customer.pk}/interactions"),
        ("get", f"{API}/interactions/{interaction.pk}"),
        ("get", f"{API}/voice"),
        ("get", f"{API}/going-quiet"),
        ("get", f"{API}/departments"),
        ("put", f"{API}/customers/{customer.pk}/contact-rhythm"),
    ]:
        body: dict[str, Any] | None = None if method == "get" else {}
        assert send(client, method, url, body).status_code == 401, url


def test_another_reps_customer_and_interactions_are_not_found(other_sales, customer, interaction):
    client = api_client(other_sales)
    assert client.get(f"{API}/customers/{customer.pk}/interactions").status_code == 404
    assert (
        send(client, "post", f"{API}/customers/{customer.pk}/interactions", CALL).status_code == 404
    )
    assert client.get(f"{API}/interactions/{interaction.pk}").status_code == 404
    patch = {"version": 1, "subject": "x"}
    assert send(client, "patch", f"{API}/interactions/{interaction.pk}", patch).status_code == 404
    assert client.delete(f"{API}/interactions/{interaction.pk}").status_code == 404
    url = f"{API}/interactions/{interaction.pk}/complete-follow-up"
    assert client.post(url).status_code == 404
    rhythm = {"days": 10, "version": 1}
    assert (
        send(client, "put", f"{API}/customers/{customer.pk}/contact-rhythm", rhythm).status_code
        == 404
    )
    assert client.get(f"{API}/interactions/{2**70}").status_code in (404, 422)


def test_outsider_may_not_read(outsider, customer):
    client = api_client(outsider)
    assert client.get(f"{API}/voice").status_code == 403
    assert client.get(f"{API}/departments").status_code == 403
    assert client.get(f"{API}/customers/{customer.pk}/interactions").status_code in (403, 404)


# Interactions


def test_logging_an_interaction(sales, customer):
    care = Department.objects.create(code="care", name="Care")
    body = {**CALL, "notes": "By Friday", "department_id": care.pk, "sentiment": "neutral"}
    response = send(api_client(sales), "post", f"{API}/customers/{customer.pk}/interactions", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["subject"] == "Asked about delivery"
    assert out["department"] == {"id": care.pk, "name": "Care"}
    assert out["handled_by"]["id"] == sales.pk
    assert out["customer"] == {"id": customer.pk, "display_name": "Ana Ruiz"}
    assert out["version"] == 1
    customer.refresh_from_db()
    assert customer.last_interaction_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CALL, "direction": "outbound", "voice": "idea"}, "voice"),
        ({**CALL, "channel": "pigeon"}, "channel"),
        ({**CALL, "subject": ""}, "subject"),
        ({**CALL, "subject": "x" * 201}, "subject"),
        ({**CALL, "mood": "happy"}, "mood"),
        ({**CALL, "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({**CALL, "contact_id": "7"}, "contact_id"),
        ({**CALL, "department_id": 999}, "department_id"),
        ({"channel": "phone"}, "direction"),
        ({**CALL, "notes": "a\x00b"}, "notes"),
    ],
)
def test_bad_input_is_422_with_the_field(sales, customer, body, field):
    response = send(api_client(sales), "post", f"{API}/customers/{customer.pk}/interactions", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Interaction.objects.exists()


def test_malformed_bodies_are_4xx(sales, customer):
    client = api_client(sales)
    url = f"{API}/customers/{customer.pk}/interactions"
    response = client.post(url, data="not json", content_type="application/json")
    assert response.status_code == 400
    assert send(client, "post", url, [1, 2]).status_code == 400


def test_reader_cannot_write(reader, customer, interaction):
    client = api_client(reader)
    assert (
        send(client, "post", f"{API}/customers/{customer.pk}/interactions", CALL).status_code == 403
    )
    patch = {"version": 1, "subject": "x"}
    assert send(client, "patch", f"{API}/interactions/{interaction.pk}", patch).status_code == 403
    assert client.delete(f"{API}/interactions/{interaction.pk}").status_code == 403
    assert client.get(f"{API}/interactions/{interaction.pk}").status_code == 200


def test_listing_and_filtering_a_customers_interactions(sales, customer, interaction):
    services.record_interaction(
        sales, customer, {**CALL, "subject": "Sent the quote", "direction": "outbound"}
    )
    client = api_client(sales)
    url = f"{API}/customers/{customer.pk}/interactions"
    body = client.get(url).json()
    assert [i["subject"] for i in body["items"]] == ["Sent the quote", "Asked about delivery"]
    assert body["count"] == 2
    assert [i["subject"] for i in client.get(url, {"voice_only": "true"}).json()["items"]] == [
        "Asked about delivery"
    ]
    assert client.get(url, {"direction": "outbound"}).json()["count"] == 1
    assert client.get(url, {"voice": "idea"}).json()["count"] == 0
    assert client.get(url, {"channel": "email"}).json()["count"] == 0
    since = (timezone.now() + timedelta(minutes=10)).isoformat()
    assert client.get(url, {"since": since}).json()["count"] == 0
    assert client.get(url, {"limit": 1}).json()["next"] is not None
    assert client.get(url, {"colour": "red"}).status_code == 422
    assert client.get(url, {"channel": "pigeon"}).status_code == 422


def test_patch_with_version(sales, interaction):
    client = api_client(sales)
    url = f"{API}/interactions/{interaction.pk}"
    response = send(client, "patch", url, {"version": 1, "subject": "Delivery moved"})
    assert response.status_code == 200
    assert response.json()["version"] == 2
    stale = send(client, "patch", url, {"version": 1, "subject": "Mine"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert send(client, "patch", url, {"version": 2, "subject": None}).status_code == 422
    assert send(client, "patch", url, {"subject": "no version"}).status_code == 422
    cleared = send(client, "patch", url, {"version": 2, "follow_up_on": "", "department_id": 0})
    assert cleared.status_code == 200
    assert cleared.json()["follow_up_on"] is None


def test_delete_needs_the_right(sales, manager, interaction):
    url = f"{API}/interactions/{interaction.pk}"
    assert api_client(sales).delete(url).status_code == 403
    assert api_client(manager).delete(url).status_code == 204
    assert not Interaction.objects.exists()


def test_complete_follow_up(sales, customer, interaction):
    url = f"{API}/interactions/{interaction.pk}/complete-follow-up"
    response = api_client(sales).post(url)
    assert response.status_code == 200
    assert response.json()["follow_up_done_at"] is not None
    plain = services.record_interaction(sales, customer, CALL)
    url = f"{API}/interactions/{plain.pk}/complete-follow-up"
    assert api_client(sales).post(url).status_code == 422


# Across customers


def test_voice_is_scoped_and_filtered(sales, other_sales, manager, customer, theirs, interaction):
    services.record_interaction(other_sales, theirs, {**CALL, "voice": "idea", "channel": "email"})
    assert [i["customer"]["id"] for i in api_client(sales).get(f"{API}/voice").json()["items"]] == [
        customer.pk
    ]
    client = api_client(manager)
    assert client.get(f"{API}/voice").json()["count"] == 2
    assert client.get(f"{API}/voice", {"voice": "idea"}).json()["count"] == 1
    assert client.get(f"{API}/voice", {"channel": "phone"}).json()["count"] == 1
    today = timezone.localdate().isoformat()
    assert client.get(f"{API}/voice", {"since": today, "until": today}).json()["count"] == 2
    assert client.get(f"{API}/voice", {"sentiment": "happy"}).status_code == 422


def test_going_quiet(sales, manager, other_sales, customer, theirs):
    today = timezone.localdate()
    for who, days in ((customer, 3), (theirs, 8)):
        Customer.objects.filter(pk=who.pk).update(
            contact_rhythm_days=30, next_contact_due=today - timedelta(days=days)
        )
    mine = api_client(sales).get(f"{API}/going-quiet").json()
    assert [(c["display_name"], c["days_overdue"]) for c in mine["items"]] == [("Ana Ruiz", 3)]
    client = api_client(manager)
    assert client.get(f"{API}/going-quiet").json()["count"] == 2
    olgas = client.get(f"{API}/going-quiet", {"account_executive_id": other_sales.pk}).json()
    assert [c["display_name"] for c in olgas["items"]] == ["Carlos Vega"]


def test_setting_a_contact_rhythm(sales, reader, customer):
    url = f"{API}/customers/{customer.pk}/contact-rhythm"
    response = send(api_client(sales), "put", url, {"days": 14, "version": customer.version})
    assert response.status_code == 200
    assert response.json()["contact_rhythm_days"] == 14
    assert response.json()["contact_rhythm_learned"] is False
    stale = send(api_client(sales), "put", url, {"days": 10, "version": customer.version})
    assert stale.status_code == 409
    learn = send(api_client(sales), "put", url, {"days": None, "version": customer.version + 1})
    assert learn.status_code == 200
    assert learn.json()["contact_rhythm_learned"] is True
    for bad in ({"days": 0, "version": 3}, {"days": "7", "version": 3}, {"version": 3}):
        assert send(api_client(sales), "put", url, bad).status_code == 422
    assert send(api_client(reader), "put", url, {"days": 5, "version": 3}).status_code == 403


def test_departments_lists_active_ones(reader):
    Department.objects.create(code="care", name="Care")
    Department.objects.create(code="old", name="Old", is_active=False)
    response = api_client(reader).get(f"{API}/departments")
    assert response.status_code == 200
    assert [d["code"] for d in response.json()] == ["care"]
