"""Scores written by hand for tests that need them without fitting a model."""

from datetime import date
from decimal import Decimal

from django.utils import timezone

from tendero.customers.models import Customer
from tendero.insights.models import CustomerValue, ModelRun, ValueSnapshot


def scoring_run(calibration_end: date) -> ModelRun:
    return ModelRun.objects.create(
        trigger="command",
        status="succeeded",
        started_at=timezone.now(),
        calibration_end=calibration_end,
        period="week",
        transaction_model="bg-nbd",
        currency="EUR",
    )


def scored(
    customer: Customer, run: ModelRun, clv_36m: str, segment: str, p_alive: float = 0.5
) -> CustomerValue:
    """`customer`'s current scores: a 36-month value and a segment (the rest plausible)."""
    return CustomerValue.objects.create(
        customer=customer,
        model_run=run,
        scored_at=timezone.now(),
        p_alive=p_alive,
        expected_purchases_90d=1.0,
        clv_12m=Decimal(clv_36m) / 3,
        clv_36m=Decimal(clv_36m),
        currency="EUR",
        frequency=2,
        recency=10.0,
        T=20.0,
        monetary_value=Decimal("10"),
        segment=segment,
    )


def snapshot(
    customer: Customer, run: ModelRun, month: date, clv_36m: str, segment: str
) -> ValueSnapshot:
    """`customer`'s scores as kept for `month`."""
    return ValueSnapshot.objects.create(
        month=month,
        customer=customer,
        model_run=run,
        p_alive=0.5,
        clv_36m=Decimal(clv_36m),
        segment=segment,
    )
