"""Summarising dated purchases into (frequency, recency, T, monetary value)."""

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from tendero.insights.clv import compress, summarize_transactions

DATA = Path(__file__).parent / "data"


def _cdnow_purchases() -> list[tuple[int, date, float]]:
    """(customer, date, dollars); the customer is the sample id, which the
    published summaries call ID (master id 4 is ID 1, and so on)."""
    purchases = []
    for line in (DATA / "CDNOW_sample.txt").read_text().splitlines():
        _master_id, sample_id, day, _cds, dollars = line.split()
        when = date(int(day[:4]), int(day[4:6]), int(day[6:]))
        purchases.append((int(sample_id), when, float(dollars)))
    return purchases


def test_cdnow_summary_is_reproduced_from_the_purchases() -> None:
    summary = summarize_transactions(_cdnow_purchases(), date(1997, 9, 30), "week")
    published = np.loadtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", skiprows=1)
    position = {customer: index for index, customer in enumerate(summary.customer_id)}
    order = [position[int(customer)] for customer in published[:, 0]]

    assert len(summary.customer_id) == len(published) == 2357
    assert summary.frequency[order].tolist() == published[:, 1].tolist()
    assert np.round(summary.recency[order], 2).tolist() == published[:, 2].tolist()
    assert np.round(summary.T[order], 2).tolist() == published[:, 3].tolist()


def test_cdnow_mean_repeat_spend_is_reproduced() -> None:
    summary = summarize_transactions(_cdnow_purchases(), date(1997, 9, 30), "week")
    published = np.loadtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", skiprows=1
    )
    position = {customer: index for index, customer in enumerate(summary.customer_id)}
    order = [position[int(customer)] for customer in published[:, 0]]
    # zbar is printed to the cent, rounding halves up (22.345 -> 22.35).
    assert np.abs(summary.monetary_value[order] - published[:, 4]).max() <= 0.005 + 1e-9


def test_same_day_purchases_count_once_and_their_amounts_add_up() -> None:
    rows = [
        ("ana", date(2024, 1, 1), 10.0),
        ("ana", date(2024, 1, 8), 5.0),
        ("ana", datetime(2024, 1, 8, 18, 30), 7.0),
        ("ana", date(2024, 1, 15), 30.0),
    ]
    summary = summarize_transactions(rows, date(2024, 1, 29), "day")
    assert summary.customer_id == ["ana"]
    assert summary.frequency.tolist() == [2.0]
    assert summary.recency.tolist() == [14.0]
    assert summary.T.tolist() == [28.0]
    assert summary.monetary_value.tolist() == [(12.0 + 30.0) / 2]


def test_purchases_after_calibration_end_are_ignored() -> None:
    rows = [
        ("ana", date(2024, 1, 1), 10.0),
        ("ana", date(2024, 3, 1), 99.0),
        ("bea", date(2024, 2, 1), 20.0),
    ]
    summary = summarize_transactions(rows, date(2024, 1, 15), "week")
    assert summary.customer_id == ["ana"]
    assert summary.frequency.tolist() == [0.0]
    assert summary.recency.tolist() == [0.0]
    assert summary.T.tolist() == [2.0]
    assert summary.monetary_value.tolist() == [0.0]


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        summarize_transactions([], date(2024, 1, 1), "month")  # type: ignore[arg-type]


def test_compress_merges_identical_histories_and_keeps_weights() -> None:
    histories = compress([0, 2, 2, 0, 2], [0, 5, 5, 0, 6], [10, 10, 10, 10, 10])
    assert histories.frequency.tolist() == [0, 2, 2]
    assert histories.recency.tolist() == [0, 5, 6]
    assert histories.weights.tolist() == [2, 2, 1]
    again = compress(histories.frequency, histories.recency, histories.T, weights=histories.weights)
    assert again.weights.tolist() == [2, 2, 1]


def test_compress_refuses_impossible_histories() -> None:
    with pytest.raises(ValueError, match="recency must not exceed T"):
        compress([1], [5], [3])
    with pytest.raises(ValueError, match="recency 0"):
        compress([0], [1], [3])
