"""The Insights figures are worked out by a refresh (nightly task or command) into
tables the page and the API read: the refresh is idempotent and replaces the old
figures, a sales rep cannot reach another portfolio's numbers, the page's queries do
not grow with the customers, and before the first refresh the page says what to do."""

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.contracts.models import Purchase
from tendero.customers.models import Customer
from tendero.insights import refresh as refresh_module
from tendero.insights import tasks
from tendero.insights.refresh import refresh_retention
from tendero.insights.retention import executive_scope, retention
from tendero.insights.retention_models import (
    ActivityDay,
    CohortMonth,
    CustomerActivity,
    PeriodSales,
    ProductPeriodSales,
    RetentionRefresh,
)

MakeCustomer = Callable[..., Customer]
TODAY = date(2026, 6, 15)
SECRET_AMOUNT = "98765.43"


def _buy(customer: Customer, day: date, amount: str, product: str = "") -> Purchase:
    return Purchase(
        customer=customer,
        occurred_at=timezone.make_aware(datetime.combine(day, time(12))),
        amount=Decimal(amount),
        currency="EUR",
        product=product,
    )


def _contents() -> dict[str, list[tuple[Any, ...]]]:
    """Every refreshed table's rows, without their ids, in a stable order."""
    found = {}
    for model in (CustomerActivity, ActivityDay, CohortMonth, PeriodSales, ProductPeriodSales):
        names = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        found[model.__name__] = sorted(
            model.objects.values_list(*names), key=lambda row: tuple(map(str, row))
        )
    return found


@pytest.fixture
def two_portfolios(make_customer: MakeCustomer, sales: User, other_sales: User) -> None:
    ana = make_customer(display_name="Ana", account_executive=sales)
    dani = make_customer(display_name="Dani", account_executive=other_sales)
    Purchase.objects.bulk_create(
        [
            _buy(ana, date(2025, 5, 2), "40", "Fibra"),
            _buy(ana, date(2026, 2, 3), "60", "Fibra"),
            _buy(dani, date(2026, 2, 10), SECRET_AMOUNT, "Secreto"),
        ]
    )


def test_refreshing_twice_gives_the_same_figures(two_portfolios: None, manager: User) -> None:
    first = refresh_retention()
    contents = _contents()
    assert len(contents["CustomerActivity"]) == 2
    assert contents["PeriodSales"] and contents["ProductPeriodSales"]
    figures = retention(manager, unit="month", periods=6, today=TODAY)
    second = refresh_retention()
    assert _contents() == contents
    again = retention(manager, unit="month", periods=6, today=TODAY)
    assert replace(again, as_of=None) == replace(figures, as_of=None)
    assert (second.customers, second.purchases) == (2, 3)
    assert RetentionRefresh.objects.count() == 2 and second.finished_at >= first.finished_at


def test_a_refresh_replaces_the_old_figures(
    two_portfolios: None, make_customer: MakeCustomer, manager: User
) -> None:
    refresh_retention()
    before = retention(manager, unit="month", periods=6, today=TODAY)
    eva = make_customer(display_name="Eva")
    Purchase.objects.bulk_create([_buy(eva, date(2026, 3, 1), "5")])
    # Until the next refresh the page shows the figures as they were.
    assert retention(manager, unit="month", periods=6, today=TODAY) == before
    refresh_retention()
    after = retention(manager, unit="month", periods=6, today=TODAY)
    assert (before.customers, after.customers) == (2, 3)
    assert after.as_of is not None and before.as_of is not None and after.as_of > before.as_of
    Purchase.objects.all().delete()
    refresh_retention()
    assert retention(manager, today=TODAY).customers == 0
    assert _contents() == {name: [] for name in _contents()}


