"""Retention: what "we lost 50 customers and won 50" really cost.

The product-centric view counts sales per period: revenue, buying customers,
purchases. Its numbers can look stable while the base turns over. The
customer-centric view follows each customer from the day they were won to the
day they were lost, and prices both in lifetime value.

The definitions, in one place:

- A customer is *won* on the day of their first purchase.
- A customer is *lost* LAPSE_DAYS (a year) after their last purchase, once that
  day has come: a year without buying.
- *Active* on a day: won on or before it and not lost by then.
- A period's *retention rate* is the share of the customers active at its start
  who are still active at its end; its *churn rate* the share of them lost in it.
- A customer's *yearly value* is what they spent in their first year (for one won)
  or in the year up to their last purchase (for one lost).
- *Lifetime value* of a yearly value m is m + m r / (1 + d) + m r^2 / (1 + d)^2 + ...
  = m (1 + d) / (1 + d - r): this year's value and each later year's, as likely
  as the customer stays (r, the base's retention over the last year) and
  discounted (d, DISCOUNT_RATE a year). It is the retention-multiplier formula of
  Gupta & Lehmann (2003) with the current year counted: the simplest honest price
  of a customer won or walking out.

The product-centric view also breaks the sales down by product: units and revenue
of the best-selling products (by revenue over the periods shown) per period, the
rest summed as "other products" and the purchases that name no product apart.

The figures are read from tables that `tendero.insights.refresh` works out from
the purchases ledger every night at 03:15 (and on `tendero insights refresh`), not
from the ledger itself: a page over a million customers and ten million purchases
reads a few thousand small rows. So they are as of the last refresh
(`Retention.as_of`; None before the first, when every figure is empty): purchases
recorded since count from the next one. The refresh keeps one row per customer
(first and last purchase, first-year and last-year value) and, per account
executive, the first and last purchases per day, the cohorts per month and the
sales per period and per product. Reads are scoped to the customers the user may
see by summing the rows of the account executives whose portfolios they see (a
manager: all; a sales rep: their own), so the per-portfolio figures follow the
portfolios as they were at the refresh: a customer moved to another account
executive counts in the new portfolio from the next refresh on. Only the
scorecard's expected values and their change (`CustomerValue`, `value_change`) are
read live.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from tendero.accounts.models import User
from tendero.contracts.models import default_currency
from tendero.customers.models import portfolio_scope
from tendero.insights.models import PortfolioValue, month_start
from tendero.insights.refresh import LAPSE_DAYS
from tendero.insights.retention_models import (
    ActivityDay,
    CohortMonth,
    PeriodSales,
    ProductPeriodSales,
    RetentionRefresh,
)

DISCOUNT_RATE = 0.10
UNITS = ("quarter", "month")
MAX_PERIODS = 24
MAX_COHORTS = 24
# Products with a line of their own in the product view: a chart of more series than
# this is no longer read at a glance.
TOP_PRODUCTS = 8
MAX_TOP_PRODUCTS = 20


class CustomerCounts:
    """How many customers (and what value) made their first purchase, and their last,
    on or before any day: cumulative sums over the refreshed days (`ActivityDay`) of
    the account executives a user may see. Every count of customers won, lost and
    active follows from these two because a customer's first purchase comes before
    their last (see `customer_flows`)."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        # rows: (day, first_buyers, first_year_value, last_buyers, last_year_value)
        self.days = np.array([_day(row[0]).toordinal() for row in rows], dtype=np.int64)
        columns = [np.array([float(row[i] or 0) for row in rows]) for i in range(1, 5)]
        self._cumulative = [np.concatenate(([0.0], np.cumsum(column))) for column in columns]

    def _upto(self, column: int, day: date) -> float:
        at = int(np.searchsorted(self.days, day.toordinal(), side="right"))
        return float(self._cumulative[column][at])

    def first(self, day: date) -> int:
        """Customers whose first purchase was on or before `day`."""
        return round(self._upto(0, day))

    def first_value(self, day: date) -> float:
        return self._upto(1, day)

    def last(self, day: date) -> int:
        """Customers whose last purchase was on or before `day`."""
        return round(self._upto(2, day))

    def last_value(self, day: date) -> float:
        return self._upto(3, day)

    @property
    def customers(self) -> int:
        return round(self._cumulative[0][-1])

    def active_on(self, day: date, today: date) -> int:
        """Won on or before `day` and not lost by then (nor by `today`, for a later
        day). Lost by `day` means a last purchase a lapse before it, so after the
        first: subtracting them counts no one who was not won."""
        return self.first(day) - self.last(min(day, today) - LAPSE)


