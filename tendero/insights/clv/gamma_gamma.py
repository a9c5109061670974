"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader &
Hardie, "The Gamma-Gamma model of monetary value", 2013), and customer
lifetime value.

A customer's spend per transaction is Gamma(p, nu) with nu ~ Gamma(q, gamma),
independent of the transaction process. The parameters are p, q and gamma
(the literature's third parameter, which the Lifetimes package calls "v").
Only repeat buyers are informative: the model is fitted on customers with
frequency > 0 and the mean spend of their repeat purchases. The gradient is
analytic.
"""

from __future__ import annotations

import math
from typing import ClassVar, Protocol, Self

import numpy as np
from scipy.special import digamma, gammaln

from .estimation import ArrayLike, Columns, FloatArray, LikelihoodModel, as_float_array, unique_rows


class TransactionModel(Protocol):
    """What `customer_lifetime_value` needs from a fitted transaction model."""

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


class GammaGammaFitter(LikelihoodModel[Columns]):
    """Gamma-Gamma model of the average spend per transaction: parameters p, q, gamma."""

    parameter_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> Self:
        """Fit to the repeat buyers among the customers given.

        Customers with frequency 0 carry no spend information and are left
        out. Raises ValueError when no repeat buyer remains or a repeat
        buyer's mean spend is not positive.
        """
        x = as_float_array(frequency, "frequency")
        spend = as_float_array(monetary_value, "monetary_value")
        w = np.ones_like(x) if weights is None else as_float_array(weights, "weights")
        if not len(x) == len(spend) == len(w):
            raise ValueError("frequency, monetary_value and weights must have the same length")
        repeat = (x > 0) & (w > 0)
        if not repeat.any():
            raise ValueError("no repeat buyers: the spend model needs customers with frequency > 0")
        if np.any(spend[repeat] <= 0):
            raise ValueError("the mean spend of a repeat buyer must be positive")
        (x, spend), w = unique_rows((x[repeat], spend[repeat]), w[repeat])
        self._fit_rows((x, spend), w, np.ones(3))
        return self

    def _row_log_likelihood(self, params: FloatArray, data: Columns) -> FloatArray:
        p, q, gamma = params
        x, spend = data
        return np.asarray(
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(gamma)
            + (p * x - 1) * np.log(spend)
            + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + x * spend),
            dtype=np.float64,
        )

    def _row_gradient(self, params: FloatArray, data: Columns) -> FloatArray:
        p, q, gamma = params
        x, spend = data
        shared = digamma(p * x + q)
        log_total = np.log(gamma + x * spend)
        d_p = x * (shared - digamma(p * x) + np.log(spend) + np.log(x) - log_total)
        d_q = shared - digamma(q) + np.log(gamma) - log_total
        d_gamma = q / gamma - (p * x + q) / (gamma + x * spend)
        return np.column_stack([d_p, d_q, d_gamma])

    def conditional_expected_average_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """E[spend per transaction | x, mean spend]; the population mean for x == 0.

        A weighted average of the population mean p gamma / (q - 1) and the
        customer's own mean (needs q > 1).
        """
        p, q, gamma = self._fitted_params()
        x = as_float_array(frequency, "frequency")
        spend = as_float_array(monetary_value, "monetary_value")
        return np.asarray(p * (gamma + x * spend) / (p * x + q - 1), dtype=np.float64)

    def customer_lifetime_value(
        self,
        transaction_model: TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        *,
        horizon: float = 12,
        step_length: float = 1.0,
        discount_rate: float = 0.01,
    ) -> FloatArray:
        """Discounted expected future spend of each customer.

        Units: time in `transaction_model`'s unit (that of recency and T);
        `step_length` is one discounting step in that unit (e.g. 4.345 for
        months over weekly data); `horizon` is the number of steps (e.g. 12
        months) or `math.inf` for the customer's whole lifetime;
        `discount_rate` is per step.

        A finite horizon, as in the Lifetimes package: the sum over steps
        i = 1..horizon of the expected purchases in step i times the expected
        spend, discounted by (1 + discount_rate)^i. An infinite horizon needs
        a Pareto/NBD model: DERT at the equivalent continuous rate
        log(1 + discount_rate) / step_length times the expected spend. Raises
        ValueError otherwise.
        """
        spend = self.conditional_expected_average_spend(frequency, monetary_value)
        if step_length <= 0 or discount_rate < 0:
            raise ValueError("step_length must be positive and discount_rate not negative")
        if math.isinf(horizon):
            dert = getattr(transaction_model, "discounted_expected_residual_transactions", None)
            if dert is None or discount_rate == 0:
                raise ValueError(
                    "a lifetime (infinite horizon) value needs a Pareto/NBD model "
                    "and a positive discount rate"
                )
            rate = math.log1p(discount_rate) / step_length
            return np.asarray(dert(frequency, recency, T, rate) * spend, dtype=np.float64)
        steps = int(horizon)
        if steps != horizon or steps < 1:
            raise ValueError("horizon must be a whole number of steps (or math.inf)")
        value = np.zeros_like(spend)
        purchased_before = np.zeros_like(spend)
        for step in range(1, steps + 1):
            purchased = transaction_model.conditional_expected_purchases(
                step * step_length, frequency, recency, T
            )
            value += spend * (purchased - purchased_before) / (1 + discount_rate) ** step
            purchased_before = purchased
        return value
