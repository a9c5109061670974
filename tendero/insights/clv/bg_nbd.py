"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007).

While alive a customer buys at a Poisson rate lambda ~ Gamma(r, alpha); after
each repeat purchase (BG/NBD), or also right after the first one (MBG/NBD), the
customer drops out with probability p ~ Beta(a, b). Time is in whatever unit
recency and T are given in (weeks for CDNOW); alpha scales with it.

The log-likelihood of a history (x, t_x, T) is

    log Gamma(r+x)/Gamma(r) + r log alpha + log B(a, b+x+k)/B(a, b)
    + logaddexp(-(r+x) log(alpha+T),
                log a - log(b+x-1+k) - (r+x) log(alpha+t_x))

with k = 0 (BG/NBD; the second term only when x > 0) or k = 1 (MBG/NBD). Its
gradient and its Hessian (for the standard errors) are analytic.

Fitting is fast on large data because it never evaluates a special function
per customer: histories are merged into weighted distinct rows, and the terms
that depend on x alone (log-gammas, digammas) or on T or t_x alone are
evaluated once per distinct value and gathered (`FittingHistories`). Only the
final logaddexp is per row.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, expit, gammaln, hyp2f1, zeta

from .estimation import (
    ArrayLike,
    FloatArray,
    LikelihoodModel,
    as_float_array,
    distinct_and_ranks,
    weighted_sum,
)
from .histories import as_histories, coarsened, compress

BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]


