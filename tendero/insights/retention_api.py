"""/api/v1/insights/retention: the Insights page's figures, for the customers the
caller may see (definitions in tendero.insights.retention)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tendero.accounts.api import request_user
from tendero.core.schemas import ErrorOut
from tendero.core.services import require_to_see
from tendero.insights.refresh import LAPSE_DAYS
from tendero.insights.retention import (
    DISCOUNT_RATE,
    MAX_COHORTS,
    MAX_PERIODS,
    MAX_TOP_PRODUCTS,
    TOP_PRODUCTS,
    ProductSales,
    retention,
)

router = Router(tags=["Insights"])


class RetentionParams(Schema):
    unit: Literal["quarter", "month"] = Field("quarter", description="Length of a period.")
    periods: int = Field(8, ge=1, le=MAX_PERIODS, description="How many periods, up to now.")
    months: int = Field(12, ge=1, le=MAX_COHORTS, description="Monthly cohorts shown.")
    top_products: int = Field(
        TOP_PRODUCTS,
        ge=1,
        le=MAX_TOP_PRODUCTS,
        description="How many of the best-selling products (by revenue over the periods) "
        "get a line of their own in `products`; the rest are summed as other products.",
    )


class PeriodOut(Schema):
    label: str
    start: date
    end: date = Field(description="The day after the period.")
    revenue: float = Field(description="Sales in the period (product-centric view).")
    buying_customers: int
    purchases: int
    active_at_start: int
    active_at_end: int
    won: int
    lost: int
    retained: int
    retention_rate: float | None
    churn_rate: float | None
    value_won: float = Field(description="Lifetime value of the customers won.")
    value_lost: float = Field(description="Lifetime value of the customers lost.")


class ProductSalesOut(Schema):
    kind: Literal["product", "other", "none"] = Field(
        description="product: one of the best sellers; other: the other products "
        "together; none: the purchases that name no product."
    )
    name: str = Field(description='The product as purchases name it ("" for other and none).')
    products: int = Field(description="How many products the line sums (0 for none).")
    units: list[float] = Field(
        description="Units per period, in the order of `periods` (returns subtracted)."
    )
    revenue: list[float] = Field(description="Sales per period (refunds subtracted).")
    purchases: list[int] = Field(description="Purchases per period.")
    total_units: float
    total_revenue: float
    total_purchases: int


class CohortOut(Schema):
    month: str
    size: int
    retention: list[float | None] = Field(
        description="Share of the cohort buying in its first month (0), the next (1)..."
    )


class ScorecardOut(Schema):
    account_executive_id: int | None
    name: str
    customers: int
    active: int
    won: int
    lost: int
    active_a_year_ago: int
    retained: int
    retention_rate: float | None
    value_lost: float
    expected_value: float = Field(description="Sum of the scored 36-month lifetime values.")
    at_risk: int
    value_then: float | None = Field(
        description="The same customers' 36-month value as scored in `value_since`'s month "
        "(null when there is no earlier month to compare with)."
    )
    value_change: float | None = Field(description="expected_value - value_then.")
    at_risk_then: int = Field(description="Of these customers, how many were at risk then.")
    recovered: int = Field(
        description="Of those at risk then, how many are champions or loyal now."
    )


class RetentionOut(Schema):
    as_of: datetime | None = Field(
        description="When the figures were last worked out from the purchases ledger "
        "(nightly, or `tendero insights refresh`); purchases recorded since count from "
        "the next refresh, and the per-portfolio figures follow the portfolios as they "
        "were then. Null: never yet, and every figure is empty."
    )
    today: date
    currency: str
    unit: str
    lapse_days: int = Field(description="Days without a purchase after which one is lost.")
    discount_rate: float
    yearly_retention: float | None
    lifetime_multiplier: float = Field(description="Lifetime value of 1 of yearly value.")
    customers: int
    active: int
    periods: list[PeriodOut]
    top_products: int
    products: list[ProductSalesOut] = Field(
        description="Units and revenue by product per period (product-centric view): the "
        "best sellers by revenue, most first, then other products, then no product."
    )
    cohorts: list[CohortOut]
    value_since: date | None = Field(
        description="The month (its first day) of the scores the scorecard compares with: "
        "a year back, or the oldest kept."
    )
    scorecard: list[ScorecardOut]


@router.get(
    "/insights/retention",
    response={200: RetentionOut, 403: ErrorOut},
    summary="Retention, customers won and lost, sales by product, cohorts and scorecard",
)
def get_retention(request: HttpRequest, params: Query[RetentionParams]) -> dict[str, Any]:
    user = request_user(request)
    require_to_see(user, "customers.view_customer")
    result = retention(
        user,
        unit=params.unit,
        periods=params.periods,
        months=params.months,
        top_products=params.top_products,
    )
    return {
        "as_of": result.as_of,
        "today": result.today,
        "currency": result.currency,
        "unit": result.unit,
        "lapse_days": LAPSE_DAYS,
        "discount_rate": DISCOUNT_RATE,
        "yearly_retention": result.yearly_retention,
        "lifetime_multiplier": result.lifetime_multiplier,
        "customers": result.customers,
        "active": result.active,
        "periods": [
            {
                **asdict(flow),
                "revenue": float(flow.revenue),
                "retention_rate": flow.retention_rate,
                "churn_rate": flow.churn_rate,
            }
            for flow in result.periods
        ],
        "top_products": params.top_products,
        "products": [_product_line(line) for line in result.products],
        "cohorts": [asdict(cohort) for cohort in result.cohorts],
        "value_since": result.value_since,
        "scorecard": [
            {
                **asdict(row),
                "account_executive_id": row.user_id,
                "retention_rate": row.retention_rate,
                "value_change": row.value_change,
            }
            for row in result.scorecard
        ],
    }


def _product_line(line: ProductSales) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "name": line.name,
        "products": line.products,
        "units": [float(units) for units in line.units],
        "revenue": [float(revenue) for revenue in line.revenue],
        "purchases": line.purchases,
        "total_units": float(line.total_units),
        "total_revenue": float(line.total_revenue),
        "total_purchases": line.total_purchases,
    }
