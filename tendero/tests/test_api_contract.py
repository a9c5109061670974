"""What the API says it accepts is what it accepts: nullable fields take null, dates
are ISO 8601 dates (not numbers read as timestamps), and length limits on text are
said in characters."""

from typing import Any

import pytest

from tendero.accounts.models import User
from tendero.api import api
from tendero.conftest import api_client, send

API = "/api/v1"


@pytest.fixture
def document() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/v1/")


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return schema.get("anyOf", [schema])


def _nullable(schema: dict[str, Any]) -> bool:
    return any(v.get("type") == "null" for v in _variants(schema))


# Nullable means null is accepted


@pytest.fixture
def records(admin_user: User, make_customer) -> dict[str, dict[str, Any]]:
    """One of each record that has a PATCH, as the API answers it."""
    client = api_client(admin_user)
    customer = make_customer(kind="organisation", display_name="Bodegas Ruiz")
    base = f"{API}/customers/{customer.pk}"
    created = {
        "customers": client.get(base).json(),
        "contacts": send(client, "post", f"{base}/contacts", {"first_name": "Eva"}).json(),
        "purchases": send(client, "post", f"{base}/purchases", {"amount": "5"}).json(),
        "interactions": send(
            client, "post", f"{base}/interactions",
            {"channel": "phone", "direction": "outbound", "subject": "Llamada"},
        ).json(),
        "facts": send(
            client, "post", f"{base}/facts", {"kind": "interest", "text": "Vela"}
        ).json(),
    }  # fmt: skip
    assert all("id" in record for record in created.values()), created
    return created


def test_every_nullable_field_of_a_patch_accepts_null(document, admin_user, records):
    client = api_client(admin_user)
    refused = {}
    for path, operations in document["paths"].items():
        if "patch" not in operations:
            continue
        collection = path.split("/")[3]
        schema_ref = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]
        schema = document["components"]["schemas"][schema_ref["$ref"].rsplit("/", 1)[-1]]
        for field, declared in schema["properties"].items():
            if not _nullable(declared):
                continue
            record = client.get(f"{API}/{collection}/{records[collection]['id']}").json()
            response = send(
                client,
                "patch",
                f"{API}/{collection}/{record['id']}",
                {"version": record["version"], field: None},
            )
            if response.status_code == 422 and field in response.json().get("errors", {}):
                refused[f"{collection}.{field}"] = response.json()["errors"][field]
    assert refused == {}


def test_patches_declare_nullable_only_the_fields_that_can_be_cleared(document):
    nullable = {}
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("Patch"):
            fields = {f for f, s in schema["properties"].items() if _nullable(s)}
            if fields:
                nullable[name] = fields
    assert nullable == {
        "FactPatch": {"contact_id", "related_contact_id", "date", "source_interaction_id"},
        "InteractionPatch": {"contact_id", "department_id", "follow_up_on"},
    }


def test_null_clears_an_interactions_follow_up(admin_user, records):
    client = api_client(admin_user)
    interaction = records["interactions"]
    url = f"{API}/interactions/{interaction['id']}"
    planned = send(client, "patch", url, {"version": 1, "follow_up_on": "2030-01-01"}).json()

    cleared = send(client, "patch", url, {"version": planned["version"], "follow_up_on": None})

    assert cleared.status_code == 200
    assert cleared.json()["follow_up_on"] is None


# Dates are dates


def _date_parameters(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for path, operations in document["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            formats = {str(v.get("format")) for v in _variants(parameter["schema"])}
            for fmt in formats & {"date", "date-time"}:
                found.append((path, parameter["name"], fmt))
    return found


def test_the_date_parameters_are_found(document):
    names = {(path, name) for path, name, _f in _date_parameters(document)}
    assert ("/api/v1/purchases", "until") in names
    assert ("/api/v1/voice", "until") in names
    assert ("/api/v1/customers", "created_after") in names
    assert len(names) >= 12


@pytest.mark.parametrize("value", ["0.5", "1700000000", "0", "-1"])
def test_a_number_is_not_a_date(document, admin_user, make_customer, value):
    customer = make_customer()
    client = api_client(admin_user)
    accepted = []
    for path, name, _fmt in _date_parameters(document):
        url = path.replace("{customer_id}", str(customer.pk))
        response = client.get(url, {name: value})
        errors = response.json().get("errors", {}) if response.status_code == 422 else {}
        if name not in errors:
            accepted.append(f"{path}?{name}={value}: {response.status_code}")
        elif "ISO" not in errors[name][0]:
            accepted.append(f"{path}?{name}: {errors[name]}")
    assert accepted == []


def test_iso_dates_are_still_dates(document, admin_user, make_customer):
    customer = make_customer()
    client = api_client(admin_user)
    refused = []
    for path, name, fmt in _date_parameters(document):
        url = path.replace("{customer_id}", str(customer.pk))
        for value in ["2024-03-01"] + (
            ["2024-03-01T10:30:00Z", "2024-03-01T10:30"] if fmt == "date-time" else []
        ):
            response = client.get(url, {name: value})
            if response.status_code == 422:
                refused.append(f"{path}?{name}={value}: {response.json()}")
    assert refused == []


def test_a_number_is_not_a_moment_in_a_body_either(admin_user, make_customer):
    customer = make_customer()
    response = send(
        api_client(admin_user), "post", f"{API}/customers/{customer.pk}/purchases",
        {"amount": "5", "occurred_at": 1700000000},
    )  # fmt: skip
    assert response.status_code == 422
    assert "ISO" in response.json()["errors"]["occurred_at"][0]


# Text lengths are in characters


@pytest.mark.parametrize(
    ("url", "limit"),
    [("/search", 200), ("/customers", 200), ("/tags", 50), ("/customers/export", 200)],
)
def test_the_q_length_message_says_characters(admin_user, url, limit):
    response = api_client(admin_user).get(f"{API}{url}", {"q": "a" * (limit + 1)})

    assert response.status_code == 422
    assert response.json()["errors"]["q"] == [f"At most {limit} characters."]


def test_a_patched_text_too_long_says_characters(admin_user, make_customer):
    customer = make_customer()
    response = send(
        api_client(admin_user), "patch", f"{API}/customers/{customer.pk}",
        {"version": customer.version, "display_name": "a" * 201},
    )  # fmt: skip
    assert response.json()["errors"]["display_name"] == ["At most 200 characters."]
