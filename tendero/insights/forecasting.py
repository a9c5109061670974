"""Fitting and forecasting with the lifetime-value models by their command-line names.

Shared by `tendero clv` (files) and the scoring pipeline (the database).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tendero.insights.clv import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from tendero.insights.clv.estimation import ArrayLike, FloatArray, LikelihoodModel

TransactionFitter = BetaGeoFitter | ParetoNBDFitter | BetaGeoBetaBinomFitter
TRANSACTION_MODELS: dict[str, type[TransactionFitter]] = {
    "bg-nbd": BetaGeoFitter,
    "mbg-nbd": ModifiedBetaGeoFitter,
    "pareto-nbd": ParetoNBDFitter,
    "bg-bb": BetaGeoBetaBinomFitter,
}
SPEND_MODELS = {"gamma-gamma": GammaGammaFitter}
ALL_MODELS = [*TRANSACTION_MODELS, *SPEND_MODELS]
# Continuous-time models, whose recency and T may be fractions of a period.
CONTINUOUS_MODELS = ["bg-nbd", "mbg-nbd", "pareto-nbd"]
Period = Literal["week", "day"]
DAYS_PER_PERIOD: dict[str, int] = {"week": 7, "day": 1}


def fit_transaction_model(
    name: str,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> TransactionFitter:
    """The named transaction model fitted to the histories; ValueError on bad data."""
    model = TRANSACTION_MODELS[name](penalizer_coef=penalizer)
    return model.fit(frequency, recency, T, weights)


def fit_spend_model(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> GammaGammaFitter:
    """Gamma-Gamma fitted to the repeat buyers; ValueError when there are none."""
    return GammaGammaFitter(penalizer_coef=penalizer).fit(frequency, monetary_value, weights)


def fit_report(name: str, model: LikelihoodModel[Any]) -> dict[str, Any]:
    """The `tendero clv fit --json` object of a fitted model."""
    return {
        "model": name,
        "params": model.params,
        "log_likelihood": model.log_likelihood,
        "n_customers": int(model.n_customers)
        if float(model.n_customers).is_integer()
        else model.n_customers,
        "standard_errors": {
            key: (None if np.isnan(value) else value)
            for key, value in model.standard_errors.items()
        },
        "converged": model.converged,
        "iterations": model.iterations,
    }


def distinct_rows(
    *columns: FloatArray,
) -> tuple[list[FloatArray], FloatArray, npt.NDArray[np.intp]]:
    """The distinct rows of the columns, how many times each occurs, and for each
    input row the index of its distinct row."""
    order = np.lexsort(tuple(reversed(columns)))
    ordered = [column[order] for column in columns]
    starts = np.zeros(len(order), dtype=bool)
    if len(order):
        starts[0] = True
    for column in ordered:
        starts[1:] |= column[1:] != column[:-1]
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = group
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, len(order))).astype(np.float64)
    return [column[first] for column in ordered], counts, inverse


def discounted_purchases(
    model: BetaGeoFitter | ParetoNBDFitter,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
    *,
    step_length: float,
    horizons: tuple[int, ...],
    discount_rate: float,
) -> list[FloatArray]:
    """Per customer and horizon (in steps): sum over steps i of the purchases
    expected in step i, discounted by (1 + discount_rate)^i.

    Times that by the Gamma-Gamma expected spend and it is
    `GammaGammaFitter.customer_lifetime_value` (the same sum, spend factored
    out). Cheap on a million customers because these models' forecasts factor
    into P(alive | x, t_x, T) times the purchases expected *if alive*, which
    depend on (x, T) alone: the special functions are evaluated once per
    distinct (x, T), with recency = T, where P(alive) is bounded away from 0
    (1 for Pareto/NBD and for x = 0), and rescaled by each customer's P(alive).
    """
    (x, age), _counts, inverse = distinct_rows(frequency, T)
    alive_at_end = model.probability_alive(x, age, age)
    totals = {horizon: np.zeros(len(x)) for horizon in horizons}
    value = np.zeros(len(x))
    before = np.zeros(len(x))
    for step in range(1, max(horizons) + 1):
        purchased = model.conditional_expected_purchases(step * step_length, x, age, age)
        value += (purchased - before) / (1 + discount_rate) ** step
        before = purchased
        if step in totals:
            totals[step] = value.copy()
    alive = model.probability_alive(frequency, recency, T)
    return [totals[horizon][inverse] / alive_at_end[inverse] * alive for horizon in horizons]


def expected_purchases(
    model: BetaGeoFitter | ParetoNBDFitter,
    t: float,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
) -> FloatArray:
    """E[purchases in the next t | history], computed once per distinct (x, T) as above."""
    (x, age), _counts, inverse = distinct_rows(frequency, T)
    if_alive = model.conditional_expected_purchases(t, x, age, age) / model.probability_alive(
        x, age, age
    )
    return np.asarray(if_alive[inverse] * model.probability_alive(frequency, recency, T))
