"""Retention: customers won and lost with their lifetime value, period rates, cohorts
and the account executives' scorecard, on a small base whose answers are worked out
by hand; the page and the API, scoped to what each user may see."""

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.contracts.models import Purchase
from tendero.customers.models import Customer
from tendero.insights.refresh import refresh_retention
from tendero.insights.retention import lifetime_multiplier, retention

TODAY = date(2026, 6, 15)
MakeCustomer = Callable[..., Customer]


def _buy(customer: Customer, day: date, amount: str) -> Purchase:
    moment = timezone.make_aware(datetime.combine(day, time(12)))
    return Purchase(customer=customer, occurred_at=moment, amount=Decimal(amount), currency="EUR")


@pytest.fixture
def base(make_customer: MakeCustomer, sales: User, other_sales: User) -> dict[str, Customer]:
    """Ana: a regular since 2024, lapsed (last purchase 2025-03-01: lost 2026-03-01).
    Bea: won in February 2026. Carla: won in May 2025, still buying. Dani, another
    rep's: bought once on 2025-01-01, lost 2026-01-01."""
    ana = make_customer(display_name="Ana", account_executive=sales)
    bea = make_customer(display_name="Bea", account_executive=sales)
    carla = make_customer(display_name="Carla", account_executive=sales)
    dani = make_customer(display_name="Dani", account_executive=other_sales)
    Purchase.objects.bulk_create(
        [
            _buy(ana, date(2024, 1, 10), "100"),
            _buy(ana, date(2024, 6, 1), "50"),  # first year: 150
            _buy(ana, date(2025, 2, 1), "30"),
            _buy(ana, date(2025, 3, 1), "20"),  # last year (from 2024-03-01): 50 + 30 + 20
            _buy(bea, date(2026, 2, 10), "40"),
            _buy(
                bea,
                date(2026, 2, 10),
                "10",
            ),  # same day, two tickets
            _buy(carla, date(2025, 5, 1), "60"),
            _buy(carla, date(2026, 5, 20), "70"),
            _buy(dani, date(2025, 1, 1), "80"),
            _buy(dani, date(2025, 1, 1), "5"),
        ]
    )
    refresh_retention()
    return {"ana": ana, "bea": bea, "carla": carla, "dani": dani}


def test_won_lost_and_rates_per_quarter(base: dict[str, Customer], manager: User) -> None:
    result = retention(manager, unit="quarter", periods=2, today=TODAY)
    # A year ago (2025-06-15) Ana, Carla and Dani were active; today only Carla is.
    assert result.yearly_retention == pytest.approx(1 / 3)
    multiplier = lifetime_multiplier(1 / 3)
    assert multiplier == pytest.approx(1.1 / (1.1 - 1 / 3))
    q1, q2 = result.periods
    assert (q1.label, q1.start, q1.end) == ("2026 Q1", date(2026, 1, 1), date(2026, 4, 1))
    assert (q1.won, q1.lost, q1.active_at_start, q1.active_at_end, q1.retained) == (1, 2, 3, 2, 1)
    assert q1.retention_rate == pytest.approx(1 / 3)
    assert q1.churn_rate == pytest.approx(2 / 3)
    assert q1.net_customers == -1
    # Bea's first year: 50; Ana's last year 100 and Dani's 85 walked out.
    assert q1.value_won == pytest.approx(50 * multiplier)
    assert q1.value_lost == pytest.approx((100 + 85) * multiplier)
    assert (q1.revenue, q1.buying_customers, q1.purchases) == (Decimal("50"), 1, 2)
    assert (q2.won, q2.lost, q2.active_at_start, q2.active_at_end) == (0, 0, 2, 2)
    assert (q2.revenue, q2.buying_customers) == (Decimal("70"), 1)
    assert (result.customers, result.active) == (4, 2)


def test_cohorts_by_month_of_first_purchase(base: dict[str, Customer], manager: User) -> None:
    result = retention(manager, unit="month", periods=3, months=6, today=TODAY)
    months = [cohort.month for cohort in result.cohorts]
    assert months == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    february = result.cohorts[1]
    assert february.size == 1
    assert february.retention == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert result.cohorts[0].size == 0 and result.cohorts[0].retention[0] is None


def test_a_sales_rep_sees_their_portfolio_only(
    base: dict[str, Customer], sales: User, other_sales: User
) -> None:
    result = retention(sales, unit="quarter", periods=1, today=TODAY)
    assert result.customers == 3
    assert [row.user_id for row in result.scorecard] == [sales.pk]
    row = result.scorecard[0]
    assert (row.customers, row.active, row.won, row.lost) == (3, 2, 1, 1)
    assert (row.active_a_year_ago, row.retained) == (2, 1)
    mine = retention(other_sales, unit="quarter", periods=1, today=TODAY)
    assert mine.customers == 1 and mine.active == 0


