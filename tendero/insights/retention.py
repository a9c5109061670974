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

Reads are scoped to the customers the user may see, and run in the database: one
aggregation per customer, one per period, one per product and period and one per
acquisition cohort.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone

from tendero.accounts.models import User
from tendero.contracts.models import Purchase, default_currency
from tendero.customers.models import Customer
from tendero.insights.models import CustomerValue, Segment
from tendero.insights.value_change import value_change

LAPSE_DAYS = 365
DISCOUNT_RATE = 0.10
UNITS = ("quarter", "month")
MAX_PERIODS = 24
MAX_COHORTS = 24
# Products with a line of their own in the product view: a chart of more series than
# this is no longer read at a glance.
TOP_PRODUCTS = 8
MAX_TOP_PRODUCTS = 20


class Activity(NamedTuple):
    """The customers with purchases, one entry each (NumPy arrays, same order)."""

    customer_id: npt.NDArray[np.int64]
    account_executive_id: npt.NDArray[np.int64]  # 0: nobody
    first_day: npt.NDArray[np.int64]  # date ordinals
    lost_day: npt.NDArray[np.int64]  # date ordinal, NEVER while not lost
    first_year_value: npt.NDArray[np.float64]
    last_year_value: npt.NDArray[np.float64]

    def active_on(self, day: date) -> npt.NDArray[np.bool_]:
        ordinal = day.toordinal()
        return np.asarray((self.first_day <= ordinal) & (self.lost_day > ordinal))


NEVER = np.iinfo(np.int64).max


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

    @property
    def revenue(self) -> Decimal:
        """The sales of every period shown."""
        return sum((flow.revenue for flow in self.periods), Decimal(0))


# ------------------------------------------------------------------ the reads


def _purchases(user: Any) -> QuerySet[Purchase]:
    """The purchases of the customers `user` may see, in the company's currency (the
    one lifetime values are in; amounts in others are not converted)."""
    visible = Customer.objects.visible_to(user)
    purchases = Purchase.objects.filter(currency=default_currency())
    if visible.query.is_empty():
        return purchases.none()
    if visible.query.has_filters():
        purchases = purchases.filter(customer__in=visible.values("pk"))
    return purchases


def _day(value: Any) -> date:
    """A date from what the database returns for a datetime (aware, naive or text)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def customer_activity(user: Any, today: date) -> Activity:
    """Each visible customer's first purchase day, the day they count as lost (if they
    do by `today`) and their first-year and last-year value: two queries."""
    purchases = _purchases(user)
    spans = list(
        purchases.order_by()
        .values_list("customer_id", "customer__account_executive_id")
        .annotate(first=Min("occurred_at"), last=Max("occurred_at"))
    )
    first_year, last_year = _year_values(purchases) if spans else ({}, {})
    lapse = timedelta(days=LAPSE_DAYS)
    lost = [_day(last) + lapse for _c, _ae, _f, last in spans]
    ids = [customer for customer, _ae, _f, _l in spans]
    return Activity(
        customer_id=np.array(ids, dtype=np.int64),
        account_executive_id=np.array([ae or 0 for _c, ae, _f, _l in spans], dtype=np.int64),
        first_day=np.array(
            [_day(first).toordinal() for _c, _ae, first, _l in spans], dtype=np.int64
        ),
        lost_day=np.array([d.toordinal() if d <= today else NEVER for d in lost], dtype=np.int64),
        first_year_value=np.array([first_year.get(c, 0.0) for c in ids], dtype=np.float64),
        last_year_value=np.array([last_year.get(c, 0.0) for c in ids], dtype=np.float64),
    )


def _year_values(purchases: QuerySet[Purchase]) -> tuple[dict[int, float], dict[int, float]]:
    """Per customer: spend in the year from their first purchase, and in the year up to
    their last. One query: the purchases joined to their customer's span."""
    spans_sql, spans_params = (
        purchases.order_by()
        .values("customer_id")
        .annotate(first_at=Min("occurred_at"), last_at=Max("occurred_at"))
        .query.sql_with_params()
    )
    rows = purchases.order_by().values("customer_id", "occurred_at", "amount")
    rows_sql, rows_params = rows.query.sql_with_params()
    if connection.vendor == "postgresql":
        first_end = "s.first_at + interval '365 days'"
        last_start = "s.last_at - interval '365 days'"
    else:  # SQLite keeps datetimes as ISO text, which its datetime() shifts
        first_end = "datetime(s.first_at, '+365 days')"
        last_start = "datetime(s.last_at, '-365 days')"
    sql = f"""
        SELECT p.customer_id,
               SUM(CASE WHEN p.occurred_at < {first_end} THEN p.amount ELSE 0 END),
               SUM(CASE WHEN p.occurred_at > {last_start} THEN p.amount ELSE 0 END)
        FROM ({rows_sql}) p JOIN ({spans_sql}) s ON s.customer_id = p.customer_id
        GROUP BY p.customer_id
    """  # noqa: S608 (compiled by the ORM; the values are parameters)
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*rows_params, *spans_params])
        for customer_id, first_value, last_value in cursor.fetchall():
            first[customer_id] = float(first_value or 0)
            last[customer_id] = float(last_value or 0)
    return first, last