LAPSE = timedelta(days=LAPSE_DAYS)


@dataclass
class PeriodFlow:
    """One period of both views: sales (product-centric) and customers won and lost
    with their lifetime value (customer-centric)."""

    start: date
    end: date  # exclusive
    label: str
    revenue: Decimal = Decimal(0)
    buying_customers: int = 0
    purchases: int = 0
    active_at_start: int = 0
    active_at_end: int = 0
    won: int = 0
    lost: int = 0
    retained: int = 0
    value_won: float = 0.0
    value_lost: float = 0.0

    @property
    def retention_rate(self) -> float | None:
        return self.retained / self.active_at_start if self.active_at_start else None

    @property
    def churn_rate(self) -> float | None:
        return (
            (self.active_at_start - self.retained) / self.active_at_start
            if self.active_at_start
            else None
        )

    @property
    def net_customers(self) -> int:
        return self.won - self.lost

    @property
    def net_value(self) -> float:
        return self.value_won - self.value_lost


@dataclass
class Cohort:
    """The customers won in one month, and the share of them buying k months later."""

    month: str  # YYYY-MM
    size: int
    retention: list[float | None] = field(default_factory=list)


@dataclass
class ScorecardRow:
    """An account executive's portfolio on customer metrics (instead of a quota)."""

    user_id: int | None
    name: str
    customers: int = 0
    active: int = 0
    won: int = 0
    lost: int = 0
    active_a_year_ago: int = 0
    retained: int = 0
    value_lost: float = 0.0
    expected_value: float = 0.0
    at_risk: int = 0
    # The same customers as scored in the compared month (`Retention.value_since`):
    # their 36-month value then (None: no month to compare with), how many were at
    # risk then and how many of those are champions or loyal now.
    value_then: float | None = None
    at_risk_then: int = 0
    recovered: int = 0

    @property
    def retention_rate(self) -> float | None:
        return self.retained / self.active_a_year_ago if self.active_a_year_ago else None

    @property
    def value_change(self) -> float | None:
        return None if self.value_then is None else self.expected_value - self.value_then


class ProductKind:
    """What a line of the product view stands for."""

    PRODUCT = "product"  # one of the best sellers
    OTHER = "other"  # the other products together
    NONE = "none"  # purchases that name no product


@dataclass
class ProductSales:
    """One line of the product view: a product's units, revenue and purchases per
    period (in the order of Retention.periods), or the other products' together, or
    the purchases without a product's."""

    kind: str
    name: str  # the product as the ledger names it; "" for the other two kinds
    units: list[Decimal]
    revenue: list[Decimal]
    purchases: list[int]
    products: int = 1  # how many products the line sums

    @property
    def total_units(self) -> Decimal:
        return sum(self.units, Decimal(0))

    @property
    def total_revenue(self) -> Decimal:
        return sum(self.revenue, Decimal(0))

    @property
    def total_purchases(self) -> int:
        return sum(self.purchases)


@dataclass
class Retention:
    today: date
    currency: str
    unit: str
    yearly_retention: float | None
    lifetime_multiplier: float
    periods: list[PeriodFlow]
    cohorts: list[Cohort]
    scorecard: list[ScorecardRow]
    customers: int
    active: int
    # The month of the scores the scorecard compares today's with (None: none yet).
    value_since: date | None = None
    products: list[ProductSales] = field(default_factory=list)
    # When the figures were last worked out from the ledger (None: never yet).
    as_of: datetime | None = None

    @property
    def revenue(self) -> Decimal:
        """The sales of every period shown."""
        return sum((flow.revenue for flow in self.periods), Decimal(0))


# ------------------------------------------------------------------ the reads


# Which account executives' rows of the refreshed figures a user may read: the rule
# of Customer.objects.visible_to.
executive_scope = portfolio_scope


def _scoped(queryset: QuerySet[Any], scope: Q | None) -> QuerySet[Any]:
    return queryset.none() if scope is None else queryset.filter(scope).order_by()


def last_refresh() -> RetentionRefresh | None:
    """The latest refresh of the figures (None: never refreshed)."""
    return RetentionRefresh.objects.order_by("-finished_at", "-id").first()


