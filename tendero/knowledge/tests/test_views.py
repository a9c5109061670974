"""The personal knowledge panel and its htmx forms: fragments, the timeline trigger,
escaping, who may do what, and a bounded number of queries."""

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.customers import services
from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import PersonalFact
from tendero.knowledge.services import record_fact, retire_fact

MakeCustomer = Callable[..., Customer]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def customer(make_customer: MakeCustomer, sales: User) -> Customer:
    return make_customer(display_name="José Pérez", account_executive=sales)


@pytest.fixture
def company(make_customer: MakeCustomer, sales: User) -> Customer:
    return make_customer(kind="organisation", display_name="Bodegas Ruiz", account_executive=sales)


def panel_url(customer: Customer) -> str:
    return reverse("knowledge:panel", args=[customer.pk])


def add_url(customer: Customer) -> str:
    return reverse("knowledge:add", args=[customer.pk])


def fact_url(name: str, fact: PersonalFact) -> str:
    return reverse(f"knowledge:{name}", args=[fact.customer_id, fact.pk])


def daughter(by: User, customer: Customer, **extra: Any) -> PersonalFact:
    data = {
        "kind": "family_member",
        "relation": "child",
        "related_name": "Lucía",
        "date": date(2012, 3, 14),
        "recurs_yearly": True,
        **extra,
    }
    return record_fact(by, customer, data)


# ---------------------------------------------------------------- the panel


def test_anonymous_visitor_is_sent_to_login(client: Client, customer: Customer) -> None:
    response = client.get(panel_url(customer))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_panel_shows_family_as_relation_name_and_birthday(
    client: Client, sales: User, customer: Customer
) -> None:
    daughter(sales, customer)
    record_fact(sales, customer, {"kind": "interest", "text": "Supports Real Betis"})
    response = login(client, sales).get(panel_url(customer), headers=HTMX)
    assert response.status_code == 200
    assert response.templates[0].name == "knowledge/_panel.html"
    html = response.content.decode()
    assert "<html" not in html
    assert "Child:</span> <strong>Lucía</strong>" in html
    assert "birthday March 14, 2012" in html
    assert "Supports Real Betis" in html
    assert "Family and relations" in html
    assert 'id="knowledge-add-' in html  # the add form, at the top


def test_panel_without_htmx_is_a_full_page(client: Client, sales: User, customer: Customer) -> None:
    record_fact(sales, customer, {"kind": "interest", "text": "Golf"})
    response = login(client, sales).get(panel_url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "Golf" in html


def test_facts_are_grouped_by_person(
    client: Client, sales: User, manager: User, company: Customer
) -> None:
    ana = services.create_contact(manager, company, {"first_name": "Ana", "last_name": "Gil"})
    record_fact(sales, company, {"kind": "interest", "text": "Wine fairs"})
    record_fact(sales, company, {"kind": "preference", "text": "Green tea", "contact_id": ana.pk})
    html = login(client, sales).get(panel_url(company), headers=HTMX).content.decode()
    groups = html[html.index('class="knowledge-person"') :]
    assert groups.index("Bodegas Ruiz") < groups.index("Wine fairs") < groups.index("Ana Gil")
    assert groups.index("Ana Gil") < groups.index("Green tea")


def test_fact_text_is_escaped(client: Client, sales: User, customer: Customer) -> None:
    record_fact(sales, customer, {"kind": "note", "text": "<script>alert(1)</script>"})
    html = login(client, sales).get(panel_url(customer), headers=HTMX).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_retired_facts_show_only_when_asked(
    client: Client, sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "dislike", "text": "Cold calls"})
    retire_fact(sales, fact, "Now fine with them", fact.version)
    login(client, sales)
    assert "Cold calls" not in client.get(panel_url(customer), headers=HTMX).content.decode()
    html = client.get(panel_url(customer) + "?retired=1", headers=HTMX).content.decode()
    assert "Cold calls" in html and "Now fine with them" in html


def test_other_sales_rep_gets_404(
    client: Client, sales: User, other_sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "note", "text": "x"})
    login(client, other_sales)
    assert client.get(panel_url(customer)).status_code == 404
    assert client.post(add_url(customer), {"kind": "note", "text": "x"}).status_code == 404
    assert client.get(fact_url("edit", fact)).status_code == 404
    assert client.post(fact_url("retire", fact), {"version": 1}).status_code == 404
    assert PersonalFact.objects.count() == 1