def _period_starts(today: date, unit: str, count: int) -> list[date]:
    """The first days of the `count` periods ending with the current one, oldest first,
    and the day after the current one ends."""
    months = 3 if unit == "quarter" else 1
    month = ((today.month - 1) // months) * months + 1
    current = date(today.year, month, 1)
    starts = []
    for back in range(count, -1, -1):
        total = current.year * 12 + current.month - 1 - (back - 1) * months
        starts.append(date(total // 12, total % 12 + 1, 1))
    return starts


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


def _sales(user: Any, unit: str, since: date) -> dict[date, dict[str, Any]]:
    """Revenue, buying customers and purchases per period since `since` (one query)."""
    trunc = TruncQuarter if unit == "quarter" else TruncMonth
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    rows = (
        _purchases(user)
        .filter(occurred_at__gte=start)
        .order_by()
        .annotate(period=trunc("occurred_at"))
        .values("period")
        .annotate(
            revenue=Sum("amount"),
            customers=Count("customer_id", distinct=True),
            purchases=Count("id"),
        )
    )
    return {_day(row["period"]): dict(row) for row in rows}


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
    number of products sold."""
    purchases = _purchases(user)
    if purchases.query.is_empty() or len(starts) < 2:
        return []
    since, until = (
        timezone.make_aware(datetime.combine(day, time.min)) for day in (starts[0], starts[-1])
    )
    trunc = TruncQuarter if unit == "quarter" else TruncMonth
    cells = (
        purchases.filter(occurred_at__gte=since, occurred_at__lt=until)
        .order_by()
        .annotate(period=trunc("occurred_at"))
        .values("product", "period")
        .annotate(revenue=Sum("amount"), units=Sum("quantity"), purchases=Count("id"))
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
    active_months = (
        _purchases(user)
        .order_by()
        .annotate(month=TruncMonth("occurred_at"))
        .values("customer_id", "month")
        .distinct()
    )
    inner_sql, params = active_months.query.sql_with_params()
    sql = f"""
        WITH active AS ({inner_sql}),
             won AS (SELECT customer_id, MIN(month) AS cohort FROM active GROUP BY customer_id)
        SELECT won.cohort, active.month, COUNT(*)
        FROM active JOIN won ON won.customer_id = active.customer_id
        GROUP BY won.cohort, active.month
    """  # noqa: S608 (compiled by the ORM; the values are parameters)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for cohort, month, customers in cursor.fetchall():
            counts[str(cohort)[:7]][str(month)[:7]] = customers
    found = []
    for start in _period_starts(today, "month", months)[:-1]:
        key = f"{start.year}-{start.month:02d}"
        by_month = counts.get(key, {})
        size = by_month.get(key, 0)
        shares: list[float | None] = []
        for offset in range((today.year - start.year) * 12 + today.month - start.month + 1):
            total = start.year * 12 + start.month - 1 + offset
            month = f"{total // 12}-{total % 12 + 1:02d}"
            shares.append(by_month.get(month, 0) / size if size else None)
        found.append(Cohort(month=key, size=size, retention=shares))
    return found


def yearly_retention(activity: Activity, today: date) -> float | None:
    """The share of the customers active a year ago who are still active today."""
    then = activity.active_on(today - timedelta(days=365))
    if not then.any():
        return None
    return float((then & activity.active_on(today)).sum() / then.sum())


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
    activity = customer_activity(user, today)
    rate = yearly_retention(activity, today)
    multiplier = lifetime_multiplier(rate)
    starts = _period_starts(today, unit, periods)
    sales = _sales(user, unit, starts[0])
    flows = []
    for start, end in itertools.pairwise(starts):
        flow = PeriodFlow(start=start, end=end, label=_label(start, unit))
        row = sales.get(start)
        if row:
            flow.revenue = row["revenue"] or Decimal(0)
            flow.buying_customers = row["customers"]
            flow.purchases = row["purchases"]
        won = (activity.first_day >= start.toordinal()) & (activity.first_day < end.toordinal())
        lost = (activity.lost_day >= start.toordinal()) & (activity.lost_day < end.toordinal())
        at_start = activity.active_on(start - timedelta(days=1))
        at_end = activity.active_on(min(end - timedelta(days=1), today))
        flow.won = int(won.sum())
        flow.lost = int(lost.sum())
        flow.value_won = float(activity.first_year_value[won].sum()) * multiplier
        flow.value_lost = float(activity.last_year_value[lost].sum()) * multiplier
        flow.active_at_start = int(at_start.sum())
        flow.active_at_end = int(at_end.sum())
        flow.retained = int((at_start & at_end).sum())
        flows.append(flow)
    board, since = scorecard(user, activity, today, multiplier)
    return Retention(
        today=today,
        currency=default_currency(),
        unit=unit,
        yearly_retention=rate,
        lifetime_multiplier=multiplier,
        periods=flows,
        cohorts=cohorts(user, today, months),
        scorecard=board,
        customers=len(activity.customer_id),
        active=int(activity.active_on(today).sum()),
        value_since=since,
        products=product_sales(user, unit, starts, max(1, min(top_products, MAX_TOP_PRODUCTS))),
    )


def scorecard(
    user: Any, activity: Activity, today: date, multiplier: float
) -> tuple[list[ScorecardRow], date | None]:
    """Per account executive, over the last year: their portfolio's customers with
    purchases, how many are active, won and lost, the retention of those active a year
    ago, the lifetime value lost, what scoring expects of the portfolio (36-month
    value, customers at risk), and how that expected value and the customers at risk
    moved since the scores of about a year ago (`value_change`). One row per executive
    among the customers `user` sees; with the month compared with."""
    year_ago, now = (today - timedelta(days=365)).toordinal(), today.toordinal()
    owners, group = np.unique(activity.account_executive_id, return_inverse=True)

    def per_owner(values: Any) -> npt.NDArray[np.float64]:
        counted = np.bincount(group, np.asarray(values, dtype=np.float64), minlength=len(owners))
        return np.asarray(counted, dtype=np.float64)

    active_now, active_then = (
        activity.active_on(today),
        activity.active_on(today - timedelta(days=365)),
    )
    lost = (activity.lost_day > year_ago) & (activity.lost_day <= now)
    columns = {
        "customers": per_owner(np.ones(len(group))),
        "active": per_owner(active_now),
        "won": per_owner((activity.first_day > year_ago) & (activity.first_day <= now)),
        "lost": per_owner(lost),
        "active_a_year_ago": per_owner(active_then),
        "retained": per_owner(active_then & active_now),
        "value_lost": per_owner(np.where(lost, activity.last_year_value, 0.0)) * multiplier,
    }
    rows = {}
    for i, owner in enumerate(owners.tolist()):
        rows[owner] = ScorecardRow(
            user_id=owner or None,
            name="",
            customers=int(columns["customers"][i]),
            active=int(columns["active"][i]),
            won=int(columns["won"][i]),
            lost=int(columns["lost"][i]),
            active_a_year_ago=int(columns["active_a_year_ago"][i]),
            retained=int(columns["retained"][i]),
            value_lost=float(columns["value_lost"][i]),
        )
    expected = (
        CustomerValue.objects.filter(customer__in=Customer.objects.visible_to(user).values("pk"))
        .order_by()
        .values_list("customer__account_executive_id")
        .annotate(value=Sum("clv_36m"), at_risk=Count("pk", filter=Q(segment=Segment.AT_RISK)))
    )
    for owner, value, at_risk in expected:
        row = rows.setdefault(owner or 0, ScorecardRow(user_id=owner, name=""))
        row.expected_value = float(value or 0)
        row.at_risk = at_risk
    change = value_change(user, today)
    if change.since is not None:
        for row in rows.values():
            row.value_then = 0.0
        for owner, then in change.by_owner.items():
            row = rows.setdefault(owner or 0, ScorecardRow(user_id=owner, name=""))
            row.value_then = then.value
            row.at_risk_then = then.at_risk
            row.recovered = then.recovered
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in rows if k])}
    for owner, row in rows.items():
        row.name = names.get(owner, "")
    board = sorted(rows.values(), key=lambda r: (r.user_id is None, -r.expected_value, r.name))
    return board, change.since
