"""Holdout validation of a transaction model: fit on a calibration period, forecast
the holdout period, compare with what the customers really did.

As in Fader, Hardie & Lee (2005): the repeat purchases each customer made in
the holdout against the model's conditional expectation, overall and by
calibration frequency, and a tracking chart of cumulative repeat purchases,
period by period, actual against the model's forecast for the whole cohort.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from tendero.insights.clv import BetaGeoFitter, ParetoNBDFitter, summarize_transactions
from tendero.insights.clv.estimation import FloatArray
from tendero.insights.forecasting import DAYS_PER_PERIOD, Period, fit_transaction_model

# Frequency buckets of the report: 0, 1, ..., 6 and "7+".
LAST_BUCKET = 7


@dataclass
class BucketRow:
    label: str
    customers: int
    actual: float
    predicted: float


@dataclass
class Validation:
    model_name: str
    model: BetaGeoFitter | ParetoNBDFitter
    holdout_periods: float
    buckets: list[BucketRow]
    overall: BucketRow
    period_labels: list[str]
    actual_cumulative: list[float]
    predicted_cumulative: list[float]
    calibration_periods: int


def validate(
    purchases: Sequence[tuple[Hashable, date, float | Decimal]],
    calibration_end: date,
    holdout_end: date,
    period: Period,
    model_name: str = "bg-nbd",
) -> Validation:
    """Fit on purchases up to `calibration_end`, compare the forecast of
    (calibration_end, holdout_end] with the purchases made then.

    Raises ValueError when the dates are out of order or the model cannot be fitted.
    """
    if holdout_end <= calibration_end:
        raise ValueError("the holdout must end after the calibration end")
    days_per_period = DAYS_PER_PERIOD[period]
    summary = summarize_transactions(purchases, calibration_end, period)
    if not summary.customer_id:
        raise ValueError("nobody bought before the calibration end")
    model = fit_transaction_model(model_name, summary.frequency, summary.recency, summary.T)
    assert isinstance(model, BetaGeoFitter | ParetoNBDFitter)
    holdout_periods = (holdout_end - calibration_end).days / days_per_period

    # Purchase days per customer (same-day purchases count once).
    days_by_customer: dict[Hashable, set[date]] = {}
    for customer, day, _amount in purchases:
        if day <= holdout_end:
            days_by_customer.setdefault(customer, set()).add(day)
    actual = np.array(
        [
            sum(1 for day in days_by_customer[customer] if day > calibration_end)
            for customer in summary.customer_id
        ],
        dtype=np.float64,
    )
    predicted = model.conditional_expected_purchases(
        holdout_periods, summary.frequency, summary.recency, summary.T
    )
    buckets = []
    bucket_of = np.minimum(summary.frequency, LAST_BUCKET)
    for bucket in range(LAST_BUCKET + 1):
        members = bucket_of == bucket
        label = f"{bucket}+" if bucket == LAST_BUCKET else str(bucket)
        buckets.append(_row(label, members, actual, predicted))
    overall = _row("all", np.ones(len(actual), dtype=bool), actual, predicted)

    labels, actual_cumulative, predicted_cumulative = _tracking(
        model, summary.customer_id, days_by_customer, calibration_end, holdout_end, days_per_period
    )
    calibration_periods = sum(1 for label in labels if date.fromisoformat(label) <= calibration_end)
    return Validation(
        model_name,
        model,
        holdout_periods,
        buckets,
        overall,
        labels,
        actual_cumulative,
        predicted_cumulative,
        calibration_periods,
    )


def _row(label: str, members: np.ndarray, actual: FloatArray, predicted: FloatArray) -> BucketRow:
    count = int(members.sum())
    if count == 0:
        return BucketRow(label, 0, math.nan, math.nan)
    return BucketRow(label, count, float(actual[members].mean()), float(predicted[members].mean()))


def _tracking(
    model: BetaGeoFitter | ParetoNBDFitter,
    customers: Sequence[Hashable],
    days_by_customer: dict[Hashable, set[date]],
    calibration_end: date,
    holdout_end: date,
    days_per_period: int,
) -> tuple[list[str], list[float], list[float]]:
    """Cumulative repeat purchases at the end of each period from the first
    purchase day to `holdout_end`, actual and expected (sum over the cohort of
    E[X(t - first purchase)]), labelled by each period's last day."""
    firsts = [min(days_by_customer[customer]) for customer in customers]
    start = min(firsts)
    total_days = (holdout_end - start).days + 1
    count = math.ceil(total_days / days_per_period)
    ends = [start + timedelta(days=days_per_period * (k + 1) - 1) for k in range(count)]
    ends[-1] = min(ends[-1], holdout_end)

    repeat_day_offsets: list[int] = []
    for customer, first in zip(customers, firsts, strict=True):
        repeat_day_offsets.extend(
            (day - start).days for day in days_by_customer[customer] if day > first
        )
    offsets = np.sort(np.array(repeat_day_offsets, dtype=np.int64))
    end_offsets = np.array([(end - start).days for end in ends], dtype=np.int64)
    actual = np.searchsorted(offsets, end_offsets, side="right").astype(np.float64)

    # E[X(t)] for each cohort of first-purchase days, at the end of each period.
    first_offsets, cohort_sizes = np.unique(
        np.array([(first - start).days for first in firsts], dtype=np.int64), return_counts=True
    )
    predicted = np.zeros(len(ends))
    for first, size in zip(first_offsets, cohort_sizes, strict=True):
        # Time from the first purchase day to each period's last day, as T is measured.
        elapsed = (end_offsets - first) / days_per_period
        alive = elapsed > 0
        if alive.any():
            predicted[alive] += size * model.expected_purchases(elapsed[alive])
    return [end.isoformat() for end in ends], actual.tolist(), predicted.tolist()


def tracking_chart_svg(result: Validation, title: str) -> bytes:
    """The tracking chart as a standalone SVG document (pygal)."""
    import pygal

    chart = pygal.Line(
        title=title,
        x_title="",
        y_title="Cumulative repeat purchases",
        show_dots=False,
        x_label_rotation=30,
        show_minor_x_labels=False,
        width=900,
        height=450,
        disable_xml_declaration=False,
    )
    chart.x_labels = result.period_labels
    step = max(1, len(result.period_labels) // 12)
    chart.x_labels_major = result.period_labels[::step]
    chart.add("Actual", result.actual_cumulative)
    chart.add(f"Predicted ({result.model_name})", result.predicted_cumulative)
    rendered = chart.render()
    return rendered if isinstance(rendered, bytes) else str(rendered).encode()
