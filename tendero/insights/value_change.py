"""How each portfolio's expected value moved over about a year, customer by customer.

The scorecard asks two questions of the account executives' portfolios as they
are today: what were these same customers expected to be worth a year ago, and
how many of those who were at risk then are buying again now (champion or
loyal)? Both compare today's `CustomerValue` with the `ValueSnapshot` of the
month a year back (or the oldest one kept, when scoring started less than a year
ago). Comparing the same customers means a customer handed from one executive to
another moves their value with them: the change measures what happened to the
relationships, not the reassignments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from tendero.customers.models import Customer
from tendero.insights.models import (
    CustomerValue,
    ModelRun,
    PortfolioValue,
    Segment,
    ValueSnapshot,
    month_start,
)

# Where a customer at risk has come back to.
RECOVERED_SEGMENTS = (Segment.CHAMPION, Segment.LOYAL)


@dataclass
class PortfolioThen:
    """One account executive's current customers as scored in the compared month."""

    value: float = 0.0
    at_risk: int = 0
    recovered: int = 0


@dataclass
class ValueChange:
    """The compared month (None: no snapshot older than this month yet) and, per
    account executive id (None: no account executive), their portfolio then."""

    since: date | None
    by_owner: dict[int | None, PortfolioThen] = field(default_factory=dict)


def compared_month(today: date) -> date | None:
    """The snapshot month a year before `today`'s, or the oldest kept if scoring is
    younger than that; None when the only snapshot is this month's (or none)."""
    year_ago = month_start(today, 12)
    months = ValueSnapshot.objects.filter(month__lt=month_start(today)).order_by("month")
    on_or_before = (
        months.filter(month__lte=year_ago).order_by("-month").values_list("month", flat=True)
    )
    month: date | None = on_or_before.first() or months.values_list("month", flat=True).first()
    return month


def value_change(customers: QuerySet[Customer], today: date) -> ValueChange:
    """Per account executive, over `customers`: their 36-month value and how many were
    at risk in the compared month, and how many of those are champions or loyal now.
    Two grouped queries."""
    month = compared_month(today)
    result = ValueChange(since=month)
    if month is None:
        return result
    visible = customers.values("pk")
    then = (
        ValueSnapshot.objects.filter(month=month, customer__in=visible)
        .order_by()
        .values_list("customer__account_executive_id")
        .annotate(value=Sum("clv_36m"), at_risk=Count("pk", filter=Q(segment=Segment.AT_RISK)))
    )
    for owner, value, at_risk in then:
        result.by_owner[owner] = PortfolioThen(value=float(value or 0), at_risk=at_risk)
    recovered = (
        CustomerValue.objects.filter(
            customer__in=visible,
            segment__in=RECOVERED_SEGMENTS,
            customer__value_snapshots__month=month,
            customer__value_snapshots__segment=Segment.AT_RISK,
        )
        .order_by()
        .values_list("customer__account_executive_id")
        .annotate(count=Count("pk"))
    )
    for owner, count in recovered:
        result.by_owner.setdefault(owner, PortfolioThen()).recovered = count
    return result


def write_portfolio_values(run: ModelRun) -> int:
    """Replace the scorecard's per-executive lifetime-value figures with `run`'s: the
    36-month value and customers at risk of each portfolio, and their change since the
    compared month (`value_change` over every customer). Three grouped queries and a
    handful of rows; call it inside the scores' write transaction. Returns the rows."""
    today = run.calibration_end
    expected = (
        CustomerValue.objects.order_by()
        .values_list("customer__account_executive_id")
        .annotate(
            customers=Count("pk"),
            value=Sum("clv_36m"),
            at_risk=Count("pk", filter=Q(segment=Segment.AT_RISK)),
        )
    )
    change = value_change(Customer.objects.all(), today)
    rows: dict[int | None, PortfolioValue] = {}
    for owner, customers, value, at_risk in expected:
        rows[owner] = PortfolioValue(
            model_run=run,
            account_executive_id=owner,
            customers=customers,
            expected_value=value or Decimal(0),
            at_risk=at_risk,
            since=change.since,
            value_then=Decimal(0) if change.since else None,
        )
    for owner, then in change.by_owner.items():
        row = rows.setdefault(
            owner,
            PortfolioValue(
                model_run=run,
                account_executive_id=owner,
                customers=0,
                expected_value=Decimal(0),
                at_risk=0,
                since=change.since,
            ),
        )
        row.value_then = Decimal(str(round(then.value, 2)))
        row.at_risk_then = then.at_risk
        row.recovered = then.recovered
    PortfolioValue.objects.all().delete()
    PortfolioValue.objects.bulk_create(rows.values())
    return len(rows)
