"""The scorecard's year-on-year comparison: the same customers then and now."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tendero.accounts.models import User
from tendero.customers.models import Customer
from tendero.insights.models import ModelRun, PortfolioValue
from tendero.insights.tests.factories import scored, scoring_run, snapshot
from tendero.insights.value_change import compared_month, value_change, write_portfolio_values

TODAY = date(2026, 11, 23)


@pytest.fixture
def run(db: None) -> ModelRun:
    return scoring_run(TODAY)


def test_the_compared_month_is_a_year_back_or_the_oldest_kept(
    run: ModelRun, make_customer: Callable[..., Customer]
) -> None:
    customer = make_customer()
    assert compared_month(TODAY) is None
    snapshot(customer, run, date(2026, 11, 1), "10", "loyal")
    assert compared_month(TODAY) is None  # only this month's
    snapshot(customer, run, date(2026, 5, 1), "10", "loyal")
    assert compared_month(TODAY) == date(2026, 5, 1)
    snapshot(customer, run, date(2025, 11, 1), "10", "loyal")
    snapshot(customer, run, date(2025, 8, 1), "10", "loyal")
    assert compared_month(TODAY) == date(2025, 11, 1)


def test_value_then_at_risk_then_and_recovered_per_portfolio(
    run: ModelRun,
    make_customer: Callable[..., Customer],
    sales: User,
    other_sales: User,
    manager: User,
    django_assert_max_num_queries: Any,
) -> None:
    month = date(2025, 11, 1)
    ana = make_customer(display_name="Ana", account_executive=sales)
    bea = make_customer(display_name="Bea", account_executive=sales)
    carla = make_customer(display_name="Carla", account_executive=sales)
    dani = make_customer(display_name="Dani", account_executive=other_sales)
    eva = make_customer(display_name="Eva")  # nobody's
    snapshot(ana, run, month, "100.00", "at_risk")  # at risk then, champion now: recovered
    scored(ana, run, "300.00", "champion")
    snapshot(bea, run, month, "50.00", "at_risk")  # still at risk
    scored(bea, run, "20.00", "at_risk")
    snapshot(carla, run, month, "70.00", "loyal")  # was fine, now hibernating
    scored(carla, run, "5.00", "hibernating")
    snapshot(dani, run, month, "40.00", "at_risk")  # at risk then, loyal now: recovered
    scored(dani, run, "90.00", "loyal")
    scored(eva, run, "12.00", "new")  # scored only now
    snapshot(ana, run, date(2026, 11, 1), "999", "champion")  # this month's: not compared

    with django_assert_max_num_queries(6):
        change = value_change(Customer.objects.visible_to(manager), TODAY)
    assert change.since == month
    mine = change.by_owner[sales.pk]
    assert (mine.value, mine.at_risk, mine.recovered) == (220.0, 2, 1)
    theirs = change.by_owner[other_sales.pk]
    assert (theirs.value, theirs.at_risk, theirs.recovered) == (40.0, 1, 1)
    assert None not in change.by_owner  # Eva had no snapshot then

    # A sales rep sees only their own portfolio.
    assert set(value_change(Customer.objects.visible_to(sales), TODAY).by_owner) == {sales.pk}
    assert (
        value_change(Customer.objects.visible_to(other_sales), TODAY)
        .by_owner[other_sales.pk]
        .recovered
        == 1
    )


def test_a_customer_handed_over_takes_their_past_value_along(
    run: ModelRun,
    make_customer: Callable[..., Customer],
    sales: User,
    other_sales: User,
    manager: User,
) -> None:
    month = date(2025, 11, 1)
    ana = make_customer(display_name="Ana", account_executive=sales)
    snapshot(ana, run, month, "100.00", "at_risk")
    scored(ana, run, "300.00", "champion")
    Customer.objects.filter(pk=ana.pk).update(account_executive=other_sales)
    change = value_change(Customer.objects.visible_to(manager), TODAY)
    assert set(change.by_owner) == {other_sales.pk}
    assert change.by_owner[other_sales.pk].recovered == 1


def test_the_scores_write_each_portfolios_figures_for_the_scorecard(
    run: ModelRun, make_customer: Callable[..., Customer], sales: User, other_sales: User
) -> None:
    month = date(2025, 11, 1)
    ana = make_customer(display_name="Ana", account_executive=sales)
    bea = make_customer(display_name="Bea", account_executive=sales)
    eva = make_customer(display_name="Eva")  # nobody's
    snapshot(ana, run, month, "100.00", "at_risk")
    scored(ana, run, "300.00", "champion")
    scored(bea, run, "20.00", "at_risk")
    scored(eva, run, "12.00", "new")
    dani = make_customer(display_name="Dani", account_executive=other_sales)
    snapshot(dani, run, month, "40.00", "loyal")  # scored then, not now

    assert write_portfolio_values(run) == 3
    rows = {row.account_executive_id: row for row in PortfolioValue.objects.all()}
    mine = rows[sales.pk]
    assert (mine.customers, mine.expected_value, mine.at_risk) == (2, Decimal("320.00"), 1)
    assert (mine.since, mine.value_then, mine.at_risk_then, mine.recovered) == (
        month, Decimal("100.00"), 1, 1,
    )  # fmt: skip
    assert (rows[None].customers, rows[None].value_then) == (1, Decimal("0"))
    theirs = rows[other_sales.pk]
    assert (theirs.customers, theirs.expected_value, theirs.value_then) == (
        0, Decimal("0"), Decimal("40.00"),
    )  # fmt: skip
    # A second run replaces the rows.
    assert write_portfolio_values(run) == 3
    assert PortfolioValue.objects.count() == 3