def test_a_fact_of_another_customer_is_404(
    client: Client, sales: User, customer: Customer, company: Customer
) -> None:
    fact = record_fact(sales, company, {"kind": "note", "text": "x"})
    url = reverse("knowledge:edit", args=[customer.pk, fact.pk])
    assert login(client, sales).get(url).status_code == 404


def test_panel_queries_do_not_grow_with_facts(
    client: Client,
    sales: User,
    manager: User,
    company: Customer,
    django_assert_max_num_queries: Any,
) -> None:
    contacts = [
        services.create_contact(manager, company, {"first_name": f"Person {i}"}) for i in range(3)
    ]
    call = Interaction.objects.create(
        customer=company, channel="phone", direction="inbound", subject="Call"
    )
    for i in range(30):
        record_fact(
            sales,
            company,
            {
                "kind": "family_member",
                "relation": "child",
                "related_name": f"Kid {i}",
                "date": date(2010, 1 + i % 12, 1 + i % 28),
                "recurs_yearly": True,
                "contact_id": contacts[i % 3].pk,
                "related_contact_id": contacts[(i + 1) % 3].pk,
                "source_interaction_id": call.pk,
            },
        )
    login(client, sales)
    with django_assert_max_num_queries(10):
        response = client.get(panel_url(company) + "?retired=1", headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().count('class="fact"') == 30


# ---------------------------------------------------------------- adding


def test_adding_a_fact_returns_the_panel_and_tells_the_timeline(
    client: Client, sales: User, customer: Customer
) -> None:
    response = login(client, sales).post(
        add_url(customer),
        {
            "kind": "family_member",
            "relation": "child",
            "related_name": "Lucía",
            "date": "2012-03-14",
            "recurs_yearly": "on",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {
        "timeline-changed": True,
        "knowledge-changed": True,
    }
    assert "Lucía" in response.content.decode()
    fact = PersonalFact.objects.get()
    assert fact.learned_by == sales and fact.month_day == 314


def test_adding_a_fact_with_errors_keeps_the_input_and_swaps_the_form(
    client: Client, sales: User, customer: Customer
) -> None:
    response = login(client, sales).post(
        add_url(customer), {"kind": "family_member", "related_name": "Lucía Keep"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#knowledge-add-{customer.pk}"
    html = response.content.decode()
    assert "Lucía Keep" in html
    assert "field-errors" in html
    assert "HX-Trigger" not in response
    assert not PersonalFact.objects.exists()


def test_adding_without_htmx_redirects_and_errors_rerender_the_page(
    client: Client, sales: User, customer: Customer
) -> None:
    login(client, sales)
    response = client.post(add_url(customer), {"kind": "interest", "text": "Golf"})
    assert response.status_code == 302
    assert response["Location"] == panel_url(customer)
    response = client.post(add_url(customer), {"kind": "interest", "text": ""})
    assert response.status_code == 422
    assert "<html" in response.content.decode()


def test_adding_a_fact_learned_in_an_interaction(
    client: Client, sales: User, customer: Customer
) -> None:
    call = Interaction.objects.create(
        customer=customer, channel="phone", direction="inbound", subject="Call"
    )
    login(client, sales)
    form = client.get(add_url(customer) + f"?interaction={call.pk}", headers=HTMX).content.decode()
    assert f'value="{call.pk}"' in form
    client.post(
        add_url(customer),
        {"kind": "interest", "text": "Golf", "source_interaction_id": call.pk},
        headers=HTMX,
    )
    assert PersonalFact.objects.get().source_interaction == call


def test_a_form_fetched_on_its_own_swaps_itself_for_a_blank_one(
    client: Client, sales: User, customer: Customer
) -> None:
    call = Interaction.objects.create(
        customer=customer, channel="phone", direction="inbound", subject="Call"
    )
    login(client, sales)
    form = client.get(add_url(customer) + f"?interaction={call.pk}", headers=HTMX)
    assert 'hx-target="this"' in form.content.decode()
    response = client.post(
        add_url(customer),
        {"kind": "interest", "text": "Golf", "source_interaction_id": call.pk},
        headers={**HTMX, "HX-Target": f"knowledge-add-{customer.pk}"},
    )
    html = response.content.decode()
    assert html.startswith("<form") or "<form" in html[:200]
    assert "Fact recorded." in html
    assert f'value="{call.pk}"' in html  # the next fact is from the same call
    assert 'name="text"' in html and "Golf" not in html
    assert "timeline-changed" in response["HX-Trigger"]
    assert PersonalFact.objects.get().source_interaction == call


def test_reader_cannot_add(client: Client, reader: User, customer: Customer) -> None:
    login(client, reader)
    assert client.get(add_url(customer)).status_code == 403
    assert client.post(add_url(customer), {"kind": "note", "text": "x"}).status_code == 403
    html = client.get(panel_url(customer), headers=HTMX).content.decode()
    assert "knowledge-add" not in html
    assert not PersonalFact.objects.exists()


# ---------------------------------------------------------------- correcting and retiring


def test_correcting_a_fact_swaps_the_row(client: Client, sales: User, customer: Customer) -> None:
    fact = daughter(sales, customer)
    login(client, sales)
    form = client.get(fact_url("edit", fact), headers=HTMX)
    assert form.status_code == 200
    assert 'value="Lucía"' in form.content.decode()
    response = client.post(
        fact_url("edit", fact),
        {
            "kind": "family_member",
            "relation": "child",
            "related_name": "Lucía María",
            "date": "2012-04-20",
            "recurs_yearly": "on",
            "version": fact.version,
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<li class="fact" id="fact-') or f'id="fact-{fact.pk}"' in html
    assert "Lucía María" in html
    assert "hx-swap-oob" in html  # the upcoming dates follow
    assert "timeline-changed" in response["HX-Trigger"]
    fact.refresh_from_db()
    assert fact.month_day == 420 and fact.version == 2


def test_stale_correction_shows_the_conflict_and_keeps_input(
    client: Client, sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "interest", "text": "Golf"})
    login(client, sales)
    data = {"kind": "interest", "text": "Padel", "version": 1}
    assert client.post(fact_url("edit", fact), data, headers=HTMX).status_code == 200
    data["text"] = "Tennis typed"
    response = client.post(fact_url("edit", fact), data, headers=HTMX)
    html = response.content.decode()
    assert "alert-conflict" in html and "Tennis typed" in html
    assert PersonalFact.objects.get().text == "Padel"
    response = client.post(fact_url("edit", fact), data)
    assert response.status_code == 409


def test_retiring_a_fact_swaps_the_row_to_retired(
    client: Client, sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "interest", "text": "Golf"})
    login(client, sales)
    assert "Retire fact" in client.get(fact_url("retire", fact), headers=HTMX).content.decode()
    response = client.post(
        fact_url("retire", fact), {"reason": "Bad knee", "version": 1}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "fact-retired" in html and "Bad knee" in html
    assert json.loads(response["HX-Trigger"])["knowledge-changed"] is True
    # Twice: a clear message, nothing changes.
    response = client.post(fact_url("retire", fact), {"reason": "", "version": 2}, headers=HTMX)
    assert "already retired" in response.content.decode()


def test_reader_cannot_correct_or_retire(
    client: Client, reader: User, sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "interest", "text": "Golf"})
    login(client, reader)
    assert client.get(fact_url("edit", fact)).status_code == 403
    assert client.post(fact_url("retire", fact), {"version": 1}).status_code == 403
    html = client.get(panel_url(customer), headers=HTMX).content.decode()
    assert "Golf" in html and fact_url("edit", fact) not in html


def test_cancel_brings_the_row_back(client: Client, sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "interest", "text": "Golf"})
    response = login(client, sales).get(fact_url("fact", fact), headers=HTMX)
    assert response.status_code == 200
    assert f'id="fact-{fact.pk}"' in response.content.decode()


def test_edit_and_retire_pages_work_without_javascript(
    client: Client, sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "interest", "text": "Golf"})
    login(client, sales)
    for name in ("edit", "retire", "fact"):
        response = client.get(fact_url(name, fact))
        assert response.status_code == 200
        assert "<html" in response.content.decode()
    response = client.post(fact_url("retire", fact), {"reason": "", "version": 1})
    assert response.status_code == 302
    retired_at = PersonalFact.objects.get().retired_at
    assert retired_at is not None and retired_at <= timezone.now()
