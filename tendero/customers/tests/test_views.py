"""The customer pages: who sees what, who may change what, and that bad input never hurts."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.customers import services
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    RelationshipLevelChange,
)

MakeCustomer = Callable[..., Customer]


def customer_form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "person",
        "display_name": "Lucía Fernández",
        "preferred_name": "Lucy",
        "tax_id": "12345678Z",
        "emails": "lucia@example.es\nlucy@example.com",
        "phones": "+34 612 345 678",
        "street": "Calle Mayor 1",
        "city": "Madrid",
        "region": "Madrid",
        "postal_code": "28013",
        "country": "ES",
        "language": "es",
        "currency": "EUR",
        "acquisition_source": "referral",
        "lifecycle_stage": "active",
        "tags": "vip, football",
    }
    data.update(overrides)
    return data


def edit_data(customer: Customer, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"display_name": customer.display_name, "version": customer.version}
    values.update(overrides)
    return customer_form_data(**values)


# ------------------------------------------------------------------ access


@pytest.mark.parametrize(
    "name",
    [
        "customers:list",
        "customers:create",
    ],
)
def test_anonymous_visitor_is_sent_to_login(client: Client, db: None, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_visitor_cannot_open_a_customer(
    client: Client, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_sales_rep_sees_only_their_portfolio_in_the_list(
    client: Client, sales: User, other_sales: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Mine Ltd", account_executive=sales)
    make_customer(display_name="Theirs Ltd", account_executive=other_sales)
    response = login(client, sales).get(reverse("customers:list"))
    assert response.status_code == 200
    assert "Mine Ltd" in response.text
    assert "Theirs Ltd" not in response.text


def test_sales_rep_cannot_open_another_reps_customer(
    client: Client, sales: User, other_sales: User, make_customer: MakeCustomer
) -> None:
    theirs = make_customer(account_executive=other_sales)
    login(client, sales)
    assert client.get(reverse("customers:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("customers:edit", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("customers:edit", args=[theirs.pk]), edit_data(theirs))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.display_name == "José Pérez"


def test_outsider_sees_no_customers(
    client: Client, outsider: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(display_name="Hidden SA")
    login(client, outsider)
    assert "Hidden SA" not in client.get(reverse("customers:list")).text
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404


def test_missing_customer_is_404(client: Client, manager: User) -> None:
    assert login(client, manager).get(reverse("customers:detail", args=[999999])).status_code == 404


# ------------------------------------------------------------------ buttons by role


def test_manager_sees_every_action_on_a_customer(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(kind="organisation")
    html = login(client, manager).get(reverse("customers:history", args=[customer.pk])).text
    assert reverse("customers:edit", args=[customer.pk]) in html
    assert reverse("customers:delete", args=[customer.pk]) in html
    assert reverse("customers:change_level", args=[customer.pk]) in html
    assert reverse("customers:assign", args=[customer.pk]) in html
    html = client.get(reverse("customers:contacts", args=[customer.pk])).text
    assert reverse("customers:contact_create", args=[customer.pk]) in html


def test_reader_sees_no_change_actions(
    client: Client, reader: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(kind="organisation")
    login(client, reader)
    html = client.get(reverse("customers:history", args=[customer.pk])).text
    html += client.get(reverse("customers:contacts", args=[customer.pk])).text
    assert reverse("customers:edit", args=[customer.pk]) not in html
    assert reverse("customers:delete", args=[customer.pk]) not in html
    assert reverse("customers:change_level", args=[customer.pk]) not in html
    assert reverse("customers:assign", args=[customer.pk]) not in html
    assert reverse("customers:contact_create", args=[customer.pk]) not in html
    assert reverse("customers:create") not in client.get(reverse("customers:list")).text


def test_sales_rep_can_edit_and_move_level_but_not_delete_or_assign(
    client: Client, sales: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(account_executive=sales)
    html = login(client, sales).get(reverse("customers:history", args=[customer.pk])).text
    assert reverse("customers:edit", args=[customer.pk]) in html
    assert reverse("customers:change_level", args=[customer.pk]) in html
    assert reverse("customers:delete", args=[customer.pk]) not in html
    assert reverse("customers:assign", args=[customer.pk]) not in html


def test_service_agent_can_edit_but_not_add_customers(
    client: Client, service_agent: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    login(client, service_agent)
    html = client.get(reverse("customers:history", args=[customer.pk])).text
    assert reverse("customers:edit", args=[customer.pk]) in html
    assert reverse("customers:change_level", args=[customer.pk]) not in html
    assert reverse("customers:create") not in client.get(reverse("customers:list")).text


# ------------------------------------------------------------------ wrong-role POSTs


def test_reader_cannot_create_a_customer(client: Client, reader: User) -> None:
    response = login(client, reader).post(reverse("customers:create"), customer_form_data())
    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_marketer_cannot_edit_a_customer(
    client: Client, marketer: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    response = login(client, marketer).post(
        reverse("customers:edit", args=[customer.pk]), edit_data(customer, display_name="Hacked")
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.display_name == "José Pérez"


def test_sales_rep_cannot_delete_their_customer(
    client: Client, sales: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(account_executive=sales)
    response = login(client, sales).post(reverse("customers:delete", args=[customer.pk]))
    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_sales_rep_cannot_assign_account_executive(
    client: Client, sales: User, other_sales: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(account_executive=sales)
    response = login(client, sales).post(
        reverse("customers:assign", args=[customer.pk]), {"user": other_sales.pk}
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.account_executive == sales


def test_service_agent_cannot_change_relationship_level(
    client: Client, service_agent: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    response = login(client, service_agent).post(
        reverse("customers:change_level", args=[customer.pk]),
        {"to_level": 2, "reason": "They asked for a solution"},
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.relationship_level == 1


def test_service_agent_cannot_delete_a_contact(
    client: Client, service_agent: User, make_customer: MakeCustomer, manager: User
) -> None:
    customer = make_customer(kind="organisation")
    contact = services.create_contact(manager, customer, {"first_name": "Ana"})
    response = login(client, service_agent).post(
        reverse("customers:contact_delete", args=[customer.pk, contact.pk])
    )
    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


# ------------------------------------------------------------------ create, edit, delete


def test_manager_creates_a_customer(client: Client, manager: User) -> None:
    response = login(client, manager).post(reverse("customers:create"), customer_form_data())
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.display_name == "Lucía Fernández"
    assert [e.address for e in customer.emails.all()] == ["lucia@example.es", "lucy@example.com"]
    assert [p.number for p in customer.phones.all()] == ["+34612345678"]
    assert sorted(t.name for t in customer.tags.all()) == ["football", "vip"]
    assert str(customer.country) == "ES"
    page = client.get(response["Location"])
    assert "Lucía Fernández was added." in page.text
    assert "+34 612 34 56 78" in page.text


def test_sales_rep_becomes_account_executive_of_the_customer_they_create(
    client: Client, sales: User
) -> None:
    login(client, sales).post(reverse("customers:create"), customer_form_data(tags=""))
    assert Customer.objects.get().account_executive == sales


def test_invalid_email_and_phone_are_shown_at_their_fields(client: Client, manager: User) -> None:
    response = login(client, manager).post(
        reverse("customers:create"),
        customer_form_data(emails="not-an-email", phones="12", display_name="Keep Me"),
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["emails"]
    assert form.errors["phones"]
    assert 'value="Keep Me"' in response.text
    assert "not-an-email" in response.text
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"display_name": "x" * 201},
        {"display_name": ""},
        {"kind": "robot"},
        {"lifecycle_stage": "zombie"},
        {"country": "XX"},
        {"currency": "XYZ"},
        {"language": "klingon"},
        {"acquisition_source": "aliens"},
        {"postal_code": "1" * 500},
        {"tags": "t" * 60},
        {"emails": "\n".join(f"a{n}@b.es" for n in range(11))},
        {"emails": "x" * 5000},
        {"emails": "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".es"},
        {"phones": "+34 612 345 678" + " " * 30 + "9"},
        {"display_name": "bad\x00name"},
    ],
)
def test_bad_customer_input_is_refused_without_error(
    client: Client, manager: User, overrides: dict[str, str]
) -> None:
    response = login(client, manager).post(
        reverse("customers:create"), customer_form_data(**overrides)
    )
    assert response.status_code in (400, 422)
    assert not Customer.objects.exists()


def test_editing_saves_changes_and_says_so(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    login(client, manager)
    form_page = client.get(reverse("customers:edit", args=[customer.pk]))
    assert form_page.status_code == 200
    assert f'name="version" value="{customer.version}"' in form_page.text
    response = client.post(
        reverse("customers:edit", args=[customer.pk]),
        edit_data(customer, display_name="José Pérez García"),
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.display_name == "José Pérez García"
    assert customer.version == 2
    assert "Changes saved." in client.get(response["Location"]).text


def test_stale_edit_answers_409_and_keeps_what_was_typed(
    client: Client, manager: User, admin_user: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    stale_version = customer.version
    services.update_customer(admin_user, customer, stale_version, {"city": "Sevilla"})
    response = login(client, manager).post(
        reverse("customers:edit", args=[customer.pk]),
        edit_data(customer, display_name="My typed name", city="Bilbao", version=stale_version),
    )
    assert response.status_code == 409
    assert "Someone else changed this" in response.text
    assert 'value="My typed name"' in response.text
    assert 'value="Bilbao"' in response.text
    customer.refresh_from_db()
    assert customer.city == "Sevilla"
    assert customer.display_name == "José Pérez"


@pytest.mark.parametrize("version", ["", "abc", "-1", "1.5"])
def test_edit_with_a_broken_version_is_refused(
    client: Client, manager: User, make_customer: MakeCustomer, version: str
) -> None:
    customer = make_customer()
    data = edit_data(customer, display_name="Changed")
    data["version"] = version
    response = login(client, manager).post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.display_name == "José Pérez"


def test_edit_without_version_is_refused(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    data = edit_data(customer)
    del data["version"]
    response = login(client, manager).post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 400


def test_manager_deletes_a_customer_after_confirming(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(display_name="Gone SL")
    login(client, manager)
    confirm = client.get(reverse("customers:delete", args=[customer.pk]))
    assert confirm.status_code == 200
    assert "Gone SL" in confirm.text
    assert Customer.objects.filter(pk=customer.pk).exists()
    response = client.post(reverse("customers:delete", args=[customer.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")
    assert not Customer.objects.filter(pk=customer.pk).exists()


# ------------------------------------------------------------------ level and account executive


def test_sales_rep_moves_the_relationship_up_with_a_reason(
    client: Client, sales: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(account_executive=sales)
    response = login(client, sales).post(
        reverse("customers:change_level", args=[customer.pk]),
        {"to_level": 2, "reason": "We documented their needs"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.relationship_level == 2
    page = client.get(reverse("customers:history", args=[customer.pk])).text
    assert "We documented their needs" in page


def test_skipping_a_level_is_refused_with_the_reason_kept(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    response = login(client, manager).post(
        reverse("customers:change_level", args=[customer.pk]),
        {"to_level": 3, "reason": "Skipping ahead"},
    )
    assert response.status_code == 422
    assert "one level at a time" in response.text
    assert "Skipping ahead" in response.text
    assert not RelationshipLevelChange.objects.exists()


@pytest.mark.parametrize("data", [{"to_level": 2}, {"to_level": "x", "reason": "r"}, {}])
def test_bad_level_change_input_is_refused(
    client: Client, manager: User, make_customer: MakeCustomer, data: dict[str, Any]
) -> None:
    customer = make_customer()
    response = login(client, manager).post(
        reverse("customers:change_level", args=[customer.pk]), data
    )
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.relationship_level == 1


def test_manager_assigns_an_account_executive(
    client: Client, manager: User, sales: User, other_sales: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(account_executive=sales)
    response = login(client, manager).post(
        reverse("customers:assign", args=[customer.pk]),
        {"user": other_sales.pk, "reason": "Sergio moved to another region"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.account_executive == other_sales
    assert AccountExecutiveAssignment.objects.filter(customer=customer).count() == 2
    page = client.get(reverse("customers:history", args=[customer.pk])).text
    assert "Sergio moved to another region" in page


def test_assigning_an_unknown_user_is_refused(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    response = login(client, manager).post(
        reverse("customers:assign", args=[customer.pk]), {"user": "999999"}
    )
    assert response.status_code == 400


# ------------------------------------------------------------------ contacts


def test_contacts_are_added_edited_and_removed(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(kind="organisation", display_name="Acme SA")
    login(client, manager)
    response = client.post(
        reverse("customers:contact_create", args=[customer.pk]),
        {"first_name": "Ana", "last_name": "Gil", "email": "ana@acme.es", "is_primary": "on"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.is_primary
    assert "Ana Gil" in client.get(reverse("customers:contacts", args=[customer.pk])).text

    edit_url = reverse("customers:contact_edit", args=[customer.pk, contact.pk])
    assert client.get(edit_url).status_code == 200
    response = client.post(
        edit_url, {"first_name": "Ana", "last_name": "Gil Ruiz", "version": contact.version}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.last_name == "Gil Ruiz"

    stale = client.post(edit_url, {"first_name": "Anita", "version": 1})
    assert stale.status_code == 409
    assert 'value="Anita"' in stale.text

    delete_url = reverse("customers:contact_delete", args=[customer.pk, contact.pk])
    assert client.get(delete_url).status_code == 200
    assert client.post(delete_url).status_code == 302
    assert not Contact.objects.exists()


def test_invalid_contact_input_is_shown_at_the_field(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(kind="organisation")
    response = login(client, manager).post(
        reverse("customers:contact_create", args=[customer.pk]),
        {"first_name": "Ana", "email": "nope", "phone": "abc"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["email"]
    assert response.context["form"].errors["phone"]
    assert not Contact.objects.exists()


def test_contact_of_another_customer_is_404(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    acme = make_customer(kind="organisation")
    other = make_customer(kind="organisation")
    contact = services.create_contact(manager, acme, {"first_name": "Ana"})
    login(client, manager)
    url = reverse("customers:contact_edit", args=[other.pk, contact.pk])
    assert client.get(url).status_code == 404


def test_sales_rep_cannot_touch_contacts_outside_their_portfolio(
    client: Client, sales: User, other_sales: User, manager: User, make_customer: MakeCustomer
) -> None:
    theirs = make_customer(kind="organisation", account_executive=other_sales)
    contact = services.create_contact(manager, theirs, {"first_name": "Ana"})
    login(client, sales)
    url = reverse("customers:contact_delete", args=[theirs.pk, contact.pk])
    assert client.post(url).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


# ------------------------------------------------------------------ list behaviour


def test_list_filters_by_text_and_kind(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Panadería Sol", kind="organisation")
    make_customer(display_name="Pedro Sol", kind="person")
    make_customer(display_name="Luna Ltd", kind="organisation")
    login(client, manager)
    html = client.get(reverse("customers:list"), {"q": "sol", "kind": "organisation"}).text
    assert "Panadería Sol" in html
    assert "Pedro Sol" not in html
    assert "Luna Ltd" not in html


def test_list_filters_by_tag_stage_level_and_account_executive(
    client: Client, manager: User, sales: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Tagged", tags=["vip"], account_executive=sales)
    make_customer(display_name="Active one", lifecycle_stage="active")
    login(client, manager)
    assert "Active one" not in client.get(reverse("customers:list"), {"tag": "vip"}).text
    assert "Tagged" in client.get(reverse("customers:list"), {"tag": "vip"}).text
    html = client.get(reverse("customers:list"), {"stage": "active"}).text
    assert "Active one" in html
    assert "Tagged" not in html
    html = client.get(reverse("customers:list"), {"ae": sales.pk, "level": 1}).text
    assert "Tagged" in html
    assert "Active one" not in html


def test_list_ignores_nonsense_filters(client: Client, manager: User) -> None:
    response = login(client, manager).get(
        reverse("customers:list"),
        {"kind": "x", "level": "abc", "ae": "zz", "tag": "nope", "sort": "evil", "page": "x"},
    )
    assert response.status_code == 200


def test_list_sorts_by_created_descending(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Aaron First")
    make_customer(display_name="Zoe Second")
    html = login(client, manager).get(reverse("customers:list"), {"sort": "-created"}).text
    assert html.index("Zoe Second") < html.index("Aaron First")


def test_htmx_filter_returns_only_the_table_fragment(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Fragment Person")
    response = login(client, manager).get(
        reverse("customers:list"), {"q": "Fragment"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Fragment Person" in response.text
    assert "<html" not in response.text
    assert '<nav class="sidebar"' not in response.text
    assert "customers/_table.html" in [t.name for t in response.templates]


def test_list_paginates_25_per_page(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    for n in range(27):
        make_customer(display_name=f"Customer {n:02d}")
    login(client, manager)
    first = client.get(reverse("customers:list"))
    assert len(first.context["customers"]) == 25
    assert first.context["has_next"]
    assert "of 27 customers" in first.text
    second = client.get(reverse("customers:list"), {"page": 2})
    assert [c.display_name for c in second.context["customers"]] == ["Customer 25", "Customer 26"]


def test_list_count_is_capped(
    client: Client, manager: User, make_customer: MakeCustomer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tendero.core import pagination
    from tendero.customers import views

    monkeypatch.setattr(pagination, "COUNT_LIMIT", 3)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    for n in range(5):
        make_customer(display_name=f"Customer {n}")
    response = login(client, manager).get(reverse("customers:list"))
    assert response.context["total_is_capped"]
    assert "of 3+ customers" in response.text


def test_empty_list_explains_the_page_and_offers_new_customer(
    client: Client, manager: User
) -> None:
    html = login(client, manager).get(reverse("customers:list")).text
    assert "No customers yet" in html
    assert reverse("customers:create") in html


def test_list_shows_primary_email_and_phone(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(emails=["first@example.es", "second@example.es"], phones=["+34612345678"])
    html = login(client, manager).get(reverse("customers:list")).text
    assert "first@example.es" in html
    assert "second@example.es" not in html
    assert "+34 612 34 56 78" in html


def test_list_runs_a_bounded_number_of_queries(
    client: Client,
    manager: User,
    make_customer: MakeCustomer,
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(30):
        make_customer(
            display_name=f"Customer {n}",
            emails=[f"c{n}@example.es"],
            phones=["+34612345678"],
            tags=["vip", f"t{n}"],
        )
    login(client, manager)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("customers:list"), {"q": "Customer", "page": "1"})
    assert response.status_code == 200


# ------------------------------------------------------------------ detail page


def test_detail_shows_history_audit_and_tenure(
    client: Client, manager: User, sales: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(
        display_name="Acme SA",
        kind="organisation",
        account_executive=sales,
        emails=["hola@acme.es"],
        phones=["+34612345678"],
    )
    services.update_customer(manager, customer, customer.version, {"city": "Valencia"})
    services.change_relationship_level(manager, customer, 2, "Needs documented")
    html = login(client, manager).get(reverse("customers:detail", args=[customer.pk])).text
    assert "Sergio Peña" in html
    assert "0 days" in html
    assert "Needs documented" in html  # on the timeline
    assert "Valencia" in html
    assert "hola@acme.es" in html
    assert "+34 612 34 56 78" in html
    html = client.get(reverse("customers:contacts", args=[customer.pk])).text
    assert "hola@acme.es" in html and "Valencia" in html
    html = client.get(reverse("customers:history", args=[customer.pk])).text
    assert "Needs documented" in html
    assert "Audit trail" in html
    assert "→" in html


def test_detail_runs_a_bounded_number_of_queries(
    client: Client,
    manager: User,
    sales: User,
    other_sales: User,
    make_customer: MakeCustomer,
    django_assert_max_num_queries: Any,
) -> None:
    customer = make_customer(kind="organisation", account_executive=sales, tags=["vip", "b"])
    for n in range(8):
        services.create_contact(manager, customer, {"first_name": f"Contact {n}"})
        services.assign_account_executive(manager, customer, other_sales if n % 2 else sales)
        services.update_customer(manager, customer, customer.version, {"city": f"City {n}"})
    for to_level in (2, 3, 2):
        customer.refresh_from_db()
        services.change_relationship_level(manager, customer, to_level, "Evidence")
    login(client, manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    with django_assert_max_num_queries(10):
        response = client.get(reverse("customers:contacts", args=[customer.pk]))
    assert response.text.count("Contact ") >= 8
    with django_assert_max_num_queries(12):
        response = client.get(reverse("customers:history", args=[customer.pk]))
    assert response.status_code == 200


def test_customer_name_with_html_is_shown_as_text(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    evil = "<script>alert(1)</script>"
    customer = make_customer(display_name=evil, preferred_name=evil, tags=["<b>x</b>"])
    login(client, manager)
    for url in (
        reverse("customers:list"),
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:history", args=[customer.pk]),
        reverse("customers:contacts", args=[customer.pk]),
        reverse("customers:knowledge", args=[customer.pk]),
        reverse("customers:edit", args=[customer.pk]),
        reverse("customers:delete", args=[customer.pk]),
    ):
        html = client.get(url).text
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>x</b>" not in html


def test_pages_carry_a_csrf_token_and_htmx_header(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    html = login(client, manager).get(reverse("customers:detail", args=[customer.pk])).text
    assert "csrfmiddlewaretoken" in html
    assert "X-CSRFToken" in html
    assert "htmx" in html


def test_spanish_speaker_sees_spanish(client: Client, manager: User) -> None:
    login(client, manager)
    response = client.post(
        reverse("accounts:set_language"), {"language": "es", "next": reverse("customers:list")}
    )
    assert response.status_code == 302
    html = client.get(reverse("customers:list")).text
    assert '<html lang="es">' in html
    assert "Clientes" in html
    assert "Nuevo cliente" in html


@pytest.mark.parametrize(
    "sort", ["name", "-kind", "stage", "-level", "ae", "-ae", "country", "-created"]
)
def test_every_column_sorts_together_with_a_search(
    client: Client, manager: User, sales: User, make_customer: MakeCustomer, sort: str
) -> None:
    make_customer(display_name="Sol Uno", emails=["uno@sol.es"], account_executive=sales)
    make_customer(display_name="Sol Dos", country="MX", tags=["vip"])
    response = login(client, manager).get(reverse("customers:list"), {"q": "sol", "sort": sort})
    assert response.status_code == 200
    assert len(response.context["customers"]) == 2


def test_each_filter_chip_removes_only_its_filter(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Sol SA", kind="organisation")
    response = login(client, manager).get(
        reverse("customers:list"), {"q": "sol", "kind": "organisation"}
    )
    queries = [chip["query"] for chip in response.context["chips"]]
    assert queries == ["kind=organisation", "q=sol"]


def test_editing_a_customer_keeps_a_language_and_currency_outside_the_usual_lists(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(language="sv", currency="SEK")
    response = login(client, manager).post(
        reverse("customers:edit", args=[customer.pk]),
        edit_data(customer, city="Malmö", language="sv", currency="SEK"),
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.city, customer.language, customer.currency) == ("Malmö", "sv", "SEK")


def test_an_overlong_email_is_reported_at_its_field(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer()
    response = login(client, manager).post(
        reverse("customers:edit", args=[customer.pk]),
        edit_data(customer, emails="a" * 250 + "@example.com"),
    )
    assert response.status_code == 422
    assert "at most 254 characters" in str(response.context["form"].errors["emails"])
