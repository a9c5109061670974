"""The customer 360 page, its tabs, the timeline (page, fragment, API) and the briefing."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.core import timeline
from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import PersonalFact
from tendero.organization.models import Department

HTMX = {"HX-Request": "true"}
TAB = {**HTMX, "HX-Target": "tab-panel"}


def _interaction(customer: Customer, days_ago: float = 0, **fields: Any) -> Interaction:
    data: dict[str, Any] = {
        "channel": "phone",
        "direction": "outbound",
        "subject": "Checked in",
        "occurred_at": timezone.now() - timedelta(days=days_ago),
        **fields,
    }
    return Interaction.objects.create(customer=customer, **data)


def _fact(customer: Customer, days_ago: float = 0, **fields: Any) -> PersonalFact:
    data: dict[str, Any] = {
        "kind": "interest",
        "text": "Plays football on Sundays",
        "learned_at": timezone.now() - timedelta(days=days_ago),
        **fields,
    }
    return PersonalFact.objects.create(customer=customer, **data)


@pytest.fixture
def customer(make_customer: Callable[..., Customer], sales: User) -> Customer:
    return make_customer(display_name="José Pérez", preferred_name="Pepe", account_executive=sales)


# ---------------------------------------------------------------- the timeline itself


def test_timeline_pages_cover_every_entry_once_newest_first(customer: Customer) -> None:
    same_moment = timezone.now() - timedelta(days=1)
    for _ in range(7):
        _interaction(customer, occurred_at=same_moment)
    for days in range(1, 12):
        _interaction(customer, days_ago=days + 0.5)
        _fact(customer, days_ago=days + 0.25)
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        page = timeline.page([customer.pk], cursor=cursor, size=5)
        seen.extend((entry.kind, entry.object_id) for entry in page.entries)
        moments = [entry.occurred_at for entry in page.entries]
        assert moments == sorted(moments, reverse=True)
        if page.next_cursor is None:
            break
        cursor = timeline.Cursor.decode(page.next_cursor)
    level_and_assignment = 1  # the account-executive assignment made at creation
    assert len(seen) == len(set(seen)) == 7 + 11 + 11 + level_and_assignment


def test_timeline_filters_narrow_to_the_dialogue(customer: Customer) -> None:
    sales_dept = Department.objects.create(code="sales", name="Sales")
    _interaction(customer, subject="Called about the invoice", department=sales_dept)
    _interaction(
        customer,
        subject="Emailed a complaint",
        channel="email",
        direction="inbound",
        voice="complaint",
    )
    _fact(customer)

    def titles(**filters: Any) -> set[str]:
        page = timeline.page([customer.pk], filters=timeline.TimelineFilters(**filters))
        return {entry.title for entry in page.entries}

    assert titles(channel="email") == {"Emailed a complaint"}
    assert titles(direction="outbound") == {"Called about the invoice"}
    assert titles(department_id=sales_dept.pk) == {"Called about the invoice"}
    assert titles(voice_only=True) == {"Emailed a complaint"}
    assert titles(groups=frozenset({"knowledge"})) == {"Plays football on Sundays"}


def test_a_compiled_timeline_serves_every_customer_with_their_own_values(
    make_customer: Callable[..., Customer],
) -> None:
    first, second = make_customer(display_name="Ana"), make_customer(display_name="Bea")
    service = Department.objects.create(code="service", name="Service")
    for customer in (first, second):
        for n in range(4):
            _interaction(
                customer,
                days_ago=n,
                subject=f"{customer.display_name} {n}",
                department=service if n % 2 else None,
            )
    filters = timeline.TimelineFilters(department_id=service.pk)
    for customer in (first, second, first):  # the second time, every branch is cached
        page = timeline.page([customer.pk], size=1, filters=filters)
        assert [e.title for e in page.entries] == [f"{customer.display_name} 1"]
        rest = timeline.page(
            [customer.pk],
            size=5,
            filters=filters,
            cursor=timeline.Cursor.decode(page.next_cursor or ""),
        )
        assert [e.title for e in rest.entries] == [f"{customer.display_name} 3"]
    other = Department.objects.create(code="other", name="Other")
    assert (
        timeline.page([first.pk], filters=timeline.TimelineFilters(department_id=other.pk)).entries
        == []
    )


def test_a_forged_cursor_is_not_a_cursor() -> None:
    assert timeline.Cursor.decode("not-a-cursor") is None
    assert timeline.Cursor.decode("") is None


# ---------------------------------------------------------------- the page


def test_the_page_briefs_before_talking(client: Client, customer: Customer, sales: User) -> None:
    today = timezone.localdate()
    soon = today + timedelta(days=3)
    _fact(
        customer,
        kind="family_member",
        relation="child",
        related_name="Lucía",
        text="",
        date=soon.replace(year=2015),
        recurs_yearly=True,
        month_day=soon.month * 100 + soon.day,
    )
    _fact(customer, text="Likes sparkling water", kind="preference")
    _interaction(
        customer,
        days_ago=2,
        subject="Renewal call",
        outcome="Will think about it",
        follow_up_on=today + timedelta(days=1),
    )

    html = login(client, sales).get(reverse("customers:detail", args=[customer.pk])).text

    assert "Before you talk to them" in html
    assert "<strong>Pepe</strong>" in html
    assert "Lucía" in html and "in 3 days" in html
    assert "Likes sparkling water" in html
    assert "Renewal call" in html and "Will think about it" in html
    assert "Follow up" in html
    assert 'id="timeline"' in html


def test_an_open_follow_up_is_closed_from_the_page(
    client: Client, customer: Customer, sales: User
) -> None:
    open_one = _interaction(customer, subject="Call back", follow_up_on=timezone.localdate())
    login(client, sales)
    html = client.get(reverse("customers:detail", args=[customer.pk])).text
    url = reverse("dialogue:complete_follow_up", args=[open_one.pk])
    assert f'hx-post="{url}"' in html
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200 and "timeline-changed" in response["HX-Trigger"]
    open_one.refresh_from_db()
    assert open_one.follow_up_done_at is not None
    assert (
        "Call back"
        not in client.get(reverse("customers:detail", args=[customer.pk]))
        .text.split('id="open-heading"')[1]
        .split("</section>")[0]
    )


def test_a_quiet_relationship_shows_as_open(
    client: Client, customer: Customer, sales: User
) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        contact_rhythm_days=30, next_contact_due=timezone.localdate() - timedelta(days=9)
    )
    html = login(client, sales).get(reverse("customers:detail", args=[customer.pk])).text
    assert "Going quiet" in html and "9 days ago" in html


@pytest.mark.usefixtures("product_sections_only")
def test_the_page_costs_the_same_whatever_the_history(
    client: Client,
    customer: Customer,
    make_customer: Callable[..., Customer],
    sales: User,
    django_assert_max_num_queries: Any,
) -> None:
    login(client, sales)
    url = reverse("customers:detail", args=[customer.pk])
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    Interaction.objects.bulk_create(
        Interaction(
            customer=customer,
            channel="email",
            direction="inbound",
            subject=f"Mail {n}",
            occurred_at=timezone.now() - timedelta(hours=n),
            follow_up_on=timezone.localdate() if n % 50 == 0 else None,
        )
        for n in range(400)
    )
    PersonalFact.objects.bulk_create(
        PersonalFact(customer=customer, kind="note", text=f"Note {n}") for n in range(100)
    )
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert response.status_code == 200
    assert response.text.count('class="feed-entry') == timeline.PAGE_SIZE
    # 8 follow-ups are open: the 5 due soonest are shown, the rest counted.
    assert response.text.count('class="open-item') == 5
    assert "See all 8 open follow-ups" in response.text


def test_only_the_open_follow_ups_due_soonest_are_on_the_page(
    client: Client, customer: Customer, sales: User
) -> None:
    """However many follow-ups were left open, the page shows the five due soonest,
    counts the rest and links to all of them."""
    today = timezone.localdate()
    for n in range(8):
        _interaction(
            customer,
            days_ago=n,
            subject=f"Promise {n}",
            follow_up_on=today + timedelta(days=8 - n),
        )
    _interaction(
        customer, subject="Done already", follow_up_on=today, follow_up_done_at=timezone.now()
    )
    html = login(client, sales).get(reverse("customers:detail", args=[customer.pk])).text
    shown = [n for n in range(8) if f"Follow up: Promise {n}</strong>" in html]
    assert shown == [3, 4, 5, 6, 7]  # due in 1 to 5 days
    assert "See all 8 open follow-ups" in html
    assert reverse("dialogue:follow_ups", args=[customer.pk]) in html

    page = client.get(reverse("dialogue:follow_ups", args=[customer.pk])).text
    assert all(f"Promise {n}" in page for n in range(8))
    assert "Done already" not in page
    assert page.index("Promise 7") < page.index("Promise 0")  # soonest due first

    body = client.get(f"/api/v1/customers/{customer.pk}/briefing").json()
    assert [row["subject"] for row in body["open_follow_ups"]] == [
        f"Promise {n}" for n in (7, 6, 5, 4, 3)
    ]
    assert body["open_follow_ups_total"] == 8
    listed = client.get(
        f"/api/v1/customers/{customer.pk}/interactions?follow_up_open=true&limit=3"
    ).json()
    assert [row["subject"] for row in listed["items"]] == ["Promise 7", "Promise 6", "Promise 5"]
    assert listed["count"] == 8


def test_the_open_follow_ups_page_is_for_the_customers_people_only(
    client: Client, customer: Customer, other_sales: User
) -> None:
    _interaction(customer, subject="<b>Call back</b>", follow_up_on=timezone.localdate())
    url = reverse("dialogue:follow_ups", args=[customer.pk])
    assert client.get(url).status_code == 302  # to sign in
    assert login(client, other_sales).get(url).status_code == 404


def test_the_open_follow_ups_page_escapes_and_pages(
    client: Client, customer: Customer, sales: User
) -> None:
    _interaction(customer, subject="<b>Call back</b>", follow_up_on=timezone.localdate())
    url = reverse("dialogue:follow_ups", args=[customer.pk])
    html = login(client, sales).get(url).text
    assert "&lt;b&gt;Call back&lt;/b&gt;" in html and "<b>Call back" not in html
    assert "No follow-up is open" in client.get(url + "?page=2").text
    assert client.get(url + "?page=nonsense").status_code == 200


@pytest.mark.usefixtures("product_sections_only")
def test_an_organisation_page_stays_within_budget(
    client: Client,
    make_customer: Callable[..., Customer],
    manager: User,
    django_assert_max_num_queries: Any,
) -> None:
    from tendero.customers import services

    organisation = make_customer(kind="organisation", display_name="Acme S.L.")
    services.create_contact(
        manager, organisation, {"first_name": "Ana", "is_primary": True, "preferred_name": "Anita"}
    )
    login(client, manager)
    with django_assert_max_num_queries(10):
        html = client.get(reverse("customers:detail", args=[organisation.pk])).text
    assert "Anita" in html


def test_someone_elses_customer_is_not_found(
    client: Client, customer: Customer, other_sales: User
) -> None:
    login(client, other_sales)
    for name in ("detail", "timeline", "knowledge", "contacts", "history"):
        response = client.get(reverse(f"customers:{name}", args=[customer.pk]), headers=HTMX)
        assert response.status_code == 404, name


def test_anonymous_people_are_sent_to_sign_in(client: Client, customer: Customer) -> None:
    response = client.get(reverse("customers:timeline", args=[customer.pk]), headers=HTMX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_timeline_text_is_escaped(client: Client, customer: Customer, sales: User) -> None:
    _interaction(customer, subject="<script>alert(1)</script>", notes="<b>hi</b>")
    html = login(client, sales).get(reverse("customers:detail", args=[customer.pk])).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html


def test_timeline_fragment_filters_and_pages(
    client: Client, customer: Customer, sales: User
) -> None:
    for n in range(25):
        _interaction(customer, days_ago=n, subject=f"Call {n}")
    _interaction(customer, subject="A letter", channel="letter")
    login(client, sales)
    url = reverse("customers:timeline", args=[customer.pk])

    filtered = client.get(url, {"channel": "letter"}, headers=HTMX)
    assert filtered.status_code == 200
    assert "A letter" in filtered.text and "Call 1<" not in filtered.text
    assert 'id="timeline"' in filtered.text

    first = client.get(url, headers=HTMX).text
    cursor = first.split("cursor=")[1].split('"')[0]
    more = client.get(url, {"cursor": cursor}, headers=HTMX)
    assert 'id="timeline"' not in more.text  # only the next entries, appended in place
    assert "Call 24" in more.text


def test_timeline_without_htmx_goes_to_the_page(
    client: Client, customer: Customer, sales: User
) -> None:
    response = login(client, sales).get(
        reverse("customers:timeline", args=[customer.pk]), {"channel": "email", "cursor": "x"}
    )
    assert response.status_code == 302
    assert (
        response["Location"] == reverse("customers:detail", args=[customer.pk]) + "?channel=email"
    )


def test_bad_filter_values_are_ignored_not_fatal(
    client: Client, customer: Customer, sales: User
) -> None:
    _interaction(customer, subject="Still shown")
    response = login(client, sales).get(
        reverse("customers:detail", args=[customer.pk]),
        {"channel": "pigeon", "department": "x", "cursor": "%%%", "group": "nope"},
    )
    assert response.status_code == 200 and "Still shown" in response.text


@pytest.mark.parametrize("tab", ["knowledge", "contacts", "history"])
def test_tabs_are_pages_and_fragments(
    client: Client, customer: Customer, manager: User, tab: str
) -> None:
    login(client, manager)
    url = reverse(f"customers:{tab}", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text and 'aria-current="page"' in page.text
    fragment = client.get(url, headers=TAB)
    assert fragment.status_code == 200 and "<html" not in fragment.text


def test_a_level_change_lands_on_the_history_tab(
    client: Client, customer: Customer, manager: User
) -> None:
    response = login(client, manager).post(
        reverse("customers:change_level", args=[customer.pk]),
        {"to_level": 2, "reason": "Needs documented"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:history", args=[customer.pk])


# ---------------------------------------------------------------- API


def test_api_timeline_pages_with_a_cursor(client: Client, customer: Customer, sales: User) -> None:
    for n in range(30):
        _interaction(customer, days_ago=n, subject=f"Call {n}")
    login(client, sales)
    url = f"/api/v1/customers/{customer.pk}/timeline"
    first = client.get(url, {"size": 20}).json()
    calls = [e["title"] for e in first["entries"] if e["kind"] == "interaction"]
    assert calls[:2] == ["Call 0", "Call 1"]
    second = client.get(url, {"size": 20, "cursor": first["next_cursor"]}).json()
    titles = [
        e["title"] for e in first["entries"] + second["entries"] if e["kind"] == "interaction"
    ]
    assert len(titles) == len(set(titles)) == 30
    assert second["next_cursor"] is None


def test_api_timeline_refuses_bad_input_and_other_portfolios(
    client: Client, customer: Customer, sales: User, other_sales: User
) -> None:
    login(client, sales)
    url = f"/api/v1/customers/{customer.pk}/timeline"
    assert client.get(url, {"cursor": "garbage"}).status_code == 422
    assert client.get(url, {"channel": "pigeon"}).status_code == 422
    assert client.get(url, {"size": 0}).status_code == 422
    assert client.get(url, {"colour": "red"}).status_code == 422
    login(client, other_sales)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 401


def test_api_briefing(client: Client, customer: Customer, sales: User) -> None:
    _fact(customer, text="Loves opera", kind="interest")
    _interaction(
        customer, subject="Intro call", outcome="Interested", follow_up_on=timezone.localdate()
    )
    body = login(client, sales).get(f"/api/v1/customers/{customer.pk}/briefing").json()
    assert body["address_as"] == "Pepe"
    assert [f["text"] for f in body["recent_facts"]] == ["Loves opera"]
    assert body["recent_interactions"][0]["outcome"] == "Interested"
    assert len(body["open_follow_ups"]) == 1
