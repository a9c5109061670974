"""Refreshing the Insights figures: the purchases ledger condensed into the tables of
`tendero.insights.retention_models`, which the Insights page and its API read.

Run nightly (`tendero.insights.tasks.refresh_insights`, 03:15) and by
`tendero insights refresh`; both call `refresh_retention`. Set-based SQL (INSERT ...
SELECT ... GROUP BY) that PostgreSQL and SQLite both run; the dates and months are the
local ones (settings.TIME_ZONE), truncated by the ORM, which knows each database's way.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, QuerySet, Sum
from django.db.models.fields import DateField
from django.db.models.functions import TruncDate, TruncMonth, TruncQuarter
from django.utils import timezone

from tendero.contracts.models import Purchase, default_currency
from tendero.customers.models import Customer
from tendero.insights.retention_models import (
    ActivityDay,
    CohortMonth,
    CustomerActivity,
    PeriodSales,
    ProductPeriodSales,
    RetentionRefresh,
)

LAPSE_DAYS = 365  # tendero.insights.retention.LAPSE_DAYS (imported from here)
# Two refreshes at once (the nightly task and the command) would both replace the
# tables: the second waits for the first on PostgreSQL (SQLite has one writer anyway).
_LOCK_KEY = 7_265_401


def _sql(queryset: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _customer_activity(purchases: QuerySet[Purchase]) -> None:
    """One row per customer: first and last purchase (moment and local day), the spend
    in the year from the first and in the year up to the last, the account executive."""
    spans_sql, spans_params = _sql(
        purchases.values("customer_id").annotate(
            first_at=Min("occurred_at"),
            last_at=Max("occurred_at"),
            first_day=TruncDate(Min("occurred_at")),
            last_day=TruncDate(Max("occurred_at")),
        )
    )
    rows_sql, rows_params = _sql(purchases.values("customer_id", "occurred_at", "amount"))
    if connection.vendor == "postgresql":
        first_end = f"s.first_at + interval '{LAPSE_DAYS} days'"
        last_start = f"s.last_at - interval '{LAPSE_DAYS} days'"
    else:  # SQLite keeps datetimes as ISO text, which its datetime() shifts
        first_end = f"datetime(s.first_at, '+{LAPSE_DAYS} days')"
        last_start = f"datetime(s.last_at, '-{LAPSE_DAYS} days')"
    _execute(
        f"""
        INSERT INTO {_table(CustomerActivity)} (customer_id, account_executive_id, first_at,
            last_at, first_day, last_day, first_year_value, last_year_value)
        SELECT s.customer_id, MAX(c.account_executive_id), MAX(s.first_at), MAX(s.last_at),
               MAX(s.first_day), MAX(s.last_day),
               SUM(CASE WHEN p.occurred_at < {first_end} THEN p.amount ELSE 0 END),
               SUM(CASE WHEN p.occurred_at > {last_start} THEN p.amount ELSE 0 END)
        FROM ({rows_sql}) p
        JOIN ({spans_sql}) s ON s.customer_id = p.customer_id
        JOIN {_table(Customer)} c ON c.id = s.customer_id
        GROUP BY s.customer_id
        """,  # noqa: S608 (compiled by the ORM; the values are parameters)
        [*rows_params, *spans_params],
    )


def _activity_days() -> None:
    """Per account executive and day: first purchases and last purchases, with values."""
    activity = _table(CustomerActivity)
    _execute(
        f"""
        INSERT INTO {_table(ActivityDay)} (account_executive_id, day, first_buyers,
            first_year_value, last_buyers, last_year_value)
        SELECT account_executive_id, day, SUM(first_buyers), SUM(first_year_value),
               SUM(last_buyers), SUM(last_year_value)
        FROM (
            SELECT account_executive_id, first_day AS day, 1 AS first_buyers,
                   first_year_value, 0 AS last_buyers, 0 AS last_year_value
            FROM {activity}
            UNION ALL
            SELECT account_executive_id, last_day, 0, 0, 1, last_year_value FROM {activity}
        ) ends
        GROUP BY account_executive_id, day
        """,  # noqa: S608 (table names from the models)
        [],
    )


def _cohort_months(purchases: QuerySet[Purchase]) -> None:
    """Per account executive, cohort (month of the first purchase) and month: how many
    of the cohort bought in that month."""
    active_sql, active_params = _sql(
        purchases.annotate(month=TruncMonth("occurred_at", output_field=DateField()))
        .values("customer_id", "month")
        .distinct()
    )
    cohorts_sql, cohorts_params = _sql(
        CustomerActivity.objects.order_by()
        .annotate(cohort=TruncMonth("first_day"))
        .values("customer_id", "account_executive_id", "cohort")
    )
    _execute(
        f"""
        INSERT INTO {_table(CohortMonth)} (account_executive_id, cohort, month, customers)
        SELECT w.account_executive_id, w.cohort, m.month, COUNT(*)
        FROM ({active_sql}) m JOIN ({cohorts_sql}) w ON w.customer_id = m.customer_id
        GROUP BY w.account_executive_id, w.cohort, m.month
        """,  # noqa: S608 (compiled by the ORM; the values are parameters)
        [*active_params, *cohorts_params],
    )


def _period_sales(purchases: QuerySet[Purchase]) -> None:
    """Per month and per quarter, and account executive: revenue, purchases and
    distinct buying customers (counted per quarter from the purchases: customers do
    not add up from months to quarters)."""
    for unit, trunc in (("month", TruncMonth), ("quarter", TruncQuarter)):
        cells_sql, cells_params = _sql(
            purchases.annotate(period=trunc("occurred_at", output_field=DateField()))
            .annotate(executive=F("customer__account_executive_id"))
            .values("period", "executive")
            .annotate(
                revenue=Sum("amount"),
                n_purchases=Count("id"),
                n_customers=Count("customer_id", distinct=True),
            )
        )
        _execute(
            f"""
            INSERT INTO {_table(PeriodSales)} (unit, start, account_executive_id, revenue,
                purchases, customers)
            SELECT %s, q.period, q.executive, q.revenue, q.n_purchases,
                   q.n_customers
            FROM ({cells_sql}) q
            """,  # noqa: S608 (compiled by the ORM; the values are parameters)
            [unit, *cells_params],
        )


def _product_sales(purchases: QuerySet[Purchase]) -> None:
    """Per month, account executive and product: units, revenue, purchases; then the
    quarters, summed from the months."""
    months_sql, months_params = _sql(
        purchases.annotate(period=TruncMonth("occurred_at", output_field=DateField()))
        .annotate(executive=F("customer__account_executive_id"))
        .values("period", "executive", "product")
        .annotate(units_sum=Sum("quantity"), revenue_sum=Sum("amount"), n_purchases=Count("id"))
    )
    columns = "unit, start, account_executive_id, product, units, revenue, purchases"
    table = _table(ProductPeriodSales)
    _execute(
        f"""
        INSERT INTO {table} ({columns})
        SELECT 'month', q.period, q.executive, q.product, q.units_sum,
               q.revenue_sum, q.n_purchases
        FROM ({months_sql}) q
        """,  # noqa: S608 (compiled by the ORM; the values are parameters)
        months_params,
    )
    quarters_sql, quarters_params = _sql(
        ProductPeriodSales.objects.filter(unit="month")
        .order_by()
        .annotate(period=TruncQuarter("start"))
        .annotate(executive=F("account_executive_id"))
        .values("period", "executive", "product")
        .annotate(units_sum=Sum("units"), revenue_sum=Sum("revenue"), n_purchases=Sum("purchases"))
    )
    _execute(
        f"""
        INSERT INTO {table} ({columns})
        SELECT 'quarter', q.period, q.executive, q.product, q.units_sum,
               q.revenue_sum, q.n_purchases
        FROM ({quarters_sql}) q
        """,  # noqa: S608 (compiled by the ORM; the values are parameters)
        quarters_params,
    )


def refresh_retention(trigger: str = RetentionRefresh.Trigger.COMMAND) -> RetentionRefresh:
    """Work out the Insights figures again from the purchases in the company's currency,
    replacing the previous ones in one transaction (readers see the old figures until
    it commits; running it twice gives the same figures). Records and returns the
    refresh. Raises ValueError for an unknown trigger; database errors propagate and
    leave the previous figures in place."""
    if trigger not in RetentionRefresh.Trigger.values:
        raise ValueError(f"trigger must be one of {', '.join(RetentionRefresh.Trigger.values)}")
    started_at = timezone.now()
    started = time.perf_counter()
    currency = default_currency()
    purchases = Purchase.objects.filter(currency=currency).order_by()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        # DELETE rather than TRUNCATE: readers keep seeing the previous figures
        # instead of waiting for the refresh to commit.
        for model in (
            ProductPeriodSales,
            PeriodSales,
            CohortMonth,
            ActivityDay,
            CustomerActivity,
        ):
            _execute(f"DELETE FROM {_table(model)}", [])  # noqa: S608 (a model's table)
        _customer_activity(purchases)
        _activity_days()
        _cohort_months(purchases)
        _period_sales(purchases)
        _product_sales(purchases)
        totals = PeriodSales.objects.filter(unit="month").aggregate(n=Sum("purchases"))
        return RetentionRefresh.objects.create(
            trigger=trigger,
            started_at=started_at,
            finished_at=timezone.now(),
            seconds=time.perf_counter() - started,
            currency=currency,
            customers=CustomerActivity.objects.count(),
            purchases=totals["n"] or 0,
        )
