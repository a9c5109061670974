"""Customer histories: the (frequency, recency, T) summary the models are fitted on.

`summarize_transactions` builds the summary from dated purchases, following
the conventions of Fader, Hardie & Lee (2005) and of the Lifetimes package's
`summary_data_from_transaction_data`: purchases on the same day count once,
`frequency` is the number of purchase days after the first, `recency` the time
from the first to the last purchase day, `T` the time from the first purchase
to the end of the calibration period, and `monetary_value` the mean amount of
the repeat purchase days (0 for a customer without repeat purchases).

`compress` merges customers with identical histories into weighted rows.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NamedTuple

import numpy as np

from .estimation import ArrayLike, FloatArray, as_float_array, unique_rows

_DAYS_PER_PERIOD = {"day": 1.0, "week": 7.0}


class CompressedHistories(NamedTuple):
    """Distinct histories and how many customers share each one."""

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    weights: FloatArray
    monetary_value: FloatArray | None


class TransactionSummary(NamedTuple):
    """One entry per customer, in the order of each customer's first row."""

    customer_id: list[Hashable]
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray


def as_histories(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The three columns as float arrays, for predictions (which may extrapolate freely)."""
    return (
        as_float_array(frequency, "frequency"),
        as_float_array(recency, "recency"),
        as_float_array(T, "T"),
    )


def validated_histories(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Return the histories as float arrays; raise ValueError on impossible ones."""
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    age = as_float_array(T, "T")
    w = np.ones_like(x) if weights is None else as_float_array(weights, "weights")
    if not len(x) == len(t_x) == len(age) == len(w):
        raise ValueError("frequency, recency, T and weights must have the same length")
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(w < 0):
        raise ValueError("frequency, recency and weights must not be negative")
    if np.any(t_x > age):
        raise ValueError("recency must not exceed T (the customer's age)")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("a customer without repeat purchases must have recency 0")
    return x, t_x, age, w


def compress(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike | None = None,
    weights: ArrayLike | None = None,
) -> CompressedHistories:
    """Merge customers with identical (frequency, recency, T[, monetary_value]).

    `weights` (default 1 per row) are summed over merged rows, so compressing
    already-compressed data changes nothing.
    """
    x, t_x, age, w = validated_histories(frequency, recency, T, weights)
    if monetary_value is None:
        (x, t_x, age), w = unique_rows((x, t_x, age), w)
        return CompressedHistories(x, t_x, age, w, None)
    spend = as_float_array(monetary_value, "monetary_value")
    if len(spend) != len(x):
        raise ValueError("monetary_value must have one entry per customer")
    (x, t_x, age, spend), w = unique_rows((x, t_x, age, spend), w)
    return CompressedHistories(x, t_x, age, w, spend)


# From this many distinct histories on, a fit first fits a coarsened copy (`coarsened`).
COARSE_FIT_MIN_HISTORIES = 20_000
# The coarse copy's time grid: this many steps from 0 to the longest T. With 32, a
# three-year history (steps of five weeks) moved the coarse optimum and curvature too
# far for the refinement: 70 evaluations instead of 5.
COARSE_GRID_STEPS = 64


def coarsened(histories: CompressedHistories) -> CompressedHistories | None:
    """The same customers with recency and T rounded to a grid of 1/64 of the longest T.

    Merged, that is typically four to ten times fewer distinct histories, whose
    fit lands close to the full data's optimum with a curvature close to theirs: a
    cheap start for the full fit (`estimation.maximise_likelihood`). None when there
    are too few histories for that to pay, or rounding would not merge enough of them
    (the coarse fit and its curvature cost about 28 evaluations of the coarse rows,
    and save about 15 of the full ones).
    Rounding keeps recency <= T and recency 0 for customers without repeat purchases.
    """
    if len(histories.weights) < COARSE_FIT_MIN_HISTORIES:
        return None
    step = float(histories.T.max()) / COARSE_GRID_STEPS
    if step <= 0:
        return None
    columns = (
        histories.frequency,
        np.round(histories.recency / step) * step,
        np.round(histories.T / step) * step,
    )
    (x, t_x, age), weights = unique_rows(columns, histories.weights)
    if len(weights) > len(histories.weights) // 3:
        return None
    return CompressedHistories(x, t_x, age, weights, None)


def summarize_transactions(
    rows: Iterable[tuple[Hashable, date, float | Decimal]],
    calibration_end: date,
    period: Literal["week", "day"] = "week",
) -> TransactionSummary:
    """Summarise (customer_id, date, amount) rows up to and including `calibration_end`.

    Dates may be `date` or `datetime` (a datetime counts on its own calendar
    day, so convert aware datetimes to the local zone first). Purchases after
    `calibration_end` are ignored; customers whose first purchase is after it
    are left out. Raises ValueError for an unknown `period`.
    """
    if period not in _DAYS_PER_PERIOD:
        raise ValueError(f"period must be 'week' or 'day', not {period!r}")
    days_per_period = _DAYS_PER_PERIOD[period]
    end = calibration_end.date() if isinstance(calibration_end, datetime) else calibration_end

    spend_by_day: dict[Hashable, dict[date, float]] = {}
    for customer_id, when, amount in rows:
        day = when.date() if isinstance(when, datetime) else when
        if day > end:
            continue
        days = spend_by_day.setdefault(customer_id, {})
        days[day] = days.get(day, 0.0) + float(amount)

    count = len(spend_by_day)
    frequency, recency, age, monetary = (np.zeros(count) for _ in range(4))
    for index, days in enumerate(spend_by_day.values()):
        purchase_days = sorted(days)
        first, last = purchase_days[0], purchase_days[-1]
        frequency[index] = len(purchase_days) - 1
        recency[index] = (last - first).days / days_per_period
        age[index] = (end - first).days / days_per_period
        if len(purchase_days) > 1:
            monetary[index] = sum(days[day] for day in purchase_days[1:]) / (len(purchase_days) - 1)
    return TransactionSummary(list(spend_by_day), frequency, recency, age, monetary)