def test_nothing_bought_yet(manager: User) -> None:
    result = retention(manager, today=TODAY)
    assert (result.customers, result.active, result.yearly_retention) == (0, 0, None)
    assert all(flow.won == flow.lost == 0 for flow in result.periods)
    assert result.scorecard == []


def test_unknown_unit_is_refused(manager: User) -> None:
    with pytest.raises(ValueError, match="unit"):
        retention(manager, unit="week")


def test_page_shows_both_views_with_charts(
    client: Client, base: dict[str, Customer], manager: User
) -> None:
    response = login(client, manager).get("/insights/?unit=month&periods=4")
    assert response.status_code == 200
    text = response.content.decode()
    assert "product-centric" in text and "customer-centric" in text
    assert text.count("<svg") >= 2 and "<script" not in text.split("<svg", 1)[1].split("</svg>")[0]
    assert "kozea.github.io" not in text  # no chart script from the internet


def test_page_keeps_defaults_for_bad_filters(client: Client, manager: User) -> None:
    response = login(client, manager).get("/insights/?unit=decade&periods=-3&months=x")
    assert response.status_code == 200
    assert "field-error" in response.content.decode()


def test_page_needs_a_signed_in_user_who_may_see_customers(client: Client, outsider: User) -> None:
    assert client.get("/insights/").status_code == 302
    assert login(client, outsider).get("/insights/").status_code == 403


def test_page_escapes_names(client: Client, make_customer: MakeCustomer, sales: User) -> None:
    sales.first_name = "<b>Sergio</b>"
    sales.save()
    customer = make_customer(display_name="Eva", account_executive=sales)
    Purchase.objects.bulk_create([_buy(customer, date(2026, 1, 5), "10")])
    refresh_retention()
    response = login(client, sales).get("/insights/")
    text = response.content.decode()
    assert "<b>Sergio</b>" not in text and "&lt;b&gt;Sergio&lt;/b&gt;" in text


def test_api_gives_the_same_figures(client: Client, base: dict[str, Customer], sales: User) -> None:
    response = login(client, sales).get("/api/v1/insights/retention?periods=2&months=3")
    assert response.status_code == 200
    body = response.json()
    assert body["customers"] == 3 and body["lapse_days"] == 365
    assert [p["label"] for p in body["periods"]][-1].endswith(("Q1", "Q2", "Q3", "Q4"))
    assert body["scorecard"][0]["account_executive_id"] == sales.pk


def test_api_refuses_bad_parameters_and_outsiders(client: Client, outsider: User) -> None:
    login(client, outsider)
    assert client.get("/api/v1/insights/retention").status_code == 403
    assert client.get("/api/v1/insights/retention?unit=week").status_code == 422
    assert client.get("/api/v1/insights/retention?periods=0").status_code == 422


def test_the_scorecard_compares_the_same_customers_with_a_year_ago(
    client: Client, base: dict[str, Customer], sales: User
) -> None:
    """Ana was at risk in June 2025 and is a champion now: recovered. Bea was not scored
    then. The page and the API say so, with the month compared."""
    from tendero.insights.tests.factories import scored, scoring_run, snapshot
    from tendero.insights.value_change import write_portfolio_values

    run = scoring_run(TODAY)
    scored(base["ana"], run, "300", "champion", p_alive=0.9)
    scored(base["bea"], run, "50", "new", p_alive=0.9)
    snapshot(base["ana"], run, date(2025, 6, 1), "120", "at_risk")
    write_portfolio_values(run)  # as the scoring run does after writing its scores

    result = retention(sales, unit="quarter", periods=1, today=TODAY)
    assert result.value_since == date(2025, 6, 1)
    row = result.scorecard[0]
    assert (row.expected_value, row.value_then, row.value_change) == (350.0, 120.0, 230.0)
    assert (row.at_risk_then, row.recovered) == (1, 1)

    page = login(client, sales).get("/insights/").content.decode()
    body = client.get("/api/v1/insights/retention").json()
    assert "June 2025" in page and "1 → 1" in page
    assert body["value_since"] == "2025-06-01"
    assert body["scorecard"][0]["value_change"] == 230.0
    assert body["scorecard"][0]["recovered"] == 1


def test_without_an_earlier_month_there_is_no_change_to_show(
    base: dict[str, Customer], sales: User
) -> None:
    result = retention(sales, unit="quarter", periods=1, today=TODAY)
    assert result.value_since is None
    assert result.scorecard[0].value_change is None