class FittingHistories(NamedTuple):
    """Distinct histories with each column split into distinct values and an index."""

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    frequency_values: FloatArray
    frequency_index: IndexArray
    recency_values: FloatArray
    recency_index: IndexArray
    age_values: FloatArray
    age_index: IndexArray

    @classmethod
    def from_columns(cls, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FittingHistories:
        x_values, x_index = distinct_and_ranks(x)
        t_x_values, t_x_index = distinct_and_ranks(t_x)
        age_values, age_index = distinct_and_ranks(age)
        return cls(x, t_x, age, x_values, x_index, t_x_values, t_x_index, age_values, age_index)


class BetaGeoFitter(LikelihoodModel[FittingHistories]):
    """BG/NBD model: parameters r, alpha (purchase rate), a, b (dropout)."""

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    # 1 when the customer may also drop out right after the first purchase (MBG/NBD).
    _dropout_at_first_purchase: ClassVar[int] = 0

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit to customer histories (raw, or compressed with `weights`).

        Raises ValueError for impossible histories or when nobody made a
        repeat purchase (the purchase rate is then not identified).
        """
        histories = compress(frequency, recency, T, weights=weights)
        x, t_x, age, w = histories.frequency, histories.recency, histories.T, histories.weights
        if not np.any(w * x > 0):
            raise ValueError("no customer made a repeat purchase: the model cannot be fitted")
        # Start where the mean purchase rate r / alpha matches the data's.
        mean_rate = weighted_sum(w, x) / weighted_sum(w, np.maximum(age, 1e-12))
        start = np.array([1.0, 1.0 / max(mean_rate, 1e-8), 1.0, 1.0])
        coarse = coarsened(histories)
        self._fit_rows(
            FittingHistories.from_columns(x, t_x, age),
            w,
            start,
            coarse=None
            if coarse is None
            else (
                FittingHistories.from_columns(coarse.frequency, coarse.recency, coarse.T),
                coarse.weights,
            ),
        )
        return self

    # Likelihood ----------------------------------------------------------------

    def _terms(
        self, params: FloatArray, x: FloatArray, t_x: FloatArray, age: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
        """Common part, log of the still-alive and the dropped-out terms, dropout mask."""
        r, alpha, a, b = params
        k = self._dropout_at_first_purchase
        common = (
            gammaln(r + x)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + x + k)
            - gammaln(b)
            - gammaln(a + b + x + k)
        )
        alive = -(r + x) * np.log(alpha + age)
        can_drop = x + k > 0
        dropped_b = np.where(can_drop, b + x - 1 + k, 1.0)
        dropped = np.where(
            can_drop, np.log(a) - np.log(dropped_b) - (r + x) * np.log(alpha + t_x), -np.inf
        )
        return common, alive, dropped, can_drop

    def _row_log_likelihood(self, params: FloatArray, data: FittingHistories) -> FloatArray:
        common, alive, dropped, _ = self._terms(params, data.frequency, data.recency, data.T)
        return np.asarray(common + np.logaddexp(alive, dropped), dtype=np.float64)

    def _log_likelihood_and_gradient(
        self, params: FloatArray, data: FittingHistories, weights: FloatArray
    ) -> tuple[float, FloatArray]:
        """Log-likelihood and analytic gradient in one pass over the distinct values."""
        r, alpha, a, b = params
        k = self._dropout_at_first_purchase
        x = data.frequency_values
        # Weight of each distinct frequency; sums over rows of x-only terms become dots.
        by_x = np.bincount(data.frequency_index, weights, minlength=len(x)).astype(np.float64)
        can_drop = x + k > 0
        dropped_b = np.where(can_drop, b + x - 1 + k, 1.0)
        x_only = gammaln(r + x) + gammaln(b + x + k) - gammaln(a + b + x + k)
        dropped_x_only = np.where(can_drop, np.log(a) - np.log(dropped_b), -np.inf)
        constant = -gammaln(r) + r * np.log(alpha) + gammaln(a + b) - gammaln(b)

        purchases = (r + x)[data.frequency_index]
        log_age = np.log(alpha + data.age_values)[data.age_index]
        log_recency = np.log(alpha + data.recency_values)[data.recency_index]
        alive = -purchases * log_age
        dropped = dropped_x_only[data.frequency_index] - purchases * log_recency
        total = np.logaddexp(alive, dropped)
        total_weight = float(weights.sum())
        log_likelihood = (
            total_weight * constant + weighted_sum(by_x, x_only) + float(weights @ total)
        )

        share_dropped = np.exp(dropped - total)
        share_alive = 1.0 - share_dropped
        weighted_dropped = weights * share_dropped
        dropped_by_x = np.bincount(data.frequency_index, weighted_dropped, minlength=len(x)).astype(
            np.float64
        )
        inverse_age = (1 / (alpha + data.age_values))[data.age_index]
        inverse_recency = (1 / (alpha + data.recency_values))[data.recency_index]
        d_r = (
            weighted_sum(by_x, digamma(r + x))
            + total_weight * (np.log(alpha) - digamma(r))
            - weighted_sum(weights, share_alive * log_age)
            - weighted_sum(weighted_dropped, log_recency)
        )
        d_alpha = total_weight * r / alpha - weighted_sum(
            weights * purchases, share_alive * inverse_age + share_dropped * inverse_recency
        )
        shared_ab = total_weight * digamma(a + b) - weighted_sum(by_x, digamma(a + b + x + k))
        d_a = shared_ab + float(dropped_by_x.sum()) / a
        d_b = (
            shared_ab
            + weighted_sum(by_x, digamma(b + x + k))
            - total_weight * digamma(b)
            - weighted_sum(dropped_by_x, np.where(can_drop, 1 / dropped_b, 0.0))
        )
        return log_likelihood, np.array([d_r, d_alpha, d_a, d_b])

    def _log_likelihood_hessian(
        self, params: FloatArray, data: FittingHistories, weights: FloatArray
    ) -> FloatArray:
        """Hessian of the total log-likelihood in (r, alpha, a, b), in one pass.

        Per row the likelihood is C(x) + logaddexp(A, D), A the still-alive and D
        the dropped-out term, p = exp(D - logaddexp(A, D)) the share of D and
        q = 1 - p. The second derivative of the logaddexp is
        q H(A) + p H(D) + p q (g(D) - g(A)) (g(D) - g(A))^T, with g the gradients;
        C(x) contributes trigammas (zeta(2, .)) evaluated once per distinct x.
        """
        r, alpha, a, b = params
        k = self._dropout_at_first_purchase
        x = data.frequency_values
        index = data.frequency_index
        total_weight = float(weights.sum())
        by_x = np.bincount(index, weights, minlength=len(x)).astype(np.float64)
        can_drop = x + k > 0
        dropped_b = np.where(can_drop, b + x - 1 + k, 1.0)
        dropped_x_only = np.where(can_drop, np.log(a) - np.log(dropped_b), -np.inf)

        purchases = (r + x)[index]
        log_age = np.log(alpha + data.age_values)[data.age_index]
        log_recency = np.log(alpha + data.recency_values)[data.recency_index]
        inverse_age = (1 / (alpha + data.age_values))[data.age_index]
        inverse_recency = (1 / (alpha + data.recency_values))[data.recency_index]
        alive = -purchases * log_age
        dropped = dropped_x_only[index] - purchases * log_recency
        share_dropped = np.exp(dropped - np.logaddexp(alive, dropped))
        share_alive = 1.0 - share_dropped

        # g(D) - g(A) in r and alpha per row; in a (1/a) and b (-1/B) per distinct x.
        diff_r = log_age - log_recency
        diff_alpha = purchases * (inverse_age - inverse_recency)
        mixed = weights * share_dropped * share_alive
        weighted_dropped = weights * share_dropped
        mixed_by_x = np.bincount(index, mixed, minlength=len(x)).astype(np.float64)
        mixed_r_by_x = np.bincount(index, mixed * diff_r, minlength=len(x)).astype(np.float64)
        mixed_alpha_by_x = np.bincount(index, mixed * diff_alpha, minlength=len(x)).astype(
            np.float64
        )
        dropped_by_x = np.bincount(index, weighted_dropped, minlength=len(x)).astype(np.float64)
        inverse_b = np.where(can_drop, 1 / dropped_b, 0.0)

        trigamma_ab = total_weight * zeta(2, a + b) - weighted_sum(by_x, zeta(2, a + b + x + k))
        h_rr = (
            weighted_sum(by_x, zeta(2, r + x))
            - total_weight * zeta(2, r)
            + weighted_sum(mixed, diff_r * diff_r)
        )
        h_r_alpha = (
            total_weight / alpha
            - weighted_sum(weights, share_alive * inverse_age + share_dropped * inverse_recency)
            + weighted_sum(mixed, diff_r * diff_alpha)
        )
        h_alpha_alpha = (
            -total_weight * r / alpha**2
            + weighted_sum(
                weights * purchases,
                share_alive * inverse_age**2 + share_dropped * inverse_recency**2,
            )
            + weighted_sum(mixed, diff_alpha * diff_alpha)
        )
        h_r_a = float(mixed_r_by_x.sum()) / a
        h_r_b = -weighted_sum(mixed_r_by_x, inverse_b)
        h_alpha_a = float(mixed_alpha_by_x.sum()) / a
        h_alpha_b = -weighted_sum(mixed_alpha_by_x, inverse_b)
        # -p / a^2 from D's own curvature, + p q / a^2 from the mixture: -p^2 / a^2.
        h_aa = trigamma_ab - float((dropped_by_x - mixed_by_x).sum()) / a**2
        h_ab = trigamma_ab - weighted_sum(mixed_by_x, inverse_b) / a
        h_bb = (
            trigamma_ab
            + weighted_sum(by_x, zeta(2, b + x + k))
            - total_weight * zeta(2, b)
            + weighted_sum(dropped_by_x + mixed_by_x, inverse_b * inverse_b)
        )
        return np.array(
            [
                [h_rr, h_r_alpha, h_r_a, h_r_b],
                [h_r_alpha, h_alpha_alpha, h_alpha_a, h_alpha_b],
                [h_r_a, h_alpha_a, h_aa, h_ab],
                [h_r_b, h_alpha_b, h_ab, h_bb],
            ]
        )

    def log_likelihood_of(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters."""
        common, alive, dropped, _ = self._terms(
            self._fitted_params(), *as_histories(frequency, recency, T)
        )
        return np.asarray(common + np.logaddexp(alive, dropped), dtype=np.float64)

    # Predictions -----------------------------------------------------------------

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(the customer is still alive at T | x, t_x, T)."""
        x, t_x, age = as_histories(frequency, recency, T)
        _, alive, dropped, _ = self._terms(self._fitted_params(), x, t_x, age)
        return np.asarray(expit(alive - dropped), dtype=np.float64)

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases in (0, t] of a customer new at time 0."""
        r, alpha, a, b = self._fitted_params()
        k = self._dropout_at_first_purchase
        time = as_float_array(t, "t")
        c = a + b - 1 + k
        z = time / (alpha + time)
        # Euler's transformation keeps 2F1 bounded as z approaches 1:
        # (1-z)^r 2F1(r, b+k; c; z) = (1-z)^(a-1) 2F1(c-r, a-1; c; z).
        survival = (1 - z) ** (a - 1) * hyp2f1(c - r, a - 1, c, z)
        return np.asarray((b + (1 - k) * (a - 1)) / (a - 1) * (1 - survival), dtype=np.float64)

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] of a customer with this history."""
        r, alpha, a, b = self._fitted_params()
        k = self._dropout_at_first_purchase
        x, t_x, age = as_histories(frequency, recency, T)
        time = as_float_array(t, "t")
        c = a + b + x - 1 + k
        z = time / (alpha + age + time)
        # Euler's transformation: ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+k; c; z)
        # = (1-z)^(a-1) 2F1(a+b-1+k-r, a-1; c; z), whose value stays moderate for any x.
        survival = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 + k - r, a - 1, c, z)
        alive = self.probability_alive(x, t_x, age)
        return np.asarray(c / (a - 1) * (1 - survival) * alive, dtype=np.float64)


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD: as BG/NBD, but a customer may also drop out right after the first purchase.

    So a customer without repeat purchases is not certainly alive.
    """

    _dropout_at_first_purchase: ClassVar[int] = 1
