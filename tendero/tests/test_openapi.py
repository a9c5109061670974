"""The OpenAPI document declares every status an operation can answer, with the
error schema: a client generated from it, or a fuzzer checking it, meets no surprise."""

import json
from typing import Any

import pytest
from django.test import Client

from tendero.accounts.models import User
from tendero.api import api
from tendero.conftest import api_client

ERROR_REF = "#/components/schemas/ErrorOut"
MISSING_ID = "987654321"


@pytest.fixture
def document() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/v1/")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    fields: set[str] = set()
    for media in operation["requestBody"]["content"].values():
        schema = media["schema"]
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        fields |= set(schema.get("properties", {}))
    return fields


def _takes_json(operation: dict[str, Any]) -> bool:
    return "application/json" in operation.get("requestBody", {}).get("content", {})


def _declared(operation: dict[str, Any]) -> set[str]:
    return {str(status) for status in operation["responses"]}


def test_every_operation_declares_the_statuses_it_can_answer(document):
    missing = {}
    for method, path, operation in _operations(document):
        parameters = operation.get("parameters", [])
        expected = {"401", "403"}  # every operation needs a token or a session
        if parameters or "requestBody" in operation:
            expected.add("422")
        if "requestBody" in operation:
            expected.add("413")
        if _takes_json(operation):
            expected |= {"400", "415"}
        if "{" in path:
            expected.add("404")
        if any(p["name"] == "version" for p in parameters) or (
            "requestBody" in operation and "version" in _body_fields(document, operation)
        ):
            expected.add("409")
        if expected - _declared(operation):
            missing[f"{method.upper()} {path}"] = sorted(expected - _declared(operation))
    assert missing == {}


def test_every_error_status_answers_the_error_schema(document):
    wrong = []
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if str(status).startswith("4"):
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema != {"$ref": ERROR_REF}:
                    wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []
    assert "detail" in document["components"]["schemas"]["ErrorOut"]["properties"]


def test_the_creating_operations_declare_the_idempotency_key_header(document):
    with_header = {
        f"{method.upper()} {path}"
        for method, path, operation in _operations(document)
        if any(p["in"] == "header" and p["name"] == "Idempotency-Key"
               for p in operation.get("parameters", []))
    }  # fmt: skip
    assert with_header == {
        "POST /api/v1/customers/{customer_id}/interactions",
        "POST /api/v1/customers/{customer_id}/purchases",
        "POST /api/v1/purchases/batch",
    }


def _call(client: Client, method: str, path: str, operation: dict[str, Any], **extra: Any) -> Any:
    url = path
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", MISSING_ID)
    if _takes_json(operation):
        extra.setdefault("data", "{}")
        extra.setdefault("content_type", "application/json")
    return getattr(client, method)(url, **extra)


def test_what_each_operation_answers_is_declared(document, admin_user: User, sales: User):
    """Every operation, called for records that do not exist, with an empty body, a
    body that is not JSON or not sent as JSON, and without authentication: each
    answer is declared."""
    clients = {"nobody": Client(), "admin": api_client(admin_user), "sales": api_client(sales)}
    undeclared = []
    for method, path, operation in _operations(document):
        tries: list[tuple[str, dict[str, Any]]] = [(who, {}) for who in clients]
        if _takes_json(operation):
            tries.append(("admin", {"data": "[1", "content_type": "application/json"}))
            tries.append(("admin", {"data": json.dumps({"x": 1}), "content_type": "text/plain"}))
        for who, extra in tries:
            response = _call(clients[who], method, path, operation, **extra)
            if str(response.status_code) not in _declared(operation):
                undeclared.append(f"{method.upper()} {path} as {who}: {response.status_code}")
    assert undeclared == []


def test_the_served_document_is_the_one_declaring_them(admin_user: User):
    served = api_client(admin_user).get("/api/v1/openapi.json").json()

    responses = served["paths"]["/api/v1/purchases/{purchase_id}"]["patch"]["responses"]
    assert {"401", "403", "404", "409", "413", "415", "422"} <= set(responses)
