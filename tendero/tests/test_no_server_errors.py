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
PURCHASE_FIELDS = [
    "amount", "quantity", "occurred_at", "currency", "external_id", "description", "product",
    "source", "version",
]  # fmt: skip
INTERACTION_FIELDS = [
    "channel",
    "direction",
    "subject",
    "notes",
    "outcome",
    "occurred_at",
    "version",
]

# Numbers no column holds, as JSON numbers and as text: Python's decimals take them,
# and arithmetic on them raised decimal.InvalidOperation.
huge_numbers = st.sampled_from(
    [1e26, 1e25, 1.797e308, -1.797e308, 5e-324, 10**30, -(10**40)]
) | st.sampled_from(["1e26", "1e30", "1.797e308", "-1e25", "1e-1000000", "9" * 40, "1e999999"])
# Control, bidirectional, zero-width and other invisible characters inside text.
awkward_text = st.builds(
    lambda before, char, after: before + char + after,
    st.text(max_size=20),
    st.sampled_from(
        ["\u202e", "\x1b[2J", "\x07", "\r\n", "\n", "\x9b", "\u200b", "\u200d", "\u2028",
         "\uffff", "\x00", "\ud800", "\U000e0041", "\t"]
    ),
    st.text(max_size=20),
)  # fmt: skip
# A form post is UTF-8: a lone surrogate cannot even be sent.
awkward_form_text = awkward_text.map(lambda text: text.replace("\ud800", "\ufffe"))

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=300)
    | huge_numbers
    | awkward_text
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
        st.text(max_size=300) | awkward_form_text,
        max_size=10,
    )
)
def test_customer_forms_never_fail_with_a_server_error(manager, organisation, form):
    page = Client(raise_request_exception=True)
    page.force_login(manager)
    assert page.post("/customers/new/", form).status_code < 500
    assert page.post(f"/customers/{organisation.pk}/edit/", form).status_code < 500


@pytest.fixture
def purchase(manager, organisation):
    from tendero.contracts.services import record_purchase

    return record_purchase(manager, organisation, {"amount": "10", "occurred_at": "2024-05-01"})


numbers = huge_numbers | scalars
purchase_bodies = st.fixed_dictionaries(
    {"amount": numbers},
    optional={
        "quantity": numbers,
        "version": st.just(1) | scalars,
        "description": awkward_text | scalars,
        "product": awkward_text,
        "external_id": awkward_text,
    },
) | bodies(PURCHASE_FIELDS)


@FUZZ
@given(body=purchase_bodies)
def test_purchase_writes_never_fail_with_a_server_error(api, organisation, purchase, body):
    item = {"customer_id": organisation.pk, **body} if isinstance(body, dict) else body
    for method, path, sent in (
        ("post", f"/api/v1/customers/{organisation.pk}/purchases", body),
        ("patch", f"/api/v1/purchases/{purchase.pk}", body),
        ("post", "/api/v1/purchases/batch", {"items": [item]}),
    ):
        response = getattr(api, method)(path, sent, content_type="application/json")
        assert response.status_code < 500, response.content


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(PURCHASE_FIELDS), huge_numbers.map(str) | awkward_form_text, max_size=6
    )
)
def test_purchase_forms_never_fail_with_a_server_error(manager, organisation, form):
    page = Client(raise_request_exception=True)
    page.force_login(manager)
    assert page.post(f"/customers/{organisation.pk}/purchases/", form).status_code < 500


@FUZZ
@given(body=bodies(INTERACTION_FIELDS))
def test_interaction_writes_never_fail_with_a_server_error(api, organisation, body):
    response = api.post(
        f"/api/v1/customers/{organisation.pk}/interactions", body, content_type="application/json"
    )
    assert response.status_code < 500, response.content
