"""The customers REST API, /api/v1/: reads scoped per role, writes through services."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tendero.conftest import api_client, send
from tendero.core import pagination
from tendero.customers import services
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    RelationshipLevel,
    Tag,
)

API = "/api/v1"


@pytest.fixture
def portfolio(make_customer, sales, other_sales):
    """Two customers of Sergio's (one an organisation) and one of Olga's."""
    return {
        "mine": make_customer(display_name="Ana Ruiz", account_executive=sales),
        "my_org": make_customer(
            kind="organisation", display_name="Bodegas Ruiz", account_executive=sales
        ),
        "theirs": make_customer(display_name="Carlos Vega", account_executive=other_sales),
    }


# Reading


def test_listing_needs_authentication(db):
    response = Client().get(f"{API}/customers")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_manager_lists_every_customer(manager, portfolio):
    response = api_client(manager).get(f"{API}/customers")
    assert response.status_code == 200
    body = response.json()
    assert [c["display_name"] for c in body["items"]] == [
        "Ana Ruiz",
        "Bodegas Ruiz",
        "Carlos Vega",
    ]
    assert body["count"] == 3
    assert body["count_is_exact"] is True
    assert body["next"] is None and body["previous"] is None


def test_sales_lists_only_their_portfolio(sales, portfolio):
    body = api_client(sales).get(f"{API}/customers").json()
    assert {c["display_name"] for c in body["items"]} == {"Ana Ruiz", "Bodegas Ruiz"}
    assert body["count"] == 2


def test_another_reps_customer_is_not_found_like_an_unknown_one(sales, portfolio):
    client = api_client(sales)
    theirs = portfolio["theirs"].pk
    for method, url, body in [
        ("get", f"{API}/customers/{theirs}", None),
        ("patch", f"{API}/customers/{theirs}", {"version": 1, "city": "Lugo"}),
        ("delete", f"{API}/customers/{theirs}", None),
        ("get", f"{API}/customers/{theirs}/contacts", None),
        ("get", f"{API}/customers/{theirs}/relationship-level/history", None),
        ("post", f"{API}/customers/{theirs}/relationship-level", {"to_level": 2, "reason": "x"}),
        ("get", f"{API}/customers/{theirs}/account-executive/history", None),
        ("get", f"{API}/customers/{theirs}/audit", None),
        ("get", f"{API}/customers/999999", None),
    ]:
        response = send(client, method, url, body)
        assert response.status_code == 404, (method, url)
        assert response.json() == {"detail": "No such customer."}
    assert Customer.objects.get(pk=theirs).city == ""


def test_outsider_sees_no_customers(outsider, portfolio):
    client = api_client(outsider)
    assert client.get(f"{API}/customers").json()["items"] == []
    assert client.get(f"{API}/customers/{portfolio['mine'].pk}").status_code == 404


def test_a_customer_shows_every_field(reader, sales, make_customer):
    customer = make_customer(
        display_name="Begoña Núñez",
        preferred_name="Bego",
        emails=["bego@example.com"],
        phones=["612 34 56 78"],
        country="es",
        currency="eur",
        tags=["VIP"],
        account_executive=sales,
    )
    response = api_client(reader).get(f"{API}/customers/{customer.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Begoña Núñez"
    assert body["emails"] == ["bego@example.com"]
    assert body["phones"] == ["+34612345678"]
    assert body["country"] == "ES"
    assert body["currency"] == "EUR"
    assert body["tags"] == ["VIP"]
    assert body["relationship_level"] == 1
    assert body["relationship_level_label"] == "Product"
    assert body["account_executive"] == {"id": sales.pk, "name": "Sergio Peña"}
    assert body["account_executive_since"] is not None
    assert body["version"] == 1
    assert body["kind"] == "person"
    assert body["lifecycle_stage"] == "prospect"


def test_customers_are_filtered(manager, sales, make_customer):
    old = make_customer(display_name="Old Firm", kind="organisation", country="PT", tags=["VIP"])
    Customer.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    make_customer(display_name="New Person", lifecycle_stage="active", account_executive=sales)
    make_customer(display_name="Another", emails=["x@example.com"])
    client = api_client(manager)

    def names(query: str) -> list[str]:
        response = client.get(f"{API}/customers?{query}")
        assert response.status_code == 200, response.json()
        return [c["display_name"] for c in response.json()["items"]]

    assert names("q=firm") == ["Old Firm"]
    assert names("q=x@example.com") == ["Another"]
    assert names("kind=organisation") == ["Old Firm"]
    assert names("lifecycle_stage=active") == ["New Person"]
    assert names(f"account_executive={sales.pk}") == ["New Person"]
    assert names("tag=vip") == ["Old Firm"]
    assert names("country=pt") == ["Old Firm"]
    assert names("relationship_level=2") == []
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert names(f"created_after={since.replace('+', '%2B')}") == ["Another", "New Person"]
    assert names(f"created_before={since.replace('+', '%2B')}") == ["Old Firm"]
    assert names("created_before=2000-01-01T00:00:00") == []


def test_customers_are_ordered_by_a_whitelisted_field(manager, make_customer):
    for name in ["Beta", "Alpha", "Gamma"]:
        make_customer(display_name=name)
    client = api_client(manager)
    names = [
        c["display_name"]
        for c in client.get(f"{API}/customers?ordering=-display_name").json()["items"]
    ]
    assert names == ["Gamma", "Beta", "Alpha"]
    names = [
        c["display_name"]
        for c in client.get(f"{API}/customers?ordering=-created_at").json()["items"]
    ]
    assert names == ["Gamma", "Alpha", "Beta"]
    response = client.get(f"{API}/customers?ordering=tax_id")
    assert response.status_code == 422
    assert "ordering" in response.json()["errors"]


def test_mistyped_filters_are_rejected_rather_than_ignored(manager, portfolio):
    response = api_client(manager).get(f"{API}/customers?lifecyle_stage=active")
    assert response.status_code == 422
    assert response.json()["errors"] == {"query": ["Unknown query parameter(s): lifecyle_stage."]}


def test_pages_link_to_each_other(manager, make_customer):
    for n in range(5):
        make_customer(display_name=f"Customer {n}")
    client = api_client(manager)
    first = client.get(f"{API}/customers?limit=2&kind=person").json()
    assert [c["display_name"] for c in first["items"]] == ["Customer 0", "Customer 1"]
    assert first["count"] == 5 and first["count_is_exact"] is True
    assert first["previous"] is None
    assert "offset=2" in first["next"] and "kind=person" in first["next"]
    second = client.get(first["next"]).json()
    assert [c["display_name"] for c in second["items"]] == ["Customer 2", "Customer 3"]
    last = client.get(second["next"]).json()
    assert [c["display_name"] for c in last["items"]] == ["Customer 4"]
    assert last["next"] is None
    assert "offset=2" in last["previous"]
    beyond = client.get(f"{API}/customers?offset=50").json()
    assert beyond["items"] == [] and beyond["count"] == 5


def test_counting_stops_at_the_limit_on_big_lists(manager, make_customer, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 3)
    for n in range(6):
        make_customer(display_name=f"Customer {n}")
    body = api_client(manager).get(f"{API}/customers?limit=2").json()
    assert body["count"] == 3
    assert body["count_is_exact"] is False
    assert body["next"] is not None


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=-1", "offset=-1", "limit=abc"])
def test_page_size_is_bounded(manager, query):
    response = api_client(manager).get(f"{API}/customers?{query}")
    assert response.status_code == 422
    assert set(response.json()["errors"]) <= {"limit", "offset"}


def test_the_page_size_limit_is_explained(manager):
    response = api_client(manager).get(f"{API}/customers?limit=500")
    assert response.json()["errors"] == {"limit": ["At most 200."]}


def test_listing_takes_a_bounded_number_of_queries(
    manager, make_customer, django_assert_max_num_queries
):
    for n in range(30):
        make_customer(
            display_name=f"Customer {n:02}",
            emails=[f"c{n}@example.com"],
            phones=["+34612345678"],
            tags=["VIP", f"T{n}"],
            account_executive=manager,
        )
    client = api_client(manager)
    client.get(f"{API}/customers?limit=1")  # warm the token's last-used stamp
    # token, permissions (2), page, count, emails, phones, tags
    with django_assert_max_num_queries(9):
        response = client.get(f"{API}/customers?limit=200")
    assert len(response.json()["items"]) == 30
    with django_assert_max_num_queries(9):
        response = client.get(f"{API}/customers?limit=10&q=customer&tag=vip")
    assert response.json()["count"] == 30


# Creating, changing, deleting


def test_manager_creates_a_customer(manager, sales):
    response = send(
        api_client(manager),
        "post",
        f"{API}/customers",
        {
            "kind": "organisation",
            "display_name": "Talleres Ruiz",
            "emails": ["info@talleres.example"],
            "phones": ["+34 612 34 56 78"],
            "country": "ES",
            "tags": ["VIP"],
            "account_executive_id": sales.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["display_name"] == "Talleres Ruiz"
    assert body["phones"] == ["+34612345678"]
    assert body["account_executive"]["id"] == sales.pk
    customer = Customer.objects.get(pk=body["id"])
    assert customer.account_executive == sales
    assert list(customer.tags.values_list("name", flat=True)) == ["VIP"]


def test_a_customer_created_by_sales_joins_their_portfolio(sales):
    response = send(
        api_client(sales), "post", f"{API}/customers", {"kind": "person", "display_name": "Eva"}
    )
    assert response.status_code == 201
    assert response.json()["account_executive"]["id"] == sales.pk


@pytest.mark.parametrize("role", ["reader", "marketer", "service_agent", "outsider"])
def test_roles_without_the_right_cannot_create(role, request):
    user = request.getfixturevalue(role)
    response = send(
        api_client(user), "post", f"{API}/customers", {"kind": "person", "display_name": "Eva"}
    )
    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Customer.objects.exists()


def test_invalid_data_is_answered_field_by_field(manager):
    response = send(
        api_client(manager),
        "post",
        f"{API}/customers",
        {"kind": "person", "display_name": "Eva", "emails": ["not-an-email"], "country": "XX"},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"emails", "country"}
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "person"}, "display_name"),
        ({"kind": "robot", "display_name": "Eva"}, "kind"),
        ({"kind": "person", "display_name": "E" * 201}, "display_name"),
        ({"kind": "person", "display_name": "Eva", "postal_code": "1" * 21}, "postal_code"),
        ({"kind": "person", "display_name": "Eva", "dispaly_name": "Eva"}, "dispaly_name"),
        ({"kind": "person", "display_name": 42}, "display_name"),
        ({"kind": "person", "display_name": "Eva", "emails": "eva@example.com"}, "emails"),
        ({"kind": "person", "display_name": "Eva", "tags": ["x"] * 11}, "tags"),
        ({"kind": "person", "display_name": "Eva\x00"}, "display_name"),
        (
            {"kind": "person", "display_name": "Eva", "account_executive_id": 10**30},
            "account_executive_id",
        ),
        (
            {"kind": "person", "display_name": "Eva", "account_executive_id": 999999},
            "account_executive_id",
        ),
    ],
)
def test_bad_input_names_the_field(manager, body, field):
    response = send(api_client(manager), "post", f"{API}/customers", body)
    assert response.status_code == 422
    assert field in response.json()["errors"], response.json()
    assert not Customer.objects.exists()


def test_too_long_text_says_how_long_it_may_be(manager):
    response = send(
        api_client(manager),
        "post",
        f"{API}/customers",
        {"kind": "person", "display_name": "E" * 201},
    )
    assert response.json()["errors"]["display_name"] == ["At most 200 characters."]


def test_unknown_fields_are_refused(manager, portfolio):
    response = send(
        api_client(manager),
        "patch",
        f"{API}/customers/{portfolio['mine'].pk}",
        {"version": 1, "citty": "Lugo"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"citty": ["Unknown field."]}


def test_a_partial_update_changes_only_what_was_sent(sales, portfolio):
    customer = portfolio["mine"]
    response = send(
        api_client(sales),
        "patch",
        f"{API}/customers/{customer.pk}",
        {"version": 1, "city": "Lugo", "phones": ["612 34 56 78"]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["city"] == "Lugo"
    assert body["phones"] == ["+34612345678"]
    assert body["display_name"] == "Ana Ruiz"
    assert body["version"] == 2
    customer.refresh_from_db()
    assert customer.city == "Lugo" and customer.version == 2


def test_an_update_must_carry_the_version(manager, portfolio):
    response = send(
        api_client(manager), "patch", f"{API}/customers/{portfolio['mine'].pk}", {"city": "Lugo"}
    )
    assert response.status_code == 422
    assert "version" in response.json()["errors"]


def test_null_does_not_blank_a_required_field(manager, portfolio):
    response = send(
        api_client(manager),
        "patch",
        f"{API}/customers/{portfolio['mine'].pk}",
        {"version": 1, "display_name": None},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "display_name": ["Leave the field out instead of sending null."]
    }
    assert Customer.objects.get(pk=portfolio["mine"].pk).display_name == "Ana Ruiz"


def test_a_body_that_is_not_a_json_object_is_explained(manager, portfolio):
    client = api_client(manager)
    url = f"{API}/customers/{portfolio['mine'].pk}"
    broken = client.generic("PATCH", url, b"{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json() == {"detail": "The body is not valid JSON."}
    listed = client.generic("PATCH", url, b"[]", content_type="application/json")
    assert listed.json() == {"detail": "The body must be a JSON object."}


def test_a_stale_version_is_a_conflict_and_overwrites_nothing(manager, service_agent, portfolio):
    customer = portfolio["mine"]
    first = send(
        api_client(manager),
        "patch",
        f"{API}/customers/{customer.pk}",
        {"version": 1, "city": "Lugo"},
    )
    assert first.status_code == 200
    second = send(
        api_client(service_agent),
        "patch",
        f"{API}/customers/{customer.pk}",
        {"version": 1, "city": "Vigo"},
    )
    assert second.status_code == 409
    assert second.json()["current_version"] == 2
    assert "detail" in second.json()
    customer.refresh_from_db()
    assert customer.city == "Lugo"
    assert customer.version == 2


@pytest.mark.parametrize("role", ["reader", "marketer"])
def test_read_only_roles_cannot_change_anything(role, request, portfolio):
    client = api_client(request.getfixturevalue(role))
    customer = portfolio["mine"]
    assert client.get(f"{API}/customers/{customer.pk}").status_code == 200
    response = send(client, "patch", f"{API}/customers/{customer.pk}", {"version": 1, "city": "X"})
    assert response.status_code == 403
    assert client.delete(f"{API}/customers/{customer.pk}").status_code == 403
    customer.refresh_from_db()
    assert customer.city == "" and customer.version == 1


def test_service_can_edit_but_not_delete(service_agent, portfolio):
    client = api_client(service_agent)
    customer = portfolio["theirs"]
    response = send(
        client, "patch", f"{API}/customers/{customer.pk}", {"version": 1, "city": "Vigo"}
    )
    assert response.status_code == 200
    assert client.delete(f"{API}/customers/{customer.pk}").status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_sales_cannot_delete_even_their_own(sales, portfolio):
    response = api_client(sales).delete(f"{API}/customers/{portfolio['mine'].pk}")
    assert response.status_code == 403
    assert Customer.objects.filter(pk=portfolio["mine"].pk).exists()


def test_manager_deletes_a_customer(manager, portfolio):
    client = api_client(manager)
    response = client.delete(f"{API}/customers/{portfolio['mine'].pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Customer.objects.filter(pk=portfolio["mine"].pk).exists()
    assert client.get(f"{API}/customers/{portfolio['mine'].pk}").status_code == 404


@pytest.mark.parametrize("customer_id", ["0", "-1", str(2**63), str(10**40)])
def test_impossible_ids_are_not_found(manager, customer_id):
    response = api_client(manager).get(f"{API}/customers/{customer_id}")
    assert response.status_code == 404


def test_an_id_that_is_not_a_number_is_refused(manager):
    assert api_client(manager).get(f"{API}/customers/abc").status_code == 422


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"null", "application/json"),
        (b"42", "application/json"),
        (b'"text"', "application/json"),
        (b"version=1&city=Lugo", "application/x-www-form-urlencoded"),
        (b'{"version": 1, "city": "\\ud800"}', "application/json"),
        (b'{"version": 1, "city": "Lu\\u0000go"}', "application/json"),
        (b'{"version": 100000000000000000000000000000, "city": "Lugo"}', "application/json"),
        (b'{"version": -1}', "application/json"),
        (b'{"version": 1.5}', "application/json"),
        (b'{"version": true}', "application/json"),
        (b'{"version": "1", "city": "Lugo"}', "application/json"),
        (b"", "application/json"),
        (b"{}", "text/plain"),
        (b'{"version": 1, "emails": {"a": 1}}', "application/json"),
        (b'{"version": 1, "emails": [null]}', "application/json"),
        (b'{"version": 1, "tags": [["nested"]]}', "application/json"),
        (b'{"version": 1, "country": "\\u00e9\\u00e9"}', "application/json"),
        (b'{"version": 1, "language": "xx-\\u00e9"}', "application/json"),
    ],
)
def test_malformed_requests_get_a_clear_client_error(manager, portfolio, body, content_type):
    customer = portfolio["mine"]
    response = api_client(manager).generic(
        "PATCH", f"{API}/customers/{customer.pk}", body, content_type=content_type
    )
    assert response.status_code in (400, 415, 422)
    assert response.json()["detail"]
    customer.refresh_from_db()
    assert customer.version == 1 and customer.city == ""


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=" + "x" * 500,
        "country=%00",
        "tag=%FF%FE",
        "account_executive=99999999999999999999999",
        "account_executive=-5",
        "offset=99999999999999999999",
        "created_after=not-a-date",
        "created_after=99999-01-01",
        "created_after=0001-01-01T00:00:00%2B05:00",
        "created_before=9999-12-31T23:59:59-05:00",
        "created_after=1e9",
        "relationship_level=9",
    ],
)
def test_malformed_filters_never_break_the_list(manager, portfolio, query):
    response = api_client(manager).get(f"{API}/customers?{query}")
    assert response.status_code in (200, 422)


# The relationship ladder


def test_sales_moves_their_customer_one_level_up(sales, portfolio):
    client = api_client(sales)
    customer = portfolio["mine"]
    response = send(
        client,
        "post",
        f"{API}/customers/{customer.pk}/relationship-level",
        {"to_level": 2, "reason": "Bought the maintenance plan"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["from_level"] == 1
    assert response.json()["to_level_label"] == "Solutions"
    assert response.json()["changed_by"]["id"] == sales.pk
    customer.refresh_from_db()
    assert customer.relationship_level == RelationshipLevel.SOLUTIONS
    history = client.get(f"{API}/customers/{customer.pk}/relationship-level/history").json()
    assert [(h["from_level"], h["to_level"]) for h in history["items"]] == [(1, 2)]
    assert history["items"][0]["reason"] == "Bought the maintenance plan"


def test_the_ladder_cannot_be_skipped(sales, portfolio):
    response = send(
        api_client(sales),
        "post",
        f"{API}/customers/{portfolio['mine'].pk}/relationship-level",
        {"to_level": 3, "reason": "Big order"},
    )
    assert response.status_code == 422
    assert "to_level" in response.json()["errors"]


def test_a_level_change_needs_a_reason(sales, portfolio):
    response = send(
        api_client(sales),
        "post",
        f"{API}/customers/{portfolio['mine'].pk}/relationship-level",
        {"to_level": 2, "reason": ""},
    )
    assert response.status_code == 422
    assert "reason" in response.json()["errors"]


def test_service_cannot_move_the_level(service_agent, portfolio):
    response = send(
        api_client(service_agent),
        "post",
        f"{API}/customers/{portfolio['mine'].pk}/relationship-level",
        {"to_level": 2, "reason": "Happy"},
    )
    assert response.status_code == 403
    assert Customer.objects.get(pk=portfolio["mine"].pk).relationship_level == 1


# Account executives


def test_manager_reassigns_and_the_history_keeps_every_period(
    manager, sales, other_sales, portfolio
):
    client = api_client(manager)
    customer = portfolio["mine"]
    response = send(
        client,
        "post",
        f"{API}/customers/{customer.pk}/account-executive",
        {"user_id": other_sales.pk, "reason": "Moved region"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["account_executive"] == {"id": other_sales.pk, "name": "Olga Ruiz"}
    history = client.get(f"{API}/customers/{customer.pk}/account-executive/history").json()
    assert [h["user"]["id"] for h in history["items"]] == [other_sales.pk, sales.pk]
    current, previous = history["items"]
    assert current["ended_at"] is None
    assert current["reason"] == "Moved region"
    assert current["assigned_by"]["id"] == manager.pk
    assert previous["ended_at"] is not None
    assert previous["tenure_days"] == 0
    # Sergio no longer sees the customer; Olga does.
    assert api_client(sales).get(f"{API}/customers/{customer.pk}").status_code == 404
    assert api_client(other_sales).get(f"{API}/customers/{customer.pk}").status_code == 200


def test_tenure_is_counted_in_days(manager, portfolio):
    customer = portfolio["mine"]
    AccountExecutiveAssignment.objects.filter(customer=customer).update(
        started_at=timezone.now() - timedelta(days=40)
    )
    history = api_client(manager).get(f"{API}/customers/{customer.pk}/account-executive/history")
    assert history.json()["items"][0]["tenure_days"] == 40


def test_a_customer_can_be_left_without_account_executive(manager, portfolio):
    customer = portfolio["mine"]
    response = send(
        api_client(manager),
        "post",
        f"{API}/customers/{customer.pk}/account-executive",
        {"user_id": None, "reason": "Dormant"},
    )
    assert response.status_code == 200
    assert response.json()["account_executive"] is None
    assert response.json()["account_executive_since"] is None
    assert AccountExecutiveAssignment.objects.get(customer=customer).ended_at is not None


def test_only_real_colleagues_become_account_executives(manager, outsider, portfolio):
    client = api_client(manager)
    url = f"{API}/customers/{portfolio['mine'].pk}/account-executive"
    unknown = send(client, "post", url, {"user_id": 999999})
    assert unknown.status_code == 422
    assert "user_id" in unknown.json()["errors"]
    no_role = send(client, "post", url, {"user_id": outsider.pk})
    assert no_role.status_code == 422
    assert send(client, "post", url, {}).status_code == 422


def test_sales_cannot_hand_over_customers(sales, other_sales, portfolio):
    response = send(
        api_client(sales),
        "post",
        f"{API}/customers/{portfolio['mine'].pk}/account-executive",
        {"user_id": other_sales.pk},
    )
    assert response.status_code == 403
    assert Customer.objects.get(pk=portfolio["mine"].pk).account_executive == sales


# Contacts


def test_sales_adds_and_lists_contacts_of_their_organisation(sales, portfolio):
    client = api_client(sales)
    org = portfolio["my_org"]
    response = send(
        client,
        "post",
        f"{API}/customers/{org.pk}/contacts",
        {
            "first_name": "Lucía",
            "last_name": "Mora",
            "email": "lucia@bodegas.example",
            "is_primary": True,
        },
    )
    assert response.status_code == 201, response.json()
    contact = response.json()
    assert contact["full_name"] == "Lucía Mora"
    assert contact["customer_id"] == org.pk
    assert contact["version"] == 1
    listed = client.get(f"{API}/customers/{org.pk}/contacts").json()
    assert [c["id"] for c in listed["items"]] == [contact["id"]]
    everywhere = client.get(f"{API}/contacts?customer_id={org.pk}").json()
    assert [c["id"] for c in everywhere["items"]] == [contact["id"]]
    assert client.get(f"{API}/contacts/{contact['id']}").json()["email"] == "lucia@bodegas.example"


def test_people_have_no_contacts(sales, portfolio):
    response = send(
        api_client(sales),
        "post",
        f"{API}/customers/{portfolio['mine'].pk}/contacts",
        {"first_name": "X"},
    )
    assert response.status_code == 422


def test_contact_input_is_validated(sales, portfolio):
    client = api_client(sales)
    url = f"{API}/customers/{portfolio['my_org'].pk}/contacts"
    response = send(client, "post", url, {"first_name": "Ana", "email": "nope"})
    assert response.status_code == 422
    assert "email" in response.json()["errors"]
    response = send(client, "post", url, {"first_name": "A" * 101, "nickname": "x"})
    assert set(response.json()["errors"]) == {"first_name", "nickname"}
    response = send(client, "post", url, {"first_name": "Ana", "is_primary": "yes"})
    assert response.json()["errors"] == {"is_primary": ["Must be true or false."]}
    assert not Contact.objects.exists()


@pytest.fixture
def contact(manager, portfolio):
    return services.create_contact(manager, portfolio["my_org"], {"first_name": "Lucía"})


def test_contacts_are_updated_with_a_version_check(service_agent, contact):
    client = api_client(service_agent)
    url = f"{API}/contacts/{contact.pk}"
    response = send(client, "patch", url, {"version": 1, "role": "Buyer"})
    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "Buyer" and response.json()["version"] == 2
    stale = send(client, "patch", url, {"version": 1, "role": "CEO"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert Contact.objects.get(pk=contact.pk).role == "Buyer"


def test_contacts_of_other_portfolios_are_not_found(other_sales, contact):
    client = api_client(other_sales)
    assert client.get(f"{API}/contacts/{contact.pk}").status_code == 404
    assert send(client, "patch", f"{API}/contacts/{contact.pk}", {"version": 1}).status_code == 404
    assert client.delete(f"{API}/contacts/{contact.pk}").status_code == 404
    assert client.get(f"{API}/contacts").json()["items"] == []
    assert client.get(f"{API}/contacts/{2**70}").status_code == 404


def test_service_cannot_remove_contacts_but_sales_can(service_agent, sales, contact):
    assert api_client(service_agent).delete(f"{API}/contacts/{contact.pk}").status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert api_client(sales).delete(f"{API}/contacts/{contact.pk}").status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_readers_cannot_add_contacts(reader, portfolio):
    response = send(
        api_client(reader),
        "post",
        f"{API}/customers/{portfolio['my_org'].pk}/contacts",
        {"first_name": "X"},
    )
    assert response.status_code == 403
    assert not Contact.objects.exists()


# Tags


def test_tags_are_listed_for_people_who_work_with_customers(reader, outsider, make_customer):
    make_customer(tags=["VIP", "Wholesale"])
    response = api_client(reader).get(f"{API}/tags")
    assert [t["name"] for t in response.json()["items"]] == ["VIP", "Wholesale"]
    assert api_client(reader).get(f"{API}/tags?q=whole").json()["count"] == 1
    assert api_client(outsider).get(f"{API}/tags").status_code == 403
    assert Tag.objects.count() == 2


# The document


def test_the_openapi_document_lists_every_endpoint(reader):
    response = api_client(reader).get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/customers": {"get", "post"},
        "/api/v1/customers/{customer_id}": {"get", "patch", "delete"},
        "/api/v1/customers/{customer_id}/relationship-level": {"post"},
        "/api/v1/customers/{customer_id}/relationship-level/history": {"get"},
        "/api/v1/customers/{customer_id}/account-executive": {"post"},
        "/api/v1/customers/{customer_id}/account-executive/history": {"get"},
        "/api/v1/customers/{customer_id}/contacts": {"get", "post"},
        "/api/v1/contacts": {"get"},
        "/api/v1/contacts/{contact_id}": {"get", "patch", "delete"},
        "/api/v1/tags": {"get"},
        "/api/v1/customers/{customer_id}/audit": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for operation in paths[path].values():
            assert operation["security"], path  # every operation needs authentication


def test_errors_speak_the_callers_language(manager, portfolio):
    response = api_client(manager).get(
        f"{API}/customers/{portfolio['theirs'].pk + 1000}", headers={"Accept-Language": "es"}
    )
    assert response.status_code == 404
    assert response.json()["detail"]


def test_the_interactive_docs_are_served(reader):
    client = Client()
    client.force_login(reader)
    assert client.get(f"{API}/docs").status_code == 200
