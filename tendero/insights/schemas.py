"""Insights: the shapes of the API's lifetime-value answers."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from tendero.insights.models import Segment


class CustomerValueOut(Schema):
    customer_id: int
    p_alive: float = Field(description="Probability the customer is still buying (0 to 1).")
    expected_purchases_90d: float = Field(description="Purchase days expected in the next 90 days.")
    clv_12m: Decimal = Field(
        description="Expected value of the next 12 months, discounted (a string in JSON, exact)."
    )
    clv_36m: Decimal = Field(description="Expected value of the next 36 months, discounted.")
    currency: str
    segment: Segment
    frequency: int = Field(description="Repeat purchase days up to the calibration end.")
    recency: float = Field(description="First to last purchase day, in the run's period unit.")
    T: float = Field(description="First purchase day to the calibration end, in the period unit.")
    monetary_value: Decimal = Field(description="Average spend of the repeat purchase days.")
    period: str = Field(description="The period unit of recency and T: week or day.")
    calibration_end: date
    scored_at: datetime
    model_run_id: int


class ModelRunOut(Schema):
    id: int
    trigger: str
    status: str
    message: str
    started_at: datetime
    finished_at: datetime | None
    calibration_end: date
    period: str
    transaction_model: str
    spend_model: str
    currency: str
    params: dict[str, Any]
    transaction_log_likelihood: float | None
    spend_log_likelihood: float | None
    n_customers: int
    n_histories: int
    aggregate_seconds: float | None
    fit_seconds: float | None
    predict_seconds: float | None
    write_seconds: float | None
    total_seconds: float | None


class ModelRunList(Schema):
    items: list[ModelRunOut]
