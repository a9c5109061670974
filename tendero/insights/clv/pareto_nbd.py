"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys at a Poisson rate lambda ~ Gamma(r, alpha); the
lifetime is exponential with rate mu ~ Gamma(s, beta). The likelihood is the
one of Fader, Hardie & Lee, "A note on deriving the Pareto/NBD model and
related expressions" (2005):

    L = Gamma(r+x) alpha^r beta^s / Gamma(r)
        * [ 1 / ((alpha+T)^(r+x) (beta+T)^s) + s / (r+s+x) * A0 ]

where A0 is a difference of two Gauss hypergeometric functions (see
`_log_a0`). Everything is computed in log space; the gradient is numerical
(central differences of the log-likelihood), since the derivatives of 2F1 in
its parameters have no convenient closed form.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from scipy.special import expit, gammaln, gammasgn, hyp2f1, hyperu, poch

from .estimation import (
    ArrayLike,
    Columns,
    FloatArray,
    LikelihoodModel,
    as_float_array,
    weighted_sum,
)
from .histories import as_histories, coarsened, compress


class ParetoNBDFitter(LikelihoodModel[Columns]):
    """Pareto/NBD model: parameters r, alpha (purchase rate), s, beta (lifetime)."""

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    has_analytic_gradient: ClassVar[bool] = False

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
        mean_rate = weighted_sum(w, x) / weighted_sum(w, np.maximum(age, 1e-12))
        mean_age = weighted_sum(w, age) / float(w.sum())
        start = np.array([1.0, 1.0 / max(mean_rate, 1e-8), 1.0, max(mean_age, 1e-8)])
        coarse = coarsened(histories)
        self._fit_rows(
            (x, t_x, age),
            w,
            start,
            coarse=None
            if coarse is None
            else ((coarse.frequency, coarse.recency, coarse.T), coarse.weights),
        )
        return self

    # Likelihood ----------------------------------------------------------------

    def _terms(
        self, params: FloatArray, x: FloatArray, t_x: FloatArray, age: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Common part, log of the alive-at-T term and of the died-in-(t_x, T] term."""
        r, alpha, s, beta = params
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
        died = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, age)
        return common, alive, died

    def _row_log_likelihood(self, params: FloatArray, data: Columns) -> FloatArray:
        x, t_x, age = data
        common, alive, died = self._terms(params, x, t_x, age)
        return np.asarray(common + np.logaddexp(alive, died), dtype=np.float64)

    def log_likelihood_of(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters."""
        return self._row_log_likelihood(self._fitted_params(), as_histories(frequency, recency, T))

    # Predictions -----------------------------------------------------------------

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(the customer is still alive at T | x, t_x, T)."""
        x, t_x, age = as_histories(frequency, recency, T)
        _, alive, died = self._terms(self._fitted_params(), x, t_x, age)
        return np.asarray(expit(alive - died), dtype=np.float64)

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases in (0, t] of a customer new at time 0."""
        r, alpha, s, beta = self._fitted_params()
        time = as_float_array(t, "t")
        log_ratio = np.log(beta) - np.log(beta + time)
        return np.asarray(r * beta / alpha * _one_minus_power(s - 1, log_ratio), dtype=np.float64)

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] of a customer with this history."""
        r, alpha, s, beta = self._fitted_params()
        x, t_x, age = as_histories(frequency, recency, T)
        time = as_float_array(t, "t")
        log_ratio = np.log(beta + age) - np.log(beta + age + time)
        if_alive = (r + x) * (beta + age) / (alpha + age) * _one_minus_power(s - 1, log_ratio)
        return np.asarray(if_alive * self.probability_alive(x, t_x, age), dtype=np.float64)

    def discounted_expected_residual_transactions(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, discount_rate: float
    ) -> FloatArray:
        """DERT: the customer's future purchases after T, each discounted to T.

        `discount_rate` is the continuously compounded rate per unit of time
        of the data (for weekly data and 15 % a year: log(1.15) / 52). From
        Fader, Hardie & Lee, "RFM and CLV" (2005), eq. 2, rewritten with
        P(alive):

            DERT = (r+x) (beta+T)^s delta^(s-1) U(s, s; delta (beta+T)) / (alpha+T) * P(alive)

        U being Tricomi's confluent hypergeometric function.
        """
        if not discount_rate > 0:
            raise ValueError("discount_rate must be positive")
        r, alpha, s, beta = self._fitted_params()
        x, t_x, age = as_histories(frequency, recency, T)
        log_rate_if_alive = (
            np.log(r + x)
            + s * np.log(beta + age)
            + (s - 1) * np.log(discount_rate)
            + np.log(hyperu(s, s, discount_rate * (beta + age)))
            - np.log(alpha + age)
        )
        return np.asarray(
            np.exp(log_rate_if_alive) * self.probability_alive(x, t_x, age), dtype=np.float64
        )


def _log_a0(params: FloatArray, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
    """log A0 of the Pareto/NBD likelihood; -inf when t_x == T.

    With m = max(alpha, beta) and b = s+1 (alpha >= beta) or r+x (alpha < beta),

        A0 = F(z(t_x)) / (m+t_x)^(r+s+x) - F(z(T)) / (m+T)^(r+s+x),
        F(z) = 2F1(r+s+x, b; r+s+x+1; z),  z(t) = |alpha-beta| / (m+t) < 1.

    F grows like (1-z)^(1-b), which overflows for large x; Euler's
    transformation F(z) = (1-z)^(1-b) 2F1(1, r+s+x+1-b; r+s+x+1; z) moves that
    factor into log space and leaves a 2F1 between 1 and 1/(1-z).
    """
    r, alpha, s, beta = params
    rsx = r + s + x
    if alpha >= beta:
        larger, b = alpha, s + 1 + np.zeros_like(x)
    else:
        larger, b = beta, r + x
    gap = abs(alpha - beta)

    def log_term(t: FloatArray) -> FloatArray:
        z = gap / (larger + t)
        log_f = (1 - b) * np.log1p(-z) + np.log(_hyp2f1_unit(rsx + 1 - b, rsx + 1, z))
        return np.asarray(log_f - rsx * np.log(larger + t), dtype=np.float64)

    at_last_purchase = log_term(t_x)
    at_end = log_term(age)
    # The difference is an integral of a positive function over (t_x, T]: never
    # negative, so rounding noise is clipped rather than turned into a NaN.
    difference = np.minimum(at_end - at_last_purchase, 0.0)
    with np.errstate(divide="ignore"):
        return np.asarray(at_last_purchase + np.log(-np.expm1(difference)), dtype=np.float64)


def _hyp2f1_unit(b: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """2F1(1, b; c; z) for 0 < b < c and 0 <= z < 1, a value between 1 and 1/(1-z).

    scipy's hyp2f1 is accurate here where it gives a finite value, but gives
    infinity or NaN for many z near 1 when c is large (its connection formulas
    overflow Gamma(c) from c = 171 on, e.g. 2F1(1, 171; 172.5; 0.997), which a
    customer with 151 repeat purchases and beta much smaller than alpha needs)
    or c - b is a whole number (e.g. 2F1(1, 2; 108; 0.99)). Those values come
    from Gauss's continued fraction instead. Rounding is clipped to the bounds.
    """
    b, c, z = np.broadcast_arrays(b, c, z)
    value = np.asarray(hyp2f1(1.0, b, c, z), dtype=np.float64)
    failed = ~np.isfinite(value)
    if failed.any():
        value[failed] = _hyp2f1_unit_near_one(b[failed], c[failed], z[failed])
        failed = ~np.isfinite(value)
    if failed.any():
        value[failed] = _hyp2f1_unit_fraction(b[failed], c[failed], z[failed])
    return np.clip(value, 1.0, 1 / (1 - z))


# Within this of 1, z is left to the connection formula where it applies: the
# continued fraction would need more than 16,000 terms there.
_NEAR_ONE = 1e-6
# ...which it does unless c - 1 - b is this close to a whole number (a pole of its
# Gamma functions that its two terms cancel).
_NEAR_WHOLE = 1e-3


def _hyp2f1_unit_near_one(b: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """2F1(1, b; c; z) for z within 1e-6 of 1 by the connection formula at z = 1,
    with w = 1 - z and d = c - 1 - b:

        (c-1)/d 2F1(1, b; 1-d; w) + Gamma(-d) Gamma(c)/Gamma(b) w^d z^(1-c)

    (its second series is 2F1(c-1, c-b; c-b; w) = z^(1-c)), the Gammas in log
    space. NaN where it does not apply (z farther from 1, d nearly whole) or does
    not give a value within the bounds."""
    w = 1 - z
    d = c - 1 - b
    value = np.full_like(z, np.nan)
    usable = (w < _NEAR_ONE) & (np.abs(d - np.round(d)) > _NEAR_WHOLE) & (b * w < 100)
    if not usable.any():
        return value
    b, c, w, d = b[usable], c[usable], w[usable], d[usable]
    with np.errstate(all="ignore"):
        regular = (c - 1) / d * _hyp2f1_unit_series(b, 1 - d, w)
        log_singular = gammaln(-d) + np.log(poch(b, c - b)) + d * np.log(w) + (1 - c) * np.log1p(-w)
        singular = gammasgn(-d) * np.exp(log_singular)
        total = regular + singular
    total[~((total >= 1) & (total <= 1 / w * (1 + 1e-9)))] = np.nan
    value[usable] = total
    return value


# The continued fraction is evaluated from the top (modified Lentz) and stops when a
# further term changes the value by less than this, relatively: at most about 1e-11
# in all, since it takes some 16 / sqrt(1-z) terms at worst (checked against mpmath).
_FRACTION_TOLERANCE = 1e-15
# Where it has not settled by then (z within 1e-6 of 1 with b and c alike), it is
# cut off, and the value's bounds still hold.
_FRACTION_MAX_DEPTH = 20_000
_TINY = 1e-300


def _hyp2f1_unit_series(b: FloatArray, c: FloatArray, w: FloatArray) -> FloatArray:
    """2F1(1, b; c; w) by its power series, for small w with b w below 100 (scipy's
    hyp2f1 gives NaN there for b in the hundreds of thousands): the terms grow
    while k < b w and then shrink at least as fast as w^k."""
    total = np.ones_like(w)
    term = np.ones_like(w)
    for k in range(10_000):
        term = term * (b + k) / (c + k) * w
        total += term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    else:
        total[:] = np.nan
    return total


def _hyp2f1_unit_fraction(b: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """2F1(1, b; c; z) by Gauss's continued fraction for 2F1(a+1, b; c'+1; z) / 2F1(a, b; c'; z)
    with a = 0 and c' = c - 1:

        1 / (1 + k1 z / (1 + k2 z / (1 + ...))),
        k(2m+1) = -(c'+m)(b+m) / ((c'+2m)(c'+2m+1)),  k(2m) = (b-c'-m) m / ((c'+2m-1)(c'+2m)),

    evaluated from the top, term by term (Lentz's method), until the value settles.
    It converges everywhere on [0, 1), in at most about 16 / sqrt(1-z) terms (far
    fewer than the power series' 20 / (1-z)), and in a few when c is large beside
    m: then the even terms are nearly 0. That is where an optimiser walking towards
    a Poisson limit (r and alpha in the millions, c above scipy's 171) takes it.
    """
    shifted = c - 1
    value = np.ones_like(z)
    numerators = np.ones_like(z)  # Lentz's C
    denominators = np.zeros_like(z)  # Lentz's D
    for n in range(1, _FRACTION_MAX_DEPTH + 1):
        m = n // 2
        if n == 1:  # -(c')(b) / ((c')(c'+1)) with c' cancelled: c' is 0 when c is 1
            k = -b / c
        elif n % 2:
            k = -(shifted + m) * (b + m) / ((shifted + 2 * m) * (shifted + 2 * m + 1))
        else:
            k = (b - shifted - m) * m / ((shifted + 2 * m - 1) * (shifted + 2 * m))
        term = k * z
        denominators = 1 + term * denominators
        denominators[denominators == 0] = _TINY
        numerators = 1 + term / numerators
        numerators[numerators == 0] = _TINY
        denominators = 1 / denominators
        step = numerators * denominators
        value *= step
        if np.all(np.abs(step - 1) <= _FRACTION_TOLERANCE):
            break
    return np.asarray(1 / value, dtype=np.float64)


def _one_minus_power(exponent: float, log_ratio: FloatArray) -> FloatArray:
    """(1 - ratio^exponent) / exponent, continuous at exponent 0 (where it is -log ratio)."""
    if abs(exponent) < 1e-12:
        return np.asarray(-log_ratio, dtype=np.float64)
    return np.asarray(-np.expm1(exponent * log_ratio) / exponent, dtype=np.float64)