def test_a_sales_rep_cannot_reach_another_portfolios_numbers(
    client: Client, two_portfolios: None, sales: User, other_sales: User
) -> None:
    refresh_retention()
    mine = retention(sales, unit="month", periods=6, months=6, today=TODAY)
    assert mine.customers == 1
    february = next(flow for flow in mine.periods if flow.label == "2026-02")
    assert (february.revenue, february.buying_customers, february.purchases) == (
        Decimal("60.00"), 1, 1,
    )  # fmt: skip
    assert all(cohort.size == 0 for cohort in mine.cohorts)  # Dani's is February's
    assert [line.name for line in mine.products] == ["Fibra"]
    assert [row.user_id for row in mine.scorecard] == [sales.pk]
    # Through every door they have: the page and the API, with whatever they add.
    login(client, sales)
    for path in (
        "/insights/?unit=month&periods=24&months=24",
        f"/insights/?unit=month&account_executive={other_sales.pk}",
        "/api/v1/insights/retention?unit=month&periods=24&months=24&top_products=20",
        f"/api/v1/insights/retention?account_executive_id={other_sales.pk}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.content.decode()
        assert "Secreto" not in text and "98765" not in text and "98.765" not in text, path
    body = client.get("/api/v1/insights/retention?unit=month&periods=24").json()
    assert body["customers"] == 1
    assert sum(period["revenue"] for period in body["periods"]) == 100
    assert [row["account_executive_id"] for row in body["scorecard"]] == [sales.pk]
    # The other rep sees theirs; someone without a role sees nothing.
    assert retention(other_sales, unit="month", periods=6, today=TODAY).customers == 1


def test_the_scope_is_the_customers_visibility(
    manager: User, sales: User, outsider: User, admin_user: User
) -> None:
    from django.db.models import Q

    assert executive_scope(manager) == Q()
    assert executive_scope(sales) == Q(account_executive_id=sales.pk)
    assert executive_scope(outsider) is None
    for user in (manager, sales, outsider):
        visible = Customer.objects.visible_to(user)
        assert visible.query.is_empty() == (executive_scope(user) is None)


def _page_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_the_pages_queries_do_not_grow_with_the_customers(
    client: Client, make_customer: MakeCustomer, manager: User, sales: User
) -> None:
    def add(count: int) -> None:
        for n in range(count):
            customer = make_customer(display_name=f"C{n}", account_executive=sales)
            Purchase.objects.bulk_create(
                [_buy(customer, timezone.localdate().replace(day=1), "10", f"P{n % 12}")]
            )
        refresh_retention()

    path = "/insights/?unit=month&periods=12&months=12"
    add(2)
    counts = []
    for user in (manager, sales):
        login(client, user)
        _page_queries(client, path)  # the session, once
        counts.append(_page_queries(client, path))
    add(30)
    for at, user in enumerate((manager, sales)):
        login(client, user)
        _page_queries(client, path)
        assert _page_queries(client, path) == counts[at]
    assert max(counts) <= 13


def test_before_the_first_refresh_the_page_says_how_to_get_the_figures(
    client: Client, two_portfolios: None, manager: User
) -> None:
    text = login(client, manager).get("/insights/").content.decode()
    assert "have not been worked out yet" in text and "tendero insights refresh" in text
    body = client.get("/api/v1/insights/retention").json()
    assert body["as_of"] is None and body["customers"] == 0
    refresh_retention()
    text = client.get("/insights/").content.decode()
    assert "have not been worked out yet" not in text and "As of " in text
    assert client.get("/api/v1/insights/retention").json()["as_of"] is not None


def test_the_as_of_time_is_in_the_openapi_schema(admin_user: User, client: Client) -> None:
    client.force_login(admin_user)
    schema = client.get("/api/v1/openapi.json").json()
    assert "as_of" in schema["components"]["schemas"]["RetentionOut"]["properties"]


def test_the_command_and_the_nightly_task_call_the_same_refresh(
    two_portfolios: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_command("insights", "refresh")
    tasks.refresh_insights.call_local()
    assert list(RetentionRefresh.objects.order_by("id").values_list("trigger", flat=True)) == [
        "command",
        "task",
    ]
    calls: list[str] = []

    def refresh(trigger: str) -> RetentionRefresh:
        calls.append(trigger)
        return RetentionRefresh(pk=99)

    monkeypatch.setattr(refresh_module, "refresh_retention", refresh)
    assert tasks.refresh_insights.call_local() == 99
    assert calls == ["task"]


def test_the_command_says_what_it_did(two_portfolios: None, capsys: Any) -> None:
    call_command("insights", "refresh")
    out = capsys.readouterr().out
    assert "2 customers" in out and "3 purchases" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "required: ACTION"),
        (("recalculate",), "invalid choice: 'recalculate'"),
        (("refresh", "--everything"), "unrecognized arguments: --everything"),
    ],
)
def test_the_command_refuses_bad_input_clearly(
    db: None, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message) as error:
        call_command("insights", *args)
    assert error.value.returncode == 2
    assert not RetentionRefresh.objects.exists()


def test_an_unknown_trigger_is_refused(db: None) -> None:
    with pytest.raises(ValueError, match="trigger"):
        refresh_retention(trigger="cron")
