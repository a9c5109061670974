"""`python -m tendero.insights.clv.reference`: the high-precision values the CLV tests pin,
computed again with mpmath (the `reference` extra), printed as the tests write them.

A script, not part of the product (nothing imports it but the test that checks the
pinned values against it): the pinned values are where scipy alone fails, so they come
from an independent arbitrary-precision computation.

- `2F1(1, b; c; z)` near z = 1 with large c (test_pareto_nbd_hypergeometric_near_one):
  mpmath's hypergeometric function at the float arguments' exact binary values.
- The Pareto/NBD log-likelihood of a heavy buyer with beta much smaller than alpha
  (test_pareto_nbd_likelihood_of_a_heavy_buyer_...): from its defining integral, with no
  2F1 involved,

      L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s
          + s * integral from t_x to T of (alpha+u)^-(r+x) (beta+u)^-(s+1) du ].
"""

from __future__ import annotations

import mpmath

DIGITS = 40
# Significant digits printed: more than a float holds, so the literal rounds to the
# nearest float of the exact value.
PRINTED_DIGITS = 20

HYP2F1_NEAR_ONE_ARGUMENTS = [
    (171.0, 172.5, 0.99712),
    (1000.0, 1002.0, 0.9999),
    (5000.0, 5002.7, 0.99999),
    (1e4, 10001.5, 0.999999),
]
# r, alpha, s, beta; frequency, recency, T.
HEAVY_BUYER = {
    "r": 20.0, "alpha": 19.0, "s": 0.5, "beta": 0.0546875,
    "frequency": 151.0, "recency": 0.0, "T": 1.0,
}  # fmt: skip


def hyp2f1_unit(b: float, c: float, z: float) -> mpmath.mpf:
    """2F1(1, b; c; z) at DIGITS significant digits."""
    with mpmath.workdps(DIGITS):
        return mpmath.hyp2f1(1, b, c, z)


def pareto_nbd_log_likelihood(
    r: float, alpha: float, s: float, beta: float, frequency: float, recency: float, T: float
) -> mpmath.mpf:
    """The Pareto/NBD log-likelihood of one history, by its defining integral.

    With u = (alpha+t_x) e^v - alpha the steep factor (alpha+u)^-(r+x) becomes
    e^-(r+x-1)v times a constant, and the integrand is smooth enough for
    tanh-sinh quadrature on a few pieces of [0, log((alpha+T)/(alpha+t_x))].
    """
    with mpmath.workdps(DIGITS):
        r_, alpha_, s_, beta_, x, t_x, age = map(
            mpmath.mpf, (r, alpha, s, beta, frequency, recency, T)
        )
        rx = r_ + x
        upper = mpmath.log((alpha_ + age) / (alpha_ + t_x))

        def integrand(v: mpmath.mpf) -> mpmath.mpf:
            u = (alpha_ + t_x) * mpmath.exp(v) - alpha_
            return mpmath.exp(-(rx - 1) * v) * (beta_ + u) ** -(s_ + 1)

        pieces = [upper * k / 8 for k in range(9)]
        integral = (alpha_ + t_x) ** (1 - rx) * mpmath.quad(integrand, pieces)
        alive = (alpha_ + age) ** -rx * (beta_ + age) ** -s_
        return (
            mpmath.loggamma(rx)
            - mpmath.loggamma(r_)
            + r_ * mpmath.log(alpha_)
            + s_ * mpmath.log(beta_)
            + mpmath.log(alive + s_ * integral)
        )


def _literal(value: mpmath.mpf) -> str:
    return mpmath.nstr(value, PRINTED_DIGITS, min_fixed=-1, max_fixed=25)


def main() -> None:
    print("HYP2F1_NEAR_ONE = [")
    for b, c, z in HYP2F1_NEAR_ONE_ARGUMENTS:
        print(f"    ({b!r}, {c!r}, {z!r}, {_literal(hyp2f1_unit(b, c, z))}),")
    print("]")
    heavy = _literal(pareto_nbd_log_likelihood(**HEAVY_BUYER))
    print(f"HEAVY_BUYER_LOG_LIKELIHOOD = {heavy}")


if __name__ == "__main__":
    main()
