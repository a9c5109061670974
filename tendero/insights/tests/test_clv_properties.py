"""Properties the CLV models must keep on any data, not only the published sets."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import gammaln

from tendero.insights.clv import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    compress,
    simulate_bg_nbd,
    simulate_pareto_nbd,
)
from tendero.insights.clv.bg_nbd import FittingHistories
from tendero.insights.clv.estimation import (
    COARSE_START_MESSAGE,
    LikelihoodModel,
    distinct_and_ranks,
    maximise_likelihood,
)
from tendero.insights.clv.histories import COARSE_FIT_MIN_HISTORIES, coarsened
from tendero.insights.clv.pareto_nbd import _hyp2f1_unit, _hyp2f1_unit_fraction

DATA = Path(__file__).parent / "data"

# CDNOW estimates, to evaluate likelihoods and predictions without fitting.
BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
MBG_NBD = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
PARETO_NBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}

TransactionModel = BetaGeoFitter | ParetoNBDFitter
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FITS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20050401)


def _models() -> list[TransactionModel]:
    return [
        BetaGeoFitter().set_params(**BG_NBD),
        ModifiedBetaGeoFitter().set_params(**MBG_NBD),
        ParetoNBDFitter().set_params(**PARETO_NBD),
        # Whole-number r and s with alpha << beta: where scipy's 2F1 alone fails.
        ParetoNBDFitter().set_params(r=1.0, alpha=5.0, s=1.0, beta=500.0),
    ]


@st.composite
def histories(draw: st.DrawFn, max_frequency: int = 10_000) -> tuple[float, float, float]:
    """(frequency, recency, T) a customer could have."""
    age = draw(st.floats(min_value=0.01, max_value=1000))
    frequency = draw(st.integers(min_value=0, max_value=max_frequency))
    recency = 0.0 if frequency == 0 else draw(st.floats(min_value=0, max_value=age))
    return float(frequency), recency, age


# Degenerate data -------------------------------------------------------------------


@pytest.mark.parametrize("model_class", [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter])
@FAST
@given(ages=st.lists(st.floats(min_value=0.1, max_value=100), min_size=1, max_size=20))
def test_no_repeat_buyers_is_a_clear_error(
    model_class: type[TransactionModel], ages: list[float]
) -> None:
    zeros = np.zeros(len(ages))
    with pytest.raises(ValueError, match="no customer made a repeat purchase"):
        model_class().fit(zeros, zeros, ages)


def test_no_repeat_buyers_is_a_clear_error_for_bg_bb_and_gamma_gamma() -> None:
    with pytest.raises(ValueError, match="no customer made a repeat purchase"):
        BetaGeoBetaBinomFitter().fit([0, 0], [0, 0], [6, 6])
    with pytest.raises(ValueError, match="no repeat buyers"):
        GammaGammaFitter().fit([0, 0], [0, 0])


@pytest.mark.parametrize("model_class", [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter])
@FITS
@given(history=histories(max_frequency=50).filter(lambda h: h[0] > 0))
def test_a_single_customer_gives_a_finite_fit(
    model_class: type[TransactionModel], history: tuple[float, float, float]
) -> None:
    model = model_class().fit(*([value] for value in history))
    assert np.isfinite(model.log_likelihood)
    assert all(np.isfinite(value) and value > 0 for value in model.params.values())
    assert isinstance(model.converged, bool)
    assert model.message


# Large frequencies, recency == T, P(alive) ---------------------------------------------


@FAST
@given(history=histories())
def test_likelihoods_and_probabilities_stay_finite_for_any_history(
    history: tuple[float, float, float],
) -> None:
    for model in _models():
        log_likelihood = model.log_likelihood_of(*history)[0]
        alive = model.probability_alive(*history)[0]
        expected = model.conditional_expected_purchases(52, *history)[0]
        # A density in the continuous recency: it may exceed 1, never be infinite.
        assert np.isfinite(log_likelihood)
        assert 0 <= alive <= 1
        assert np.isfinite(expected) and expected >= 0


def test_pareto_nbd_stays_finite_where_lifetimes_overflowed() -> None:
    model = ParetoNBDFitter().set_params(r=10.465, alpha=7.98565181e-03, s=3.0516, beta=2.820)
    frequency, recency, age = [400.0, 500.0, 500.0], [5.0, 1.0, 4.0], [6.0, 37.0, 37.0]
    assert np.all(np.isfinite(model.log_likelihood_of(frequency, recency, age)))
    alive = model.probability_alive([40, 50, 50], recency, age)
    assert np.all((alive >= 0) & (alive <= 1))


@FAST
@given(frequency=st.integers(min_value=1, max_value=10_000), age=st.floats(0.01, 1000))
def test_a_purchase_at_the_end_leaves_the_customer_alive_in_pareto_nbd(
    frequency: int, age: float
) -> None:
    model = ParetoNBDFitter().set_params(**PARETO_NBD)
    assert model.probability_alive(frequency, age, age)[0] == 1.0
    assert np.isfinite(model.log_likelihood_of(frequency, age, age)[0])


@FAST
@given(age=st.floats(min_value=0, max_value=1e4))
def test_bg_nbd_customer_without_repeat_purchases_is_certainly_alive(age: float) -> None:
    model = BetaGeoFitter().set_params(**BG_NBD)
    assert model.probability_alive(0, 0, age)[0] == 1.0


@FAST
@given(
    history=histories(max_frequency=200).filter(lambda h: h[0] > 0),
    later=st.floats(min_value=0.01, max_value=1),
)
def test_alive_probability_rises_with_recency_and_falls_with_age(
    history: tuple[float, float, float], later: float
) -> None:
    frequency, recency, age = history
    for model in _models():
        alive = model.probability_alive(frequency, recency, age)[0]
        more_recent = recency + later * (age - recency)
        assert model.probability_alive(frequency, more_recent, age)[0] >= alive - 1e-12
        assert model.probability_alive(frequency, recency, age + later)[0] <= alive + 1e-12


@FAST
@given(
    frequency=st.integers(min_value=0, max_value=6),
    extra=st.integers(min_value=0, max_value=6),
    periods=st.integers(min_value=6, max_value=60),
)
def test_bg_bb_probabilities_are_probabilities(frequency: int, extra: int, periods: int) -> None:
    model = BetaGeoBetaBinomFitter().set_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    recency = min(frequency + extra, periods) if frequency else 0
    alive = model.probability_alive(frequency, recency, periods)[0]
    assert 0 <= alive <= 1
    assert np.isfinite(model.log_likelihood_of(frequency, recency, periods)[0])
    counts = model.purchase_count_probability(np.arange(periods + 1), periods)
    assert counts.sum() == pytest.approx(1.0)


@FAST
@given(
    history=histories(max_frequency=2000),
    params=st.tuples(*(st.floats(min_value=0.05, max_value=20) for _ in range(4))),
)
def test_pareto_nbd_likelihood_equals_its_defining_integral(
    history: tuple[float, float, float], params: tuple[float, float, float, float]
) -> None:
    """L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s
    + s * integral from t_x to T of (alpha+u)^-(r+x) (beta+u)^-(s+1) du ],
    integrated numerically: no 2F1 involved."""
    frequency, recency, age = history
    r, alpha, s, beta = params
    model = ParetoNBDFitter().set_params(r=r, alpha=alpha, s=s, beta=beta)
    rx = r + frequency

    # With u = (alpha+t_x) e^v - alpha the steep factor becomes e^(-(r+x) v) and
    # breakpoints at a few multiples of its scale keep quad from stepping over it.
    upper = np.log((alpha + age) / (alpha + recency))

    def scaled_integrand(v: float) -> float:
        u = (alpha + recency) * np.exp(v) - alpha
        return float(np.exp(-(rx - 1) * v) * ((beta + recency) / (beta + u)) ** (s + 1))

    breakpoints = [k / rx for k in (1, 10, 100) if k / rx < upper]
    integral = (alpha + recency) * integrate.quad(
        scaled_integrand, 0, upper, points=breakpoints or None, epsrel=1e-11, epsabs=0, limit=500
    )[0]
    log_died = (
        np.log(s)
        + np.log(integral)
        - rx * np.log(alpha + recency)
        - (s + 1) * np.log(beta + recency)
        if integral > 0
        else -np.inf
    )
    log_alive = -rx * np.log(alpha + age) - s * np.log(beta + age)
    expected = (
        gammaln(rx)
        - gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + np.logaddexp(log_alive, log_died)
    )
    actual = model.log_likelihood_of(frequency, recency, age)[0]
    assert actual == pytest.approx(expected, rel=1e-7, abs=1e-7)


def _hyp2f1_unit_series(b: float, c: float, z: float) -> float:
    """sum over n of (b)_n / (c)_n z^n: positive terms shrinking at least as fast as z^n,
    so 2,000 terms leave a relative tail below 1e-17 up to z = 0.98."""
    total = term = 1.0
    for n in range(2_000):
        term *= (b + n) / (c + n) * z
        total += term
    return total


@FAST
@given(
    b=st.floats(min_value=0.01, max_value=1e4),
    gap=st.floats(min_value=0.01, max_value=1e3) | st.integers(min_value=1, max_value=500),
    z=st.floats(min_value=0, max_value=0.98),
)
# c = 1 (c' = 0 in the fraction's terms), which once gave NaN: 2F1(1, b; 1; z) = (1-z)^-b.
@example(b=0.5, gap=0.5, z=0.0)
@example(b=0.5, gap=0.5, z=0.9)
def test_pareto_nbd_hypergeometric_agrees_with_its_series(b: float, gap: float, z: float) -> None:
    # Whole-number gaps included: scipy alone returns NaN for many of them. The
    # continued fraction, which takes over where scipy fails, is checked on its own too.
    b_, c_, z_ = np.array([b]), np.array([b + gap], dtype=float), np.array([z])
    series = _hyp2f1_unit_series(b, b + gap, z)
    value = _hyp2f1_unit(b_, c_, z_)[0]
    assert 1 <= value <= 1 / (1 - z) * (1 + 1e-12)
    assert value == pytest.approx(series, rel=1e-5)
    assert _hyp2f1_unit_fraction(b_, c_, z_)[0] == pytest.approx(series, rel=1e-9)


# Pinned from `python -m tendero.insights.clv.reference` (mpmath at 40 digits), as it
# prints them; test_the_pinned_values_are_what_mpmath_computes checks them against it.
HYP2F1_NEAR_ONE = [
    (171.0, 172.5, 0.99712, 119.0842322951691287),
    (1000.0, 1002.0, 0.9999, 799.36815573712340362),
    (5000.0, 5002.7, 0.99999, 2776.7985047695654801),
    (10000.0, 10001.5, 0.999999, 16823.027074762058963),
]
HEAVY_BUYER_LOG_LIKELIHOOD = 221.56535635220328703


# scipy gives infinity or NaN for each of these.
@pytest.mark.parametrize(("b", "c", "z", "expected"), HYP2F1_NEAR_ONE)
def test_pareto_nbd_hypergeometric_near_one(b: float, c: float, z: float, expected: float) -> None:
    value = _hyp2f1_unit(np.array([b]), np.array([c]), np.array([z]))[0]
    assert value == pytest.approx(expected, rel=1e-9)


# Where an optimiser walks towards the Poisson limit (r and alpha in the millions,
# beta small: found fitting daily purchases), z is within 1e-9 of 1 and c above 171.
NEAR_THE_POISSON_LIMIT = [
    (693817.7182883832, 693818.75006060567, 1 - 1.5e-9),
    (693820.7182883832, 693821.75006060567, 0.9999998818),
    (694017.7182883832, 694018.75006060567, 1 - 1.5e-9),
    (10000.0, 10001.5, 1 - 5e-7),
    (30.0, 31.2, 1 - 1e-9),
]


@pytest.mark.parametrize(("b", "c", "z"), NEAR_THE_POISSON_LIMIT)
def test_pareto_nbd_hypergeometric_near_the_poisson_limit(b: float, c: float, z: float) -> None:
    from tendero.insights.clv import reference

    value = _hyp2f1_unit(np.array([b]), np.array([c]), np.array([z]))[0]
    assert value == pytest.approx(float(reference.hyp2f1_unit(b, c, z)), rel=1e-12)


def test_pareto_nbd_likelihood_of_a_heavy_buyer_when_beta_is_much_smaller_than_alpha() -> None:
    """Found by hypothesis: scipy's 2F1 overflows here and the bound it was clipped to
    was 3 times the true value. Expected from mpmath (the defining integral)."""
    model = ParetoNBDFitter().set_params(r=20.0, alpha=19.0, s=0.5, beta=0.0546875)
    actual = model.log_likelihood_of(151.0, 0.0, 1.0)[0]
    assert actual == pytest.approx(HEAVY_BUYER_LOG_LIKELIHOOD, rel=1e-9)


def test_the_pinned_values_are_what_mpmath_computes() -> None:
    """The reference script (mpmath, in the dev extra) gives the values pinned above, to
    the last digit a float holds."""
    from tendero.insights.clv import reference

    assert [case[:3] for case in HYP2F1_NEAR_ONE] == reference.HYP2F1_NEAR_ONE_ARGUMENTS
    for b, c, z, pinned in HYP2F1_NEAR_ONE:
        assert float(reference.hyp2f1_unit(b, c, z)) == pinned
    heavy = reference.pareto_nbd_log_likelihood(**reference.HEAVY_BUYER)
    assert float(heavy) == HEAVY_BUYER_LOG_LIKELIHOOD


# Compression and gradients ---------------------------------------------------------------


def test_compressed_and_raw_histories_fit_the_same(rng: np.random.Generator) -> None:
    frequency, recency, age = simulate_bg_nbd(3000, 30.0, BG_NBD, rng, granularity=1 / 7)
    raw = BetaGeoFitter().fit(frequency, recency, age)
    rows = compress(frequency, recency, age)
    compressed = BetaGeoFitter().fit(rows.frequency, rows.recency, rows.T, rows.weights)
    assert compressed.n_histories < 1000
    assert compressed.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-12)
    assert compressed.params == pytest.approx(raw.params, rel=1e-9)
    # And the weighted likelihood is the sum over customers.
    assert float(
        rows.weights @ compressed.log_likelihood_of(rows.frequency, rows.recency, rows.T)
    ) == pytest.approx(float(np.sum(raw.log_likelihood_of(frequency, recency, age))), rel=1e-12)


def assert_gradient_matches_finite_differences(
    model: LikelihoodModel[Any], point: np.ndarray, data: Any, weights: np.ndarray
) -> None:
    analytic = model.total_gradient(point, data, weights)
    numeric = model._central_difference_gradient(point, data, weights)
    # The central difference (step 1e-6 * parameter) carries a rounding error
    # of about 1e-10 * |log-likelihood| / parameter; allow a hundred times that.
    rounding = 1e-8 * abs(model.total_log_likelihood(point, data, weights)) / point
    assert np.all(np.abs(analytic - numeric) <= 1e-6 * np.abs(numeric) + rounding)


@FAST
@given(scale=st.lists(st.floats(min_value=0.3, max_value=3), min_size=4, max_size=4))
def test_analytic_gradients_match_finite_differences(scale: list[float]) -> None:
    rng = np.random.default_rng(7)
    frequency, recency, age = simulate_bg_nbd(200, 40.0, BG_NBD, rng)
    frequency[:3] = [500, 2000, 10_000]
    recency[:3] = [20.0, 39.0, 40.0]
    ones = np.ones_like(frequency)
    for model, params in [(BetaGeoFitter(), BG_NBD), (ModifiedBetaGeoFitter(), MBG_NBD)]:
        point = np.array(list(params.values())) * scale
        histories = FittingHistories.from_columns(frequency, recency, age)
        assert_gradient_matches_finite_differences(model, point, histories, ones)

    spend_model = GammaGammaFitter()
    # Ordinary buyers only: at x = 10,000 the spend likelihood is a difference of
    # log-gamma values near 6e5, too large for the finite differences to check.
    repeat = (frequency > 0) & (frequency < 500)
    spend = rng.gamma(6.0, 5.0, int(repeat.sum()))
    point = np.array([6.25, 3.74, 15.44]) * scale[:3]
    assert_gradient_matches_finite_differences(
        spend_model, point, (frequency[repeat], spend), np.ones(len(spend))
    )

    donors = BetaGeoBetaBinomFitter()
    grouped = np.loadtxt(DATA / "donations.csv", delimiter=",", skiprows=1)
    point = np.array([1.204, 0.750, 0.657, 2.783]) * scale
    data = (grouped[:, 0], grouped[:, 1], grouped[:, 2])
    assert_gradient_matches_finite_differences(donors, point, data, grouped[:, 3])


@FAST
@given(scale=st.lists(st.floats(min_value=0.3, max_value=3), min_size=4, max_size=4))
@example(scale=[2.90625, 1.84375, 0.7108579971561585, 1.298828125])
def test_analytic_hessians_match_differences_of_the_gradient(scale: list[float]) -> None:
    rng = np.random.default_rng(11)
    frequency, recency, age = simulate_bg_nbd(200, 40.0, BG_NBD, rng)
    frequency[:3] = [500, 2000, 10_000]
    recency[:3] = [20.0, 39.0, 40.0]
    weights = rng.integers(1, 5, len(frequency)).astype(np.float64)
    histories = FittingHistories.from_columns(frequency, recency, age)
    for model, params in [(BetaGeoFitter(), BG_NBD), (ModifiedBetaGeoFitter(), MBG_NBD)]:
        point = np.array(list(params.values())) * scale
        analytic = model._log_likelihood_hessian(point, histories, weights)
        assert analytic is not None
        numeric = np.empty((4, 4))
        for index in range(4):
            shift = np.zeros(4)
            shift[index] = 1e-4 * point[index]
            upper = model.total_gradient(point + shift, histories, weights)
            lower = model.total_gradient(point - shift, histories, weights)
            numeric[:, index] = (upper - lower) / (2 * shift[index])
        # Central differences of step 1e-4 * parameter err by up to ~5e-6 of the
        # curvatures' scale (truncation and rounding), and a small curvature by up to
        # ~2e-5 of itself (found by hypothesis: [3, 3] at 1.4e-3); a wrong term errs
        # by its whole size.
        curvature = np.sqrt(np.abs(np.diag(numeric)))
        tolerance = 2e-5 * np.outer(curvature, curvature) + 1e-4 * np.abs(numeric)
        assert np.all(np.abs(analytic - numeric) <= tolerance)


# Simulation ----------------------------------------------------------------------------


def test_bg_nbd_recovers_the_parameters_it_simulated(rng: np.random.Generator) -> None:
    ages = rng.uniform(20, 52, 20_000)
    model = BetaGeoFitter().fit(*simulate_bg_nbd(20_000, ages, BG_NBD, rng, granularity=1 / 7))
    for name, true_value in BG_NBD.items():
        assert abs(model.params[name] - true_value) < 4 * model.standard_errors[name]


def test_pareto_nbd_recovers_the_parameters_it_simulated(rng: np.random.Generator) -> None:
    ages = rng.uniform(20, 52, 10_000)
    simulated = simulate_pareto_nbd(10_000, ages, PARETO_NBD, rng, granularity=1 / 7)
    model = ParetoNBDFitter().fit(*simulated)
    assert model.converged
    for name, true_value in PARETO_NBD.items():
        assert abs(model.params[name] - true_value) < 4 * model.standard_errors[name]


def test_penalizer_shrinks_the_parameters(rng: np.random.Generator) -> None:
    simulated = simulate_bg_nbd(5000, 40.0, BG_NBD, rng, granularity=1 / 7)
    plain = BetaGeoFitter().fit(*simulated)
    penalised = BetaGeoFitter(penalizer_coef=0.1).fit(*simulated)
    assert sum(penalised.params.values()) < sum(plain.params.values())
    assert penalised.log_likelihood < plain.log_likelihood


@FAST
@given(
    values=st.lists(
        st.integers(min_value=0, max_value=600).map(lambda day: day / 7)
        | st.floats(min_value=0, max_value=1e6, allow_nan=False),
        min_size=0,
        max_size=200,
    ),
)
def test_distinct_and_ranks_is_numpys_unique(values: list[float]) -> None:
    column = np.array(values, dtype=np.float64)
    distinct, ranks = distinct_and_ranks(column)
    expected_distinct, expected_ranks = np.unique(column, return_inverse=True)
    assert np.array_equal(distinct, expected_distinct)
    assert np.array_equal(ranks, expected_ranks)


def test_distinct_and_ranks_of_days_over_seven() -> None:
    column = np.array([3 / 7, 0.0, 10 / 7, 3 / 7, 1.0, 0.0])
    distinct, ranks = distinct_and_ranks(column)
    assert distinct.tolist() == [0.0, 3 / 7, 1.0, 10 / 7]
    assert ranks.tolist() == [1, 0, 3, 1, 2, 0]


@pytest.mark.parametrize("model_class", [BetaGeoFitter, ParetoNBDFitter])
def test_a_fit_started_from_coarsened_histories_ends_where_a_plain_fit_does(
    model_class: type[BetaGeoFitter] | type[ParetoNBDFitter], rng: np.random.Generator
) -> None:
    ages = rng.integers(7, 78 * 7 + 1, 120_000) / 7
    frequency, recency, age = simulate_bg_nbd(120_000, ages, BG_NBD, rng, granularity=1 / 7)
    histories = compress(frequency, recency, age)
    coarse = coarsened(histories)
    assert len(histories.weights) >= COARSE_FIT_MIN_HISTORIES
    assert coarse is not None and len(coarse.weights) < len(histories.weights) / 3
    assert coarse.weights.sum() == histories.weights.sum()
    assert np.all(coarse.recency <= coarse.T)

    model = model_class().fit(frequency, recency, age)
    assert model.converged
    assert model.message.startswith(COARSE_START_MESSAGE)
    plain = model_class()
    data, weights = model._fitted_on  # type: ignore[misc]
    result = maximise_likelihood(plain, data, weights, np.ones(4))
    assert result.converged
    assert model.log_likelihood == pytest.approx(result.log_likelihood, rel=1e-9)
    for name, value in zip(model.parameter_names, result.params, strict=True):
        assert model.params[name] == pytest.approx(value, rel=1e-4)
