"""Whatever a client sends, Tendero answers with a 2xx or a 4xx, never a 500.

Hypothesis generates JSON bodies (right field names with wrong values, unknown
fields, odd types, huge numbers, control characters) and query strings for the
API's write and list endpoints, and form posts for the HTML pages."""

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tendero.accounts.services import create_api_token
from tendero.customers import services

CUSTOMER_FIELDS = [
    "kind",
    "display_name",
    "preferred_name",
    "tax_id",
    "external_id",
    "emails",
    "phones",
    "country",
    "language",
    "currency",
    "acquisition_source",
    "lifecycle_stage",
    "tags",
    "version",
    "account_executive_id",
]
CONTACT_FIELDS = ["first_name", "last_name", "role", "email", "phone", "is_primary", "version"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=300)
    | st.sampled_from(
        ["person", "organisation", "ES", "EUR", "es", "active", "+34612345678", "a@b.co"]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)


def bodies(fields: list[str]) -> st.SearchStrategy[Any]:
    known = st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields))
    return known | json_values


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def api(manager) -> Client:
    token = create_api_token(manager, "fuzz").raw
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=True)


@pytest.fixture
def organisation(manager):
    return services.create_customer(
        manager, {"kind": "organisation", "display_name": "Fuzz SL", "country": "ES"}
    )


@FUZZ
@given(body=bodies(CUSTOMER_FIELDS))
def test_customer_writes_never_fail_with_a_server_error(api, organisation, body):
    for method, path in (
        ("post", "/api/v1/customers"),
        ("patch", f"/api/v1/customers/{organisation.pk}"),
    ):
        response = getattr(api, method)(path, body, content_type="application/json")
        assert response.status_code < 500, response.content


@FUZZ
@given(body=bodies(CONTACT_FIELDS))
def test_contact_writes_never_fail_with_a_server_error(api, organisation, body):
    response = api.post(
        f"/api/v1/customers/{organisation.pk}/contacts", body, content_type="application/json"
    )
    assert response.status_code < 500, response.content


@FUZZ
@given(
    body=st.dictionaries(st.sampled_from(["to_level", "reason", "user_id"]), json_values)
    | json_values
)
def test_ladder_and_assignment_writes_never_fail_with_a_server_error(api, organisation, body):
    for path in ("relationship-level", "account-executive"):
        response = api.post(
            f"/api/v1/customers/{organisation.pk}/{path}", body, content_type="application/json"
        )
        assert response.status_code < 500, response.content


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "kind",
                "lifecycle_stage",
                "relationship_level",
                "account_executive",
                "tag",
                "country",
                "created_after",
                "created_before",
                "ordering",
                "limit",
                "offset",
                "page",
                "sort",
                "stage",
                "level",
                "ae",
            ]
        ),
        st.text(max_size=40) | st.integers().map(str),
        max_size=6,
    )
)
def test_list_filters_never_fail_with_a_server_error(api, manager, params):
    assert api.get("/api/v1/customers", params).status_code < 500
    page = Client(raise_request_exception=True)
    page.force_login(manager)
    assert page.get("/customers/", params).status_code < 500


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from([*CUSTOMER_FIELDS, "street", "city", "postal_code", "region"]),
        st.text(max_size=300),
        max_size=10,
    )
)
def test_customer_forms_never_fail_with_a_server_error(manager, organisation, form):
    page = Client(raise_request_exception=True)
    page.force_login(manager)
    assert page.post("/customers/new/", form).status_code < 500
    assert page.post(f"/customers/{organisation.pk}/edit/", form).status_code < 500
