"""Scoring on arrays: the factored forecasts equal the library's, the segment rule."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from tendero.insights.clv import (
    BetaGeoFitter,
    GammaGammaFitter,
    ParetoNBDFitter,
    summarize_transactions,
)
from tendero.insights.forecasting import discounted_purchases, distinct_rows, expected_purchases
from tendero.insights.scoring import (
    Histories,
    high_value_cutoff,
    score,
    segment_of,
    significant_digits,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cdnow() -> Histories:
    purchases = []
    for line in (DATA / "CDNOW_sample.txt").read_text().splitlines():
        _master, sample_id, day, _cds, dollars = line.split()
        purchases.append(
            (int(sample_id), date(int(day[:4]), int(day[4:6]), int(day[6:])), float(dollars))
        )
    summary = summarize_transactions(purchases, date(1997, 9, 30), "day")
    return Histories(
        customer_id=np.array(summary.customer_id, dtype=np.int64),
        frequency=summary.frequency,
        recency_days=summary.recency,
        age_days=summary.T,
        monetary_value=summary.monetary_value,
    )


@pytest.mark.parametrize("model_class", [BetaGeoFitter, ParetoNBDFitter])
def test_factored_forecasts_equal_the_librarys(cdnow: Histories, model_class: type) -> None:
    x, t_x, age = cdnow.frequency, cdnow.recency_days / 7, cdnow.age_days / 7
    model = model_class().fit(x, t_x, age)
    spend = GammaGammaFitter().fit(x, cdnow.monetary_value)
    month = 365.25 / 12 / 7
    (value_12,) = discounted_purchases(
        model, x, t_x, age, step_length=month, horizons=(12,), discount_rate=0.01
    )
    expected = spend.customer_lifetime_value(
        model, x, t_x, age, cdnow.monetary_value, horizon=12, step_length=month, discount_rate=0.01
    )
    ours = spend.conditional_expected_average_spend(x, cdnow.monetary_value) * value_12
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        expected_purchases(model, 13.0, x, t_x, age),
        model.conditional_expected_purchases(13.0, x, t_x, age),
        rtol=1e-9,
        atol=1e-12,
    )


def test_distinct_rows_map_back_to_every_row() -> None:
    a = np.array([3.0, 1.0, 3.0, 1.0, 2.0])
    b = np.array([1.0, 5.0, 1.0, 4.0, 0.0])
    (da, db), counts, inverse = distinct_rows(a, b)
    assert sorted(zip(da.tolist(), db.tolist(), strict=True)) == [(1, 4), (1, 5), (2, 0), (3, 1)]
    assert counts.sum() == 5
    np.testing.assert_array_equal(da[inverse], a)
    np.testing.assert_array_equal(db[inverse], b)


def test_spend_is_fitted_on_three_significant_digits() -> None:
    values = np.array([0.012345, 1.0, 12.345, 98765.0])
    assert significant_digits(values, 3).tolist() == [0.0123, 1.0, 12.3, 98800.0]


def test_the_segment_rule() -> None:
    #            new   lost  1x-old 1x    champ  at-risk loyal  hibern.
    p_alive = np.array([0.1, 0.1, 1.0, 1.0, 0.9, 0.3, 0.8, 0.4])
    value = np.array([500, 900, 0, 10, 200, 300, 50, 50], dtype=float)
    frequency = np.array([0, 3, 0, 0, 4, 4, 2, 2], dtype=float)
    age_days = np.array([30, 400, 400, 200, 400, 400, 400, 400], dtype=float)
    segments = segment_of(p_alive, value, frequency, age_days, high_value_cutoff=100.0)
    assert segments.tolist() == [
        "new", "lost", "lost", "hibernating", "champion", "at_risk", "loyal", "hibernating",
    ]  # fmt: skip


def test_high_value_is_the_top_fifth_of_repeat_buyers() -> None:
    values = np.arange(1.0, 101.0)
    frequency = np.ones(100)
    frequency[:50] = 0  # one-time buyers do not count
    cutoff = high_value_cutoff(values, frequency)
    assert (values[frequency > 0] >= cutoff).sum() == 10


def test_score_gives_every_customer_a_forecast(cdnow: Histories) -> None:
    scores = score(cdnow, "week", "bg-nbd")
    assert len(scores.p_alive) == len(cdnow) == 2357
    assert scores.n_histories < len(cdnow)
    assert scores.params["transaction"]["r"] == pytest.approx(0.243, abs=2e-3)
    assert (scores.clv_36m >= scores.clv_12m).all() and (scores.clv_12m >= 0).all()
    assert set(scores.segment.tolist()) <= {
        "champion", "loyal", "at_risk", "hibernating", "lost", "new",
    }  # fmt: skip


def test_score_refuses_histories_without_repeat_buyers() -> None:
    nobody = Histories(
        np.array([1, 2]), np.zeros(2), np.zeros(2), np.array([10.0, 20.0]), np.zeros(2)
    )
    with pytest.raises(ValueError, match="repeat purchase"):
        score(nobody)
