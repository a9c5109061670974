"""Scores for every customer from their purchase histories, as arrays.

No database here: `tendero.insights.pipeline` aggregates the histories in the
database and writes the scores back. Everything is vectorised over customers;
the models are fitted on distinct histories, and their special functions are
evaluated once per distinct (frequency, T) (see
`tendero.insights.forecasting.discounted_purchases`), so a million customers
cost little more than the few hundred thousand distinct histories they have.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tendero.insights.clv import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from tendero.insights.clv.estimation import FloatArray
from tendero.insights.forecasting import (
    DAYS_PER_PERIOD,
    discounted_purchases,
    distinct_rows,
    expected_purchases,
    fit_spend_model,
    fit_transaction_model,
)
from tendero.insights.models import Segment

DAYS_PER_MONTH = 365.25 / 12
# Future spend is discounted by 1 % a month (about 12.7 % a year), the Lifetimes default.
DISCOUNT_RATE_PER_MONTH = 0.01

# The segment rule (segment_of), in order:
NEW_WITHIN_DAYS = 90  # first purchase less than this long ago: too early to judge
LOST_BELOW_P_ALIVE = 0.2  # very probably no longer buying
ONE_TIMER_LOST_AFTER_DAYS = 365  # a single purchase this long ago or more
ALIVE_FROM_P_ALIVE = 0.6  # likely still buying
HIGH_VALUE_SHARE = 0.2  # the top fifth of repeat buyers by expected 36-month value

SPEND_FIT_DIGITS = 3

# L2 penalties tried in turn until a fit converges with finite forecasts (see `score`).
PENALIZERS = (0.0, 0.001, 0.01)


@dataclass
class Histories:
    """Per customer: repeat purchase days, recency and age in days, mean repeat spend."""

    customer_id: npt.NDArray[np.int64]
    frequency: FloatArray
    recency_days: FloatArray
    age_days: FloatArray
    monetary_value: FloatArray

    def __len__(self) -> int:
        return len(self.customer_id)


@dataclass
class Scores:
    p_alive: FloatArray
    expected_purchases_90d: FloatArray
    clv_12m: FloatArray
    clv_36m: FloatArray
    segment: npt.NDArray[np.str_]
    n_histories: int
    transaction_model: BetaGeoFitter | ParetoNBDFitter
    spend_model: GammaGammaFitter
    high_value_cutoff: float
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)


def significant_digits(values: FloatArray, digits: int) -> FloatArray:
    """Positive values rounded to `digits` significant digits."""
    scale = 10.0 ** (digits - 1 - np.floor(np.log10(values)))
    return np.asarray(np.round(values * scale) / scale, dtype=np.float64)


def segment_of(
    p_alive: FloatArray,
    clv_36m: FloatArray,
    frequency: FloatArray,
    age_days: FloatArray,
    high_value_cutoff: float,
) -> npt.NDArray[np.str_]:
    """The segment of each customer; the first rule that applies wins:

    1. new: first purchase less than NEW_WITHIN_DAYS (90) days ago.
    2. lost: P(alive) below LOST_BELOW_P_ALIVE (0.2).
    3. one purchase only (BG/NBD gives them P(alive) 1, so it cannot judge them):
       lost if it was ONE_TIMER_LOST_AFTER_DAYS (365) days ago or more, else hibernating.
    4. high value (36-month value at least `high_value_cutoff`, the top
       HIGH_VALUE_SHARE (20 %) of repeat buyers): champion when P(alive) is at
       least ALIVE_FROM_P_ALIVE (0.6), at risk below it.
    5. loyal: P(alive) at least 0.6.
    6. hibernating: the rest (P(alive) between 0.2 and 0.6).
    """
    high = (clv_36m >= high_value_cutoff) & (clv_36m > 0)
    likely_alive = p_alive >= ALIVE_FROM_P_ALIVE
    one_timer = frequency == 0
    conditions = [
        age_days < NEW_WITHIN_DAYS,
        p_alive < LOST_BELOW_P_ALIVE,
        one_timer & (age_days >= ONE_TIMER_LOST_AFTER_DAYS),
        one_timer,
        high & likely_alive,
        high,
        likely_alive,
    ]
    choices = [
        Segment.NEW.value,
        Segment.LOST.value,
        Segment.LOST.value,
        Segment.HIBERNATING.value,
        Segment.CHAMPION.value,
        Segment.AT_RISK.value,
        Segment.LOYAL.value,
    ]
    return np.asarray(np.select(conditions, choices, default=Segment.HIBERNATING.value))


def high_value_cutoff(clv_36m: FloatArray, frequency: FloatArray) -> float:
    """The 36-month value from which a repeat buyer is in the top HIGH_VALUE_SHARE."""
    repeat = clv_36m[frequency > 0]
    if len(repeat) == 0:
        return float("inf")
    return float(np.quantile(repeat, 1 - HIGH_VALUE_SHARE))


def score(histories: Histories, period: str = "week", model_name: str = "bg-nbd") -> Scores:
    """Fit the transaction model and Gamma-Gamma, and score every customer.

    Raises ValueError when a model cannot be fitted (e.g. nobody bought twice).
    """
    days_per_period = DAYS_PER_PERIOD[period]
    x = histories.frequency
    t_x = histories.recency_days / days_per_period
    age = histories.age_days / days_per_period
    (distinct_x, distinct_t_x, distinct_age), weights, inverse = distinct_rows(x, t_x, age)
    repeat = (x > 0) & (histories.monetary_value > 0)
    if not repeat.any():
        raise ValueError("nobody has a repeat purchase with a positive amount: no spend model")
    month = DAYS_PER_MONTH / days_per_period
    fit_seconds = predict_seconds = 0.0

    # A plain maximum-likelihood fit first; on data too small or too regular to identify
    # the model (it runs off to the edge of the parameter space, or its forecasts are not
    # finite) a gently penalised one, as the Lifetimes package recommends.
    for penalizer in PENALIZERS:
        started = time.perf_counter()
        fitted_model = fit_transaction_model(
            model_name, distinct_x, distinct_t_x, distinct_age, weights, penalizer
        )
        assert isinstance(fitted_model, BetaGeoFitter | ParetoNBDFitter)
        transactions: BetaGeoFitter | ParetoNBDFitter = fitted_model
        fitted = time.perf_counter()
        fit_seconds += fitted - started
        with np.errstate(all="ignore"):
            alive = transactions.probability_alive(distinct_x, distinct_t_x, distinct_age)
            purchases_90d = expected_purchases(
                transactions, 90 / days_per_period, distinct_x, distinct_t_x, distinct_age
            )
            value_12, value_36 = discounted_purchases(
                transactions,
                distinct_x,
                distinct_t_x,
                distinct_age,
                step_length=month,
                horizons=(12, 36),
                discount_rate=DISCOUNT_RATE_PER_MONTH,
            )
        predict_seconds += time.perf_counter() - fitted
        forecasts_finite = all(
            np.isfinite(values).all() for values in (alive, purchases_90d, value_12, value_36)
        )
        if forecasts_finite and transactions.converged:
            break
    if not forecasts_finite:
        raise ValueError(
            f"the {model_name} model cannot be fitted reliably to so little or so regular data"
        )
    transaction_penalizer = penalizer

    started = time.perf_counter()
    # Mean spends to 3 significant digits for the fit only: a thousand customers then
    # share each distinct (frequency, spend), which makes the fit several times faster
    # and moves its parameters by about 1e-4 of their values.
    spend_for_fitting = significant_digits(histories.monetary_value[repeat], SPEND_FIT_DIGITS)
    for penalizer in PENALIZERS:
        spend_model = fit_spend_model(x[repeat], spend_for_fitting, None, penalizer)
        # Its expected spend needs q > 1 (a finite population mean).
        if spend_model.params["q"] > 1 and spend_model.converged:
            break
    if not spend_model.params["q"] > 1:
        raise ValueError("the spend model cannot be fitted reliably to so few repeat buyers")
    spend_penalizer = penalizer
    fitted = time.perf_counter()
    fit_seconds += fitted - started

    alive, purchases_90d = alive[inverse], purchases_90d[inverse]
    value_12, value_36 = value_12[inverse], value_36[inverse]
    spend = spend_model.conditional_expected_average_spend(x, histories.monetary_value)
    clv_12m = spend * value_12
    clv_36m = spend * value_36
    cutoff = high_value_cutoff(clv_36m, x)
    segments = segment_of(alive, clv_36m, x, histories.age_days, cutoff)
    predict_seconds += time.perf_counter() - fitted
    return Scores(
        p_alive=alive,
        expected_purchases_90d=purchases_90d,
        clv_12m=clv_12m,
        clv_36m=clv_36m,
        segment=segments,
        n_histories=len(weights),
        transaction_model=transactions,
        spend_model=spend_model,
        high_value_cutoff=cutoff,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
        params={
            "transaction": transactions.params,
            "spend": spend_model.params,
            "standard_errors": {
                "transaction": _finite(transactions.standard_errors),
                "spend": _finite(spend_model.standard_errors),
            },
            "converged": {
                "transaction": transactions.converged,
                "spend": spend_model.converged,
            },
            "penalizer": {"transaction": transaction_penalizer, "spend": spend_penalizer},
            "discount_rate_per_month": DISCOUNT_RATE_PER_MONTH,
            "thresholds": {
                "high_value_clv_36m": cutoff if np.isfinite(cutoff) else None,
                "new_within_days": NEW_WITHIN_DAYS,
                "lost_below_p_alive": LOST_BELOW_P_ALIVE,
                "one_timer_lost_after_days": ONE_TIMER_LOST_AFTER_DAYS,
                "alive_from_p_alive": ALIVE_FROM_P_ALIVE,
                "high_value_share": HIGH_VALUE_SHARE,
            },
        },
    )


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    return {key: (value if np.isfinite(value) else None) for key, value in values.items()}
