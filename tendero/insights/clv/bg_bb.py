"""BG/BB (Fader, Hardie & Shang 2010): discrete transaction opportunities.

At each of n opportunities after the first purchase an alive customer buys
with probability p ~ Beta(alpha, beta), and between opportunities drops out
with probability theta ~ Beta(gamma, delta). A history is (x, t_x, n): x
purchases, the last at opportunity t_x, out of n. The likelihood (FHS 2010,
eq. 5) is, with B the beta function,

    B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n)/B(gamma, delta)
    + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha, beta)
                          * B(gamma+1, delta+t_x+i)/B(gamma, delta)

summed in log space over a (rows x terms) matrix; the gradient is analytic.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from scipy.special import betaln, digamma, gammaln, logsumexp

from .estimation import ArrayLike, Columns, FloatArray, LikelihoodModel, as_float_array, unique_rows


class BetaGeoBetaBinomFitter(LikelihoodModel[Columns]):
    """BG/BB model: alpha, beta (purchase probability), gamma, delta (dropout)."""

    parameter_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        n: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit to histories (x, t_x, n), raw or grouped with `weights`.

        Raises ValueError for impossible histories (x > t_x, t_x > n, x > 0
        with t_x == 0, non-integers) or when nobody made a repeat purchase.
        """
        x, t_x, periods = _histories(frequency, recency, n)
        w = np.ones_like(x) if weights is None else as_float_array(weights, "weights")
        if len(w) != len(x) or np.any(w < 0):
            raise ValueError("weights must be one non-negative number per history")
        if not np.any(w * x > 0):
            raise ValueError("no customer made a repeat purchase: the model cannot be fitted")
        (x, t_x, periods), w = unique_rows((x, t_x, periods), w)
        self._fit_rows((x, t_x, periods), w, np.ones(4))
        return self

    def _log_terms(
        self, params: FloatArray, x: FloatArray, t_x: FloatArray, n: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Log of each likelihood term (rows x terms; -inf where absent), with the
        beta-argument and dropout-argument offsets the gradient needs."""
        alpha, beta, gamma, delta = params
        width = int((n - t_x).max())
        i = np.arange(width, dtype=np.float64)
        # Column 0: alive through n; column 1 + i: dropped out after opportunity t_x + i.
        purchase_offset = np.column_stack([n - x, (t_x - x)[:, None] + i[None, :]])
        dropout_offset = np.column_stack([n, t_x[:, None] + i[None, :]])
        dropout_first = np.zeros_like(dropout_offset)
        dropout_first[:, 1:] = 1.0
        present = np.column_stack([np.ones_like(x, dtype=bool), i[None, :] < (n - t_x)[:, None]])
        with np.errstate(invalid="ignore"):
            terms = (
                betaln(alpha + x[:, None], beta + purchase_offset)
                - betaln(alpha, beta)
                + betaln(gamma + dropout_first, delta + dropout_offset)
                - betaln(gamma, delta)
            )
        terms = np.where(present, terms, -np.inf)
        return terms, purchase_offset, np.stack([dropout_first, dropout_offset])

    def _row_log_likelihood(self, params: FloatArray, data: Columns) -> FloatArray:
        x, t_x, n = data
        terms, _, _ = self._log_terms(params, x, t_x, n)
        return np.asarray(logsumexp(terms, axis=1), dtype=np.float64)

    def _row_gradient(self, params: FloatArray, data: Columns) -> FloatArray:
        alpha, beta, gamma, delta = params
        x, t_x, n = data
        terms, purchase_offset, (dropout_first, dropout_offset) = self._log_terms(params, x, t_x, n)
        share = np.exp(terms - logsumexp(terms, axis=1, keepdims=True))
        a, b = alpha + x[:, None], beta + purchase_offset
        g, d = gamma + dropout_first, delta + dropout_offset
        # d/da log B(a, b) = digamma(a) - digamma(a + b); the denominators'
        # derivatives are the same for every term, so they come out of the sum.
        columns = [
            digamma(a) - digamma(a + b),
            digamma(b) - digamma(a + b),
            digamma(g) - digamma(g + d),
            digamma(d) - digamma(g + d),
        ]
        denominators = [
            digamma(alpha) - digamma(alpha + beta),
            digamma(beta) - digamma(alpha + beta),
            digamma(gamma) - digamma(gamma + delta),
            digamma(delta) - digamma(gamma + delta),
        ]
        return np.column_stack(
            [
                np.sum(np.where(share > 0, share * column, 0.0), axis=1) - denominator
                for column, denominator in zip(columns, denominators, strict=True)
            ]
        )

    def log_likelihood_of(
        self, frequency: ArrayLike, recency: ArrayLike, n: ArrayLike
    ) -> FloatArray:
        """Per-history log-likelihood at the fitted parameters."""
        return self._row_log_likelihood(self._fitted_params(), _histories(frequency, recency, n))

    # Predictions -----------------------------------------------------------------

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, n: ArrayLike, periods_ahead: int = 0
    ) -> FloatArray:
        """P(alive at opportunity n + periods_ahead | x, t_x, n).

        periods_ahead=1 is FHS 2010 eq. 11, "alive in the next period".
        """
        alpha, beta, gamma, delta = self._fitted_params()
        x, t_x, periods = _histories(frequency, recency, n)
        alive = (
            betaln(alpha + x, beta + periods - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + periods + periods_ahead)
            - betaln(gamma, delta)
        )
        log_likelihood = self._row_log_likelihood(self._fitted_params(), (x, t_x, periods))
        return np.asarray(np.exp(alive - log_likelihood), dtype=np.float64)

    def expected_purchases(self, n: ArrayLike) -> FloatArray:
        """E[X(n)]: expected purchases in the first n opportunities (FHS 2010, eq. 9)."""
        alpha, beta, gamma, delta = self._fitted_params()
        periods = as_float_array(n, "n")
        still_alive = np.exp(
            gammaln(gamma + delta)
            + gammaln(1 + delta + periods)
            - gammaln(gamma + delta + periods)
            - gammaln(1 + delta)
        )
        return np.asarray(
            alpha / (alpha + beta) * delta / (gamma - 1) * (1 - still_alive), dtype=np.float64
        )

    def conditional_expected_purchases(
        self, n_future: ArrayLike, frequency: ArrayLike, recency: ArrayLike, n: ArrayLike
    ) -> FloatArray:
        """E[X(n, n + n_future) | x, t_x, n]: purchases in the next n_future opportunities
        (FHS 2010, eq. 13)."""
        alpha, beta, gamma, delta = self._fitted_params()
        x, t_x, periods = _histories(frequency, recency, n)
        future = as_float_array(n_future, "n_future")
        log_likelihood = self._row_log_likelihood(self._fitted_params(), (x, t_x, periods))
        log_factor = (
            betaln(alpha + x + 1, beta + periods - x)
            - betaln(alpha, beta)
            + gammaln(gamma + delta)
            - gammaln(1 + delta)
            - log_likelihood
        )
        ratio_now = np.exp(gammaln(1 + delta + periods) - gammaln(gamma + delta + periods))
        ratio_later = np.exp(
            gammaln(1 + delta + periods + future) - gammaln(gamma + delta + periods + future)
        )
        return np.asarray(
            np.exp(log_factor) * delta / (gamma - 1) * (ratio_now - ratio_later), dtype=np.float64
        )

    def purchase_count_probability(self, count: ArrayLike, n: ArrayLike) -> FloatArray:
        """P(X(n) = count) for a new customer (FHS 2010, eq. 7)."""
        alpha, beta, gamma, delta = self._fitted_params()
        x = as_float_array(count, "count")
        periods = as_float_array(n, "n")
        x, periods = np.broadcast_arrays(x, periods)
        alive = (
            _log_binomial(periods, x)
            + betaln(alpha + x, beta + periods - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + periods)
            - betaln(gamma, delta)
        )
        i = np.arange(int(periods.max()), dtype=np.float64)[None, :]
        dropped_at = np.where(
            (i >= x[:, None]) & (i < periods[:, None]),
            _log_binomial(i, x[:, None])
            + betaln(alpha + x[:, None], beta + i - x[:, None])
            - betaln(alpha, beta)
            + betaln(gamma + 1, delta + i)
            - betaln(gamma, delta),
            -np.inf,
        )
        terms = np.column_stack([np.where(x <= periods, alive, -np.inf), dropped_at])
        return np.asarray(np.exp(logsumexp(terms, axis=1)), dtype=np.float64)


def _log_binomial(n: FloatArray, k: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        return np.asarray(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1), dtype=np.float64)


def _histories(
    frequency: ArrayLike, recency: ArrayLike, n: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    periods = as_float_array(n, "n")
    x, t_x, periods = (
        np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(x, t_x, periods)
    )
    if (
        np.any(x != np.round(x))
        or np.any(t_x != np.round(t_x))
        or np.any(periods != np.round(periods))
    ):
        raise ValueError("BG/BB histories are counts of opportunities: use whole numbers")
    if np.any(x < 0) or np.any(x > t_x) or np.any(t_x > periods) or np.any((x > 0) & (t_x == 0)):
        raise ValueError("BG/BB histories need 0 <= x <= t_x <= n, and t_x > 0 when x > 0")
    return x, t_x, periods