def _day(value: Any) -> date:
    """A date from what the database returns for a datetime (aware, naive or text)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def customer_counts(scope: Q | None) -> CustomerCounts:
    """The first and last purchases per day of the customers in `scope`, as of the
    last refresh: one query, one row per day whatever the number of customers."""
    rows = (
        _scoped(ActivityDay.objects.all(), scope)
        .values("day")
        .annotate(
            first_buyers_sum=Sum("first_buyers"),
            first_value_sum=Sum("first_year_value"),
            last_buyers_sum=Sum("last_buyers"),
            last_value_sum=Sum("last_year_value"),
        )
        .order_by("day")
        .values_list(
            "day", "first_buyers_sum", "first_value_sum", "last_buyers_sum", "last_value_sum"
        )
    )
    return CustomerCounts(list(rows))


def _period_starts(today: date, unit: str, count: int) -> list[date]:
    """The first days of the `count` periods ending with the current one, oldest first,
    and the day after the current one ends."""
    months = 3 if unit == "quarter" else 1
    current = date(today.year, ((today.month - 1) // months) * months + 1, 1)
    return [month_start(current, (back - 1) * months) for back in range(count, -1, -1)]


def _label(start: date, unit: str) -> str:
    if unit == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def lifetime_multiplier(yearly_retention: float | None) -> float:
    """(1 + d) / (1 + d - r): the lifetime value of one currency unit of yearly value
    (one year's worth when the retention is not known yet)."""
    if yearly_retention is None:
        return 1.0
    return (1 + DISCOUNT_RATE) / (1 + DISCOUNT_RATE - yearly_retention)


def _sales(scope: Q | None, unit: str, since: date) -> dict[date, dict[str, Any]]:
    """Revenue, buying customers and purchases per period since `since`, summed over
    the account executives in `scope` (one query)."""
    rows = (
        _scoped(PeriodSales.objects.filter(unit=unit, start__gte=since), scope)
        .values("start")
        .annotate(
            revenue_sum=Sum("revenue"),
            customers_sum=Sum("customers"),
            purchases_sum=Sum("purchases"),
        )
    )
    return {
        _day(row["start"]): {
            "revenue": row["revenue_sum"],
            "customers": row["customers_sum"],
            "purchases": row["purchases_sum"],
        }
        for row in rows
    }


def _exact(value: Any, places: str) -> Decimal:
    # SQLite sums decimals as floats: back to the column's places.
    return Decimal(str(value or 0)).quantize(Decimal(places))


def product_sales(
    user: Any, unit: str, starts: list[date], top: int = TOP_PRODUCTS
) -> list[ProductSales]:
    """Units, revenue and purchases per product in each period from starts[i] to
    starts[i + 1], for the customers `user` may see: a line for each of the `top`
    products with the most revenue over all of them (most first), then one for the
    other products together and one for the purchases that name no product, each
    when there is something in it. One query: the top products are ranked, and the
    rest summed, in the database, so the answer's size does not grow with the
    number of products sold (read from the refreshed sales per product)."""
    scope = executive_scope(user)
    if scope is None or len(starts) < 2:
        return []
    cells = (
        _scoped(
            ProductPeriodSales.objects.filter(
                unit=unit, start__gte=starts[0], start__lt=starts[-1]
            ),
            scope,
        )
        .values("product", period=F("start"))
        .annotate(revenue=Sum("revenue"), units=Sum("units"), purchases=Sum("purchases"))
    )
    cells_sql, cells_params = cells.query.sql_with_params()
    sql = f"""
        WITH cells AS ({cells_sql}),
             best AS (
                 SELECT product, SUM(revenue) AS total FROM cells WHERE product <> ''
                 GROUP BY product ORDER BY total DESC, product LIMIT %s
             ),
             named AS (SELECT COUNT(DISTINCT product) AS n FROM cells WHERE product <> '')
        SELECT CASE WHEN c.product = '' THEN '{ProductKind.NONE}'
                    WHEN t.product IS NULL THEN '{ProductKind.OTHER}'
                    ELSE '{ProductKind.PRODUCT}' END AS kind,
               COALESCE(t.product, '') AS name, MAX(t.total) AS total, c.period,
               SUM(c.units), SUM(c.revenue), SUM(c.purchases), MAX(named.n)
        FROM cells c LEFT JOIN best t ON t.product = c.product CROSS JOIN named
        GROUP BY 1, 2, c.period
    """  # noqa: S608 (compiled by the ORM; the values are parameters)
    index = {start: i for i, start in enumerate(starts[:-1])}
    lines: dict[tuple[str, str], ProductSales] = {}
    ranks: dict[tuple[str, str], Decimal] = {}
    named = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cells_params, top])
        for kind, name, total, period, units, revenue, count, named_products in cursor.fetchall():
            at = index.get(date.fromisoformat(str(period)[:10]))
            if at is None:
                continue
            key = (kind, name)
            if key not in lines:
                size = len(index)
                lines[key] = ProductSales(
                    kind=kind,
                    name=name,
                    units=[Decimal("0.000")] * size,
                    revenue=[Decimal("0.00")] * size,
                    purchases=[0] * size,
                )
                ranks[key] = _exact(total, "0.01")
            line = lines[key]
            line.units[at] = _exact(units, "0.001")
            line.revenue[at] = _exact(revenue, "0.01")
            line.purchases[at] = int(count)
            named = int(named_products or 0)
    order = {ProductKind.PRODUCT: 0, ProductKind.OTHER: 1, ProductKind.NONE: 2}
    found = sorted(lines, key=lambda key: (order[key[0]], -ranks[key], key[1]))
    best = sum(1 for kind, _name in found if kind == ProductKind.PRODUCT)
    for key in found:
        if key[0] == ProductKind.OTHER:
            lines[key].products = named - best
        elif key[0] == ProductKind.NONE:
            lines[key].products = 0
    return [lines[key] for key in found]


