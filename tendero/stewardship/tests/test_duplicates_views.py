"""Duplicate pages: the list, dismissing (htmx), comparing and merging, the candidates box."""

from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.customers import services
from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction
from tendero.stewardship.duplicates import detect_duplicates
from tendero.stewardship.models import CustomerMerge, DuplicatePair

MakeCustomer = Callable[..., Customer]
SCRIPT = "<script>alert(1)</script>"


def twins(make_customer: MakeCustomer, name: str = "Ana Ruiz", **extra: object) -> list[Customer]:
    a = make_customer(display_name=name, emails=["ana@example.com"], **extra)
    b = make_customer(display_name=name, emails=["ana@example.com"], city="Lugo", **extra)
    detect_duplicates()
    return [a, b]


def test_list_shows_open_pairs_with_reasons_and_actions(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    a, b = twins(make_customer)
    login(client, manager)
    response = client.get(reverse("duplicates:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Same email" in body
    assert "Same name" in body
    assert reverse("duplicates:compare", args=[a.pk, b.pk]) in body
    pair = DuplicatePair.objects.get()
    assert reverse("duplicates:dismiss", args=[pair.pk]) in body


def test_list_escapes_names(client: Client, manager: User, make_customer: MakeCustomer) -> None:
    twins(make_customer, name=SCRIPT)
    login(client, manager)
    body = client.get(reverse("duplicates:list")).content.decode()
    assert SCRIPT not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_list_empty_state(client: Client, manager: User) -> None:
    login(client, manager)
    body = client.get(reverse("duplicates:list")).content.decode()
    assert "No possible duplicates" in body


def test_list_pages_and_htmx_gets_the_fragment(
    client: Client,
    manager: User,
    make_customer: MakeCustomer,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for i in range(22):
        make_customer(display_name=f"Person {i}", emails=[f"p{i}@example.com"])
        make_customer(display_name=f"Other {i}", emails=[f"p{i}@example.com"])
    detect_duplicates()
    login(client, manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("duplicates:list"))
    assert response.content.decode().count('class="duplicate-pair card"') == 20
    assert "page=2" in response.content.decode()
    fragment = client.get(reverse("duplicates:list") + "?page=2", HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body
    assert body.count('class="duplicate-pair card"') == 2


def test_sales_rep_sees_only_pairs_within_their_portfolio(
    client: Client, sales: User, make_customer: MakeCustomer
) -> None:
    twins(make_customer, name="Not Mine")
    from django.contrib.auth.models import Permission

    sales.user_permissions.add(Permission.objects.get(codename="view_duplicatepair"))
    login(client, User.objects.get(pk=sales.pk))
    body = client.get(reverse("duplicates:list")).content.decode()
    assert "Not Mine" not in body


def test_reader_may_not_open_the_list_without_permission(client: Client, reader: User) -> None:
    login(client, reader)
    assert client.get(reverse("duplicates:list")).status_code == 403


def test_anonymous_visitor_is_sent_to_login(client: Client, db: None) -> None:
    response = client.get(reverse("duplicates:list"))
    assert response.status_code == 302


def test_dismiss_with_htmx_removes_the_row(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    twins(make_customer)
    pair = DuplicatePair.objects.get()
    login(client, manager)
    response = client.post(reverse("duplicates:dismiss", args=[pair.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content == b""
    pair.refresh_from_db()
    assert pair.dismissed_by == manager
    assert "Same email" not in client.get(reverse("duplicates:list")).content.decode()


def test_dismiss_without_htmx_redirects(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    twins(make_customer)
    pair = DuplicatePair.objects.get()
    login(client, manager)
    response = client.post(reverse("duplicates:dismiss", args=[pair.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("duplicates:list")


def test_reader_cannot_dismiss(client: Client, reader: User, make_customer: MakeCustomer) -> None:
    twins(make_customer)
    pair = DuplicatePair.objects.get()
    login(client, reader)
    response = client.post(reverse("duplicates:dismiss", args=[pair.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    pair.refresh_from_db()
    assert pair.dismissed_at is None


def test_dismiss_needs_post(client: Client, manager: User, make_customer: MakeCustomer) -> None:
    twins(make_customer)
    login(client, manager)
    pair = DuplicatePair.objects.get()
    assert client.get(reverse("duplicates:dismiss", args=[pair.pk])).status_code == 405


# ---------------------------------------------------------------- compare and merge


def test_compare_shows_both_side_by_side_with_choices(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    a, b = twins(make_customer, name=SCRIPT)
    Interaction.objects.create(customer=b, channel="phone", direction="inbound", subject="Hi")
    login(client, manager)
    response = client.get(reverse("duplicates:compare", args=[a.pk, b.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert SCRIPT not in body
    assert "&lt;script&gt;" in body
    assert 'name="keep_city"' in body
    assert 'name="keep_display_name"' not in body  # same value: nothing to choose
    # b has more history: it is the default survivor.
    assert f'value="{b.pk}" id="survivor-{b.pk}" checked' in body
    assert f'name="version_{a.pk}" value="{a.version}"' in body


def test_merge_from_the_page_redirects_to_the_survivor(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    a, b = twins(make_customer)
    login(client, manager)
    response = client.post(
        reverse("duplicates:compare", args=[a.pk, b.pk]),
        {
            "survivor": a.pk,
            "keep_city": b.pk,
            f"version_{a.pk}": a.version,
            f"version_{b.pk}": b.version,
            "confirm": "1",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("customers:detail", args=[a.pk])
    assert "was merged into" in response.content.decode()
    a.refresh_from_db()
    assert a.city == "Lugo"
    assert not Customer.objects.filter(pk=b.pk).exists()
    assert CustomerMerge.objects.get().merged_by == manager


def test_merge_needs_confirmation(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    a, b = twins(make_customer)
    login(client, manager)
    response = client.post(
        reverse("duplicates:compare", args=[a.pk, b.pk]),
        {"survivor": a.pk, f"version_{a.pk}": a.version, f"version_{b.pk}": b.version},
    )
    assert response.status_code == 422
    assert "Confirm" in response.content.decode()
    assert Customer.objects.filter(pk=b.pk).exists()


def test_stale_version_is_shown_clearly(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    a, b = twins(make_customer)
    old_version = b.version
    services.update_customer(manager, b, b.version, {"city": "Vigo"})
    login(client, manager)
    response = client.post(
        reverse("duplicates:compare", args=[a.pk, b.pk]),
        {
            "survivor": a.pk,
            f"version_{a.pk}": a.version,
            f"version_{b.pk}": old_version,
            "confirm": "1",
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "alert-conflict" in body
    assert "Vigo" in body
    assert f'name="version_{b.pk}" value="{old_version + 1}"' in body
    assert Customer.objects.filter(pk=b.pk).exists()


def test_sales_rep_cannot_open_the_comparison(
    client: Client, sales: User, make_customer: MakeCustomer
) -> None:
    a, b = twins(make_customer, account_executive=sales)
    login(client, sales)
    assert client.get(reverse("duplicates:compare", args=[a.pk, b.pk])).status_code == 403
    response = client.post(
        reverse("duplicates:compare", args=[a.pk, b.pk]),
        {"survivor": a.pk, f"version_{a.pk}": 1, f"version_{b.pk}": 1, "confirm": "1"},
    )
    assert response.status_code == 403
    assert Customer.objects.filter(pk=b.pk).exists()


def test_out_of_scope_customers_are_404(
    client: Client, sales: User, other_sales: User, make_customer: MakeCustomer
) -> None:
    mine = make_customer(display_name="Mine", account_executive=sales)
    theirs = make_customer(display_name="Theirs", account_executive=other_sales)
    login(client, sales)
    assert client.get(reverse("duplicates:compare", args=[mine.pk, theirs.pk])).status_code == 404
    assert client.get(reverse("duplicates:compare", args=[mine.pk, mine.pk])).status_code == 404


# ---------------------------------------------------------------- candidates box


def test_candidates_fragment_links_to_the_comparison(
    client: Client, manager: User, make_customer: MakeCustomer
) -> None:
    a, b = twins(make_customer, name=SCRIPT)
    login(client, manager)
    response = client.get(reverse("duplicates:candidates", args=[a.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert SCRIPT not in body
    assert reverse("duplicates:compare", args=[a.pk, b.pk]) in body
    assert "Same email" in body


def test_candidates_fragment_is_empty_without_permission(
    client: Client, service_agent: User, make_customer: MakeCustomer
) -> None:
    a, _b = twins(make_customer)
    login(client, service_agent)
    response = client.get(reverse("duplicates:candidates", args=[a.pk]))
    assert response.status_code == 200
    assert "Same email" not in response.content.decode()


def test_candidates_of_an_out_of_scope_customer_are_404(
    client: Client, sales: User, make_customer: MakeCustomer
) -> None:
    a, _b = twins(make_customer)
    login(client, sales)
    assert client.get(reverse("duplicates:candidates", args=[a.pk])).status_code == 404
