"""Idempotency-Key on the creating endpoints: a client that lost the answer sends the
same request again with the same key and gets the same answer, and nothing is
written twice."""

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from tendero.accounts.services import create_api_token
from tendero.conftest import api_client
from tendero.contracts.models import Purchase
from tendero.core import tasks
from tendero.core.models import IdempotencyKey
from tendero.dialogue.models import Interaction

API = "/api/v1"


def _post(client: Client, url: str, body: Any, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana", account_executive=sales)


def _endpoints(customer) -> list[tuple[str, dict[str, Any], Any]]:
    """(url, body, the rows it writes) for each endpoint that takes a key."""
    return [
        (
            f"{API}/customers/{customer.pk}/interactions",
            {"channel": "phone", "direction": "outbound", "subject": "Llamada"},
            Interaction.objects.filter(customer=customer),
        ),
        (
            f"{API}/customers/{customer.pk}/purchases",
            {"amount": "12.50"},
            Purchase.objects.filter(customer=customer),
        ),
        (
            f"{API}/purchases/batch",
            {"items": [{"customer_id": customer.pk, "amount": "3"}]},
            Purchase.objects.filter(customer=customer),
        ),
    ]


@pytest.mark.parametrize("endpoint", [0, 1, 2], ids=["interaction", "purchase", "batch"])
def test_a_replay_answers_the_same_and_writes_nothing(sales, customer, endpoint):
    url, body, rows = _endpoints(customer)[endpoint]
    client = api_client(sales)

    first = _post(client, url, body, "retry-1")
    again = _post(client, url, body, "retry-1")

    assert first.status_code in (200, 201)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert rows.count() == 1


@pytest.mark.parametrize("endpoint", [0, 1, 2], ids=["interaction", "purchase", "batch"])
def test_the_same_key_with_another_body_is_refused(sales, customer, endpoint):
    url, body, rows = _endpoints(customer)[endpoint]
    client = api_client(sales)
    _post(client, url, body, "retry-1")

    changed = json.loads(json.dumps(body).replace('"Llamada"', '"Otra"').replace('"3"', '"4"'))
    other = _post(
        client, url, {**changed, "amount": "99"} if "amount" in body else changed, "retry-1"
    )

    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert rows.count() == 1


def test_the_same_key_for_another_customer_is_refused(sales, make_customer, customer):
    second = make_customer(display_name="Berta", account_executive=sales)
    client = api_client(sales)
    _post(client, f"{API}/customers/{customer.pk}/purchases", {"amount": "1"}, "k")

    other = _post(client, f"{API}/customers/{second.pk}/purchases", {"amount": "1"}, "k")

    assert other.status_code == 422
    assert not Purchase.objects.filter(customer=second).exists()


def test_keys_belong_to_their_user(sales, manager, customer):
    url = f"{API}/customers/{customer.pk}/purchases"
    mine = _post(api_client(sales), url, {"amount": "1"}, "shared")

    theirs = _post(api_client(manager), url, {"amount": "1"}, "shared")

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert Purchase.objects.filter(customer=customer).count() == 2


def test_without_a_key_every_request_counts(sales, customer):
    url = f"{API}/customers/{customer.pk}/purchases"
    client = api_client(sales)
    _post(client, url, {"amount": "1"})
    _post(client, url, {"amount": "1"})
    assert Purchase.objects.filter(customer=customer).count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "ñandú"])
def test_a_key_must_be_1_to_255_printable_characters(sales, customer, key):
    response = _post(
        api_client(sales), f"{API}/customers/{customer.pk}/purchases", {"amount": "1"}, key
    )

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Purchase.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_a_refused_request_keeps_no_answer_and_may_be_corrected(sales, customer):
    url = f"{API}/customers/{customer.pk}/purchases"
    client = api_client(sales)

    refused = _post(client, url, {"amount": "1.001", "currency": "EUR"}, "k")
    fixed = _post(client, url, {"amount": "1", "currency": "EUR"}, "k")

    assert refused.status_code == 422
    assert fixed.status_code == 201
    assert Purchase.objects.filter(customer=customer).count() == 1


def test_keys_expire_after_a_day_and_the_nightly_purge_removes_them(sales, customer):
    url = f"{API}/customers/{customer.pk}/purchases"
    client = api_client(sales)
    _post(client, url, {"amount": "1"}, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = _post(client, url, {"amount": "1"}, "old")

    assert again.status_code == 201
    assert Purchase.objects.filter(customer=customer).count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    _post(client, url, {"amount": "2"}, "fresh")
    assert tasks.purge_expired_idempotency_keys.call_local() == {"idempotency_keys": 1}
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_the_answer_is_stored_with_the_rows(sales, customer):
    _post(api_client(sales), f"{API}/customers/{customer.pk}/purchases", {"amount": "1"}, "k")

    stored = IdempotencyKey.objects.get()
    purchase = Purchase.objects.get()
    assert (stored.user, stored.response_status) == (sales, 201)
    assert json.loads(stored.response_body)["id"] == purchase.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_write_one_row(sales, customer):
    url = f"{API}/customers/{customer.pk}/purchases"
    raw = create_api_token(sales, "test").raw
    barrier = threading.Barrier(2)
    answers: list[tuple[int, bytes]] = []

    def send() -> None:
        try:
            client = Client(headers={"Authorization": f"Bearer {raw}"})
            barrier.wait(timeout=10)
            response = _post(client, url, {"amount": "7"}, "at-once")
            answers.append((response.status_code, response.content))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Purchase.objects.filter(customer=customer).count() == 1
    assert len(answers) == 2 and answers[0] == answers[1]
    assert answers[0][0] == 201
