"""Who may call the API: bearer tokens, or the signed-in session with CSRF."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tendero.accounts.models import ApiToken
from tendero.accounts.services import create_api_token, revoke_api_token
from tendero.customers.models import Customer

URL = "/api/v1/customers"
CSRF_TOKEN = "A" * 32


def bearer(raw: str, **kwargs: Any) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"}, **kwargs)


def create(client: Client, **headers: str) -> Any:
    return client.post(
        URL,
        data=json.dumps({"kind": "person", "display_name": "Eva"}),
        content_type="application/json",
        headers=headers,
    )


def test_no_token_is_unauthorized(db):
    response = Client().get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="tendero"'
    assert response.json()["detail"].startswith("Authentication required")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer tdr_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "tdr_no-scheme",
        "Bearer " + "x" * 5000,
    ],
)
def test_a_bad_token_is_unauthorized(reader, header):
    response = Client(headers={"Authorization": header}).get(URL)
    assert response.status_code == 401


def test_a_valid_token_authenticates_and_is_stamped(reader):
    issued = create_api_token(reader, "test")
    response = bearer(issued.raw).get(URL)
    assert response.status_code == 200
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at is not None


def test_a_revoked_token_is_unauthorized(reader):
    issued = create_api_token(reader, "test")
    revoke_api_token(reader, issued.token.pk)
    assert bearer(issued.raw).get(URL).status_code == 401


def test_an_expired_token_is_unauthorized(reader):
    issued = create_api_token(reader, "test", expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert bearer(issued.raw).get(URL).status_code == 401


def test_a_deactivated_users_token_is_unauthorized(reader):
    issued = create_api_token(reader, "test")
    reader.is_active = False
    reader.save()
    assert bearer(issued.raw).get(URL).status_code == 401


def test_a_bad_token_on_a_write_is_unauthorized_not_a_csrf_failure(manager):
    client = bearer("tdr_wrong", enforce_csrf_checks=True)
    response = create(client)
    assert response.status_code == 401
    assert not Customer.objects.exists()


def test_tokens_need_no_csrf_token(manager):
    client = bearer(create_api_token(manager, "test").raw, enforce_csrf_checks=True)
    assert create(client).status_code == 201


def test_the_session_authenticates_reads(reader):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    assert client.get(URL).status_code == 200


def test_session_writes_need_the_csrf_token(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    refused = create(client)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Customer.objects.exists()
    client.cookies["csrftoken"] = CSRF_TOKEN
    accepted = create(client, X_CSRFToken=CSRF_TOKEN)
    assert accepted.status_code == 201
    assert Customer.objects.count() == 1


def test_session_deletes_need_the_csrf_token_too(manager, make_customer):
    customer = make_customer()
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.delete(f"{URL}/{customer.pk}").status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_session_without_a_role_sees_nothing(outsider, make_customer):
    make_customer()
    client = Client()
    client.force_login(outsider)
    assert client.get(URL).json()["items"] == []


def test_the_api_document_needs_authentication(reader):
    assert Client().get("/api/v1/openapi.json").status_code == 401
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 302
    assert "next=/api/v1/docs" in docs["Location"]
    assert (
        bearer(create_api_token(reader, "test").raw).get("/api/v1/openapi.json").status_code == 200
    )
