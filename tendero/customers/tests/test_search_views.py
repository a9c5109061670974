"""Search pages and API: suggestions under the top bar, the results page, GET
/api/v1/search, and the customer list's accent-insensitive ?q=."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from tendero.accounts.models import User
from tendero.conftest import api_client, login
from tendero.customers.models import Customer

MakeCustomer = Callable[..., Customer]
API = "/api/v1"


@pytest.fixture
def people(make_customer: MakeCustomer, sales: User, other_sales: User) -> dict[str, Customer]:
    return {
        "jose": make_customer(
            display_name="José Pérez",
            preferred_name="Pepe",
            emails=["jose@example.com"],
            phones=["+34612345678"],
            tax_id="12345678Z",
            account_executive=sales,
        ),
        "josefa": make_customer(display_name="Josefa Muñoz", account_executive=other_sales),
    }


# ------------------------------------------------------------ suggestions


@pytest.mark.parametrize("name", ["search:suggest", "search:results"])
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, db: None, name: str) -> None:
    response = client.get(reverse(name), {"q": "jose"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_suggestions_list_matches_with_the_typed_part_marked(
    client: Client, manager: User, people: dict[str, Customer]
) -> None:
    response = login(client, manager).get(
        reverse("search:suggest"), {"q": "jos"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="option"') == 3  # two customers and "all results"
    assert "<mark>Jos</mark>é" in html
    assert "<mark>Jos</mark>efa" in html
    assert "<mark>jos</mark>e@example.com" in html
    assert "+34 612 34 56 78" in html
    assert people["jose"].get_absolute_url() in html
    assert f"{reverse('search:results')}?q=jos" in html
    assert html.index("Pérez") < html.index("Muñoz")


def test_suggestions_mark_a_phone_number(
    client: Client, manager: User, people: dict[str, Customer]
) -> None:
    html = login(client, manager).get(reverse("search:suggest"), {"q": "612 34"}).content.decode()
    assert "+34 <mark>612 34</mark> 56 78" in html


@pytest.mark.parametrize("q", ["", "   ", "...", "¿?"])
def test_nothing_to_search_for_suggests_nothing(
    client: Client, manager: User, people: dict[str, Customer], q: str
) -> None:
    response = login(client, manager).get(reverse("search:suggest"), {"q": q})
    assert response.status_code == 200
    assert response.content == b""


def test_no_match_says_so(client: Client, manager: User, people: dict[str, Customer]) -> None:
    html = login(client, manager).get(reverse("search:suggest"), {"q": "zzz"}).content.decode()
    assert "No customer matches." in html
    assert 'aria-disabled="true"' in html


def test_a_sales_rep_is_never_suggested_another_reps_customer(
    client: Client, sales: User, people: dict[str, Customer]
) -> None:
    html = login(client, sales).get(reverse("search:suggest"), {"q": "jos"}).content.decode()
    assert "Pérez" in html
    assert "Josefa" not in html


def test_suggestions_escape_what_customers_are_called(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="<script>alert(1)</script>", preferred_name="<b>x</b>")
    html = login(client, manager).get(reverse("search:suggest"), {"q": "scr"}).content.decode()
    assert "<script>alert" not in html
    assert "<b>x" not in html
    assert "&lt;<mark>scr</mark>ipt&gt;alert(1)&lt;/<mark>scr</mark>ipt&gt;" in html
    html = login(client, manager).get(reverse("search:results"), {"q": "<script>"}).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_suggestions_run_a_bounded_number_of_queries(
    client: Client,
    manager: User,
    make_customer: MakeCustomer,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(20):
        make_customer(display_name=f"Cliente {n}", emails=[f"c{n}@example.com"])
    login(client, manager)
    # session, user, permissions (2), token rows, customers
    with django_assert_max_num_queries(6):
        response = client.get(reverse("search:suggest"), {"q": "cli"})
    assert response.content.decode().count('role="option"') == 9


# ------------------------------------------------------------ results page


def test_results_page_works_without_javascript(
    client: Client, manager: User, people: dict[str, Customer]
) -> None:
    response = login(client, manager).get(reverse("search:results"), {"q": "JOSE per"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form class="search-page-form" role="search" method="get"' in html
    assert '<label for="search-page-q">' in html
    assert "<mark>José</mark> <mark>Pér</mark>ez" in html
    assert "Josefa" not in html


def test_results_page_without_a_query_explains_itself(client: Client, manager: User) -> None:
    for q in ("", "..."):
        response = login(client, manager).get(reverse("search:results"), {"q": q})
        assert response.status_code == 200
        assert "Find any customer" in response.content.decode()


def test_results_page_says_when_nothing_matches(
    client: Client, manager: User, people: dict[str, Customer]
) -> None:
    html = login(client, manager).get(reverse("search:results"), {"q": "zzz"}).content.decode()
    assert "No customer you can see matches" in html


def test_an_overlong_query_is_cut_not_refused(
    client: Client, manager: User, people: dict[str, Customer]
) -> None:
    response = login(client, manager).get(reverse("search:results"), {"q": "jose " + "x" * 500})
    assert response.status_code == 200


def test_the_top_bar_search_is_a_combobox_that_submits_to_the_list(
    client: Client, manager: User
) -> None:
    html = login(client, manager).get(reverse("customers:list")).content.decode()
    assert f'action="{reverse("customers:list")}"' in html
    assert 'role="combobox"' in html
    assert f'hx-get="{reverse("search:suggest")}"' in html
    assert 'hx-trigger="input changed delay:150ms, search"' in html
    assert 'role="listbox"' in html
    assert "tendero/search.js" in html


# ------------------------------------------------------------ the customer list


def test_the_customer_list_search_ignores_accents_and_matches_beginnings(
    client: Client, manager: User, people: dict[str, Customer]
) -> None:
    login(client, manager)

    def listed(q: str) -> set[str]:
        response = client.get(reverse("customers:list"), {"q": q})
        assert response.status_code == 200
        return {c.display_name for c in response.context["customers"]}

    assert listed("munoz") == {"Josefa Muñoz"}
    assert listed("JOSE PER") == {"José Pérez"}
    assert listed("jos") == {"José Pérez", "Josefa Muñoz"}
    assert listed("+34 612") == {"José Pérez"}
    assert listed("ose") == set()


def test_the_api_list_search_ignores_accents(manager: User, people: dict[str, Customer]) -> None:
    response = api_client(manager).get(f"{API}/customers", {"q": "munoz"})
    assert response.status_code == 200
    assert [c["display_name"] for c in response.json()["items"]] == ["Josefa Muñoz"]


# ------------------------------------------------------------ API


def test_api_search_answers_results_and_the_query(
    manager: User, people: dict[str, Customer]
) -> None:
    response = api_client(manager).get(f"{API}/search", {"q": "jos"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "jos"
    assert body["results"][0] == {
        "id": people["jose"].pk,
        "display_name": "José Pérez",
        "preferred_name": "Pepe",
        "kind": "person",
        "primary_email": "jose@example.com",
        "primary_phone": "+34612345678",
        "tax_id": "12345678Z",
        "url": people["jose"].get_absolute_url(),
    }
    assert [r["display_name"] for r in body["results"]] == ["José Pérez", "Josefa Muñoz"]


def test_api_search_is_scoped_to_the_portfolio(sales: User, people: dict[str, Customer]) -> None:
    body = api_client(sales).get(f"{API}/search", {"q": "jos"}).json()
    assert [r["display_name"] for r in body["results"]] == ["José Pérez"]


def test_api_search_limit(manager: User, people: dict[str, Customer]) -> None:
    body = api_client(manager).get(f"{API}/search?q=jos&limit=1").json()
    assert len(body["results"]) == 1


@pytest.mark.parametrize("q", ["", "...", "-"])
def test_api_search_with_nothing_to_search_for_is_empty(
    manager: User, people: dict[str, Customer], q: str
) -> None:
    response = api_client(manager).get(f"{API}/search", {"q": q})
    assert response.status_code == 200
    assert response.json() == {"results": [], "query": q}


@pytest.mark.parametrize(
    "query",
    ["q=" + "x" * 201, "q=jose&limit=0", "q=jose&limit=51", "q=jose&limit=x", "q=%00", "qq=1"],
)
def test_api_search_refuses_bad_parameters(manager: User, db: None, query: str) -> None:
    response = api_client(manager).get(f"{API}/search?{query}")
    assert response.status_code == 422
    assert response.json()["detail"]


def test_api_search_needs_authentication(client: Client, db: None) -> None:
    response = client.get(f"{API}/search", {"q": "jose"})
    assert response.status_code == 401


def test_api_search_runs_a_bounded_number_of_queries(
    manager: User,
    make_customer: MakeCustomer,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(20):
        make_customer(display_name=f"Cliente {n}", phones=["+34612345678"])
    client = api_client(manager)
    client.get(f"{API}/search?q=x")  # warm the token's last-used stamp
    # token, permissions (2), token rows, customers
    with django_assert_max_num_queries(6):
        response = client.get(f"{API}/search?q=cli&limit=50")
    assert len(response.json()["results"]) == 20