def cohorts(user: Any, today: date, months: int = 12) -> list[Cohort]:
    """Acquisition cohorts of the last `months` months: each one's size and, for every
    month since, the share of it that bought in that month. One query."""
    months = max(1, min(months, MAX_COHORTS))
    shown = _period_starts(today, "month", months)[:-1]
    rows = (
        _scoped(CohortMonth.objects.filter(cohort__gte=shown[0]), executive_scope(user))
        .values("cohort", "month")
        .annotate(customers_sum=Sum("customers"))
        .values_list("cohort", "month", "customers_sum")
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for cohort, month, customers in rows:
        counts[_day(cohort).isoformat()[:7]][_day(month).isoformat()[:7]] = int(customers)
    found = []
    for start in shown:
        key = f"{start.year}-{start.month:02d}"
        by_month = counts.get(key, {})
        size = by_month.get(key, 0)
        shares: list[float | None] = []
        for offset in range((today.year - start.year) * 12 + today.month - start.month + 1):
            month = month_start(start, -offset).isoformat()[:7]
            shares.append(by_month.get(month, 0) / size if size else None)
        found.append(Cohort(month=key, size=size, retention=shares))
    return found


def yearly_retention(counts: CustomerCounts, today: date) -> float | None:
    """The share of the customers active a year ago who are still active today."""
    year_ago = today - timedelta(days=365)
    then = counts.active_on(year_ago, today)
    if not then:
        return None
    # Active then and now: won by then, last purchase less than a lapse before today.
    return (counts.first(year_ago) - counts.last(today - LAPSE)) / then


def customer_flows(
    flow: PeriodFlow, counts: CustomerCounts, today: date, multiplier: float
) -> None:
    """Fill in `flow`'s customers won, lost, active at its start and end and retained,
    and the lifetime value won and lost, from the cumulative counts.

    Won in [start, end): first purchase in it. Lost in it: last purchase a lapse
    earlier, once that day has come (by today). Retained: won by the day before the
    start and not lost by the last day (or today): since a period is shorter than a
    lapse, every customer whose last purchase is a lapse before that day was won
    before the period began, so they are subtracted from those won by then."""
    start, last_day = flow.start, flow.end - timedelta(days=1)
    before = start - timedelta(days=1)
    lost_by = min(last_day, today)  # a lost day after today has not come yet
    flow.won = counts.first(last_day) - counts.first(before)
    flow.value_won = (counts.first_value(last_day) - counts.first_value(before)) * multiplier
    if lost_by >= start:
        flow.lost = counts.last(lost_by - LAPSE) - counts.last(before - LAPSE)
        flow.value_lost = (
            counts.last_value(lost_by - LAPSE) - counts.last_value(before - LAPSE)
        ) * multiplier
    flow.active_at_start = counts.active_on(before, today)
    flow.active_at_end = counts.active_on(lost_by, today)
    flow.retained = counts.first(before) - counts.last(lost_by - LAPSE)


def retention(
    user: Any,
    *,
    unit: str = "quarter",
    periods: int = 8,
    months: int = 12,
    today: date | None = None,
    top_products: int = TOP_PRODUCTS,
) -> Retention:
    """Both views of the last `periods` periods (quarters or months), with the sales
    of the `top_products` best-selling products, the acquisition cohorts of the last
    `months` months and the account executives' scorecard, over the customers `user`
    may see. Raises ValueError for an unknown unit."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    periods = max(1, min(periods, MAX_PERIODS))
    today = today or timezone.localdate()
    scope = executive_scope(user)
    refreshed = last_refresh()
    counts = customer_counts(scope)
    rate = yearly_retention(counts, today)
    multiplier = lifetime_multiplier(rate)
    starts = _period_starts(today, unit, periods)
    sales = _sales(scope, unit, starts[0])
    flows = []
    for start, end in itertools.pairwise(starts):
        flow = PeriodFlow(start=start, end=end, label=_label(start, unit))
        row = sales.get(start)
        if row:
            flow.revenue = row["revenue"] or Decimal(0)
            flow.buying_customers = row["customers"]
            flow.purchases = row["purchases"]
        customer_flows(flow, counts, today, multiplier)
        flows.append(flow)
    board, since = scorecard(user, today, multiplier)
    return Retention(
        today=today,
        currency=default_currency(),
        unit=unit,
        yearly_retention=rate,
        lifetime_multiplier=multiplier,
        periods=flows,
        cohorts=cohorts(user, today, months),
        scorecard=board,
        customers=counts.customers,
        active=counts.active_on(today, today),
        value_since=since,
        products=product_sales(user, unit, starts, max(1, min(top_products, MAX_TOP_PRODUCTS))),
        as_of=refreshed.finished_at if refreshed else None,
    )


def scorecard(user: Any, today: date, multiplier: float) -> tuple[list[ScorecardRow], date | None]:
    """Per account executive, over the last year: their portfolio's customers with
    purchases, how many are active, won and lost, the retention of those active a year
    ago, the lifetime value lost (these as of the last refresh, by the portfolios as
    they were then), what scoring expects of the portfolio (36-month value, customers
    at risk), and how that expected value and the customers at risk moved since the
    scores of about a year ago (`value_change`). One row per executive among the
    customers `user` sees; with the month compared with."""
    year_ago = today - timedelta(days=365)
    two_years_ago = year_ago - LAPSE
    per_owner = (
        _scoped(ActivityDay.objects.all(), executive_scope(user))
        .values("account_executive_id")
        .annotate(
            customers=Sum("first_buyers"),
            won_by_now=Sum("first_buyers", filter=Q(day__lte=today)),
            won_by_then=Sum("first_buyers", filter=Q(day__lte=year_ago)),
            won=Sum("first_buyers", filter=Q(day__gt=year_ago, day__lte=today)),
            # Lost by now: last purchase a lapse before today; by then: before a year ago.
            lost_by_now=Sum("last_buyers", filter=Q(day__lte=today - LAPSE)),
            lost_by_then=Sum("last_buyers", filter=Q(day__lte=two_years_ago)),
            value_lost=Sum(
                "last_year_value", filter=Q(day__gt=two_years_ago, day__lte=today - LAPSE)
            ),
        )
    )
    rows = {}
    for owner in per_owner:
        won_by_now, won_by_then = owner["won_by_now"] or 0, owner["won_by_then"] or 0
        lost_by_now, lost_by_then = owner["lost_by_now"] or 0, owner["lost_by_then"] or 0
        key = owner["account_executive_id"] or 0
        rows[key] = ScorecardRow(
            user_id=key or None,
            name="",
            customers=owner["customers"] or 0,
            active=won_by_now - lost_by_now,
            won=owner["won"] or 0,
            lost=lost_by_now - lost_by_then,
            active_a_year_ago=won_by_then - lost_by_then,
            # Won by then and not lost by now (whoever is lost by now was won by then).
            retained=won_by_then - lost_by_now,
            value_lost=float(owner["value_lost"] or 0) * multiplier,
        )
    # Written with the latest scores (tendero.insights.value_change.write_portfolio_values).
    since = None
    for value in _scoped(PortfolioValue.objects.all(), executive_scope(user)):
        owner = value.account_executive_id
        row = rows.setdefault(owner or 0, ScorecardRow(user_id=owner, name=""))
        row.expected_value = float(value.expected_value)
        row.at_risk = value.at_risk
        since = value.since
        if since is not None:
            row.value_then = float(value.value_then or 0)
            row.at_risk_then = value.at_risk_then
            row.recovered = value.recovered
    if since is not None:
        for row in rows.values():
            if row.value_then is None:
                row.value_then = 0.0
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in rows if k])}
    for owner, row in rows.items():
        row.name = names.get(owner, "")
    board = sorted(rows.values(), key=lambda r: (r.user_id is None, -r.expected_value, r.name))
    return board, since
