"""Scoring inside the database (SQLite and PostgreSQL alike): the one-query summary
equals the reference summary, every customer with purchases gets one row, runs
are idempotent, and the nightly task and `tendero clv score` call the same service."""

import random
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from tendero.contracts.models import Purchase
from tendero.customers.models import Customer
from tendero.insights import tasks
from tendero.insights.clv import summarize_transactions
from tendero.insights.models import (
    CustomerValue,
    ModelRun,
    PortfolioValue,
    ValueSnapshot,
    month_start,
)
from tendero.insights.pipeline import SNAPSHOT_MONTHS, aggregate_histories, score_all

END = date(2025, 6, 30)
TIMINGS = re.compile(
    r"^aggregate \d+\.\d+ s, fit \d+\.\d+ s, predict \d+\.\d+ s, write \d+\.\d+ s, "
    r"total \d+\.\d+ s, customers \d+, histories \d+$"
)


def _at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _buy(customer: Customer, when: datetime, amount: str, currency: str = "EUR") -> Purchase:
    return Purchase(customer=customer, occurred_at=when, amount=Decimal(amount), currency=currency)


@pytest.fixture
def shop(make_customer: Callable[..., Customer]) -> list[Customer]:
    """40 customers with random histories (same-day purchases, purchases after the
    calibration end), and one without purchases."""
    rng = random.Random(4)
    customers = [make_customer(display_name=f"Cliente {n}") for n in range(41)]
    purchases = []
    for customer in customers[:40]:
        first = END - timedelta(days=rng.randint(0, 500))
        days = [first] + [
            first + timedelta(days=rng.randint(0, 560)) for _ in range(rng.randint(0, 6))
        ]
        for day in days:
            for _ in range(rng.choice([1, 1, 2])):
                purchases.append(
                    _buy(customer, _at(day, rng.randint(0, 23), rng.randint(0, 59)),
                         f"{rng.randint(1, 20000) / 100:.2f}")
                )  # fmt: skip
    Purchase.objects.bulk_create(purchases)
    return customers


def _reference(
    period: Literal["week", "day"] = "week",
) -> dict[int, tuple[float, float, float, float]]:
    local = timezone.get_default_timezone()
    rows = [
        (p.customer_id, timezone.localtime(p.occurred_at, local).date(), p.amount)
        for p in Purchase.objects.all()
    ]
    summary = summarize_transactions(rows, END, period)
    return {
        int(str(customer)): (
            summary.frequency[i],
            summary.recency[i],
            summary.T[i],
            summary.monetary_value[i],
        )
        for i, customer in enumerate(summary.customer_id)
    }


def _ours(period_days: int = 7) -> dict[int, tuple[float, float, float, float]]:
    histories = aggregate_histories(END, "EUR")
    return {
        int(customer): (
            histories.frequency[i],
            histories.recency_days[i] / period_days,
            histories.age_days[i] / period_days,
            histories.monetary_value[i],
        )
        for i, customer in enumerate(histories.customer_id)
    }


def _assert_same(ours: dict[int, Any], reference: dict[int, Any]) -> None:
    assert set(ours) == set(reference)
    for customer, expected in reference.items():
        np.testing.assert_allclose(ours[customer], expected, rtol=1e-12, atol=1e-9)


def test_the_summary_query_equals_the_reference_summary(shop: list[Customer]) -> None:
    _assert_same(_ours(), _reference("week"))
    _assert_same(_ours(1), _reference("day"))


@override_settings(TIME_ZONE="Europe/Madrid")
def test_purchases_count_on_their_local_calendar_day(
    make_customer: Callable[..., Customer],
) -> None:
    customer = make_customer(display_name="Noctámbula")
    madrid = ZoneInfo("Europe/Madrid")
    Purchase.objects.bulk_create(
        [
            # 23:30 and 00:30 local time: two days in Madrid, one day in UTC.
            _buy(customer, datetime(2025, 6, 1, 23, 30, tzinfo=madrid), "10"),
            _buy(customer, datetime(2025, 6, 2, 0, 30, tzinfo=madrid), "20"),
            # Bought on the calibration end day, local time, but the next day in UTC... and
            # the other way round: 00:30 local on the day after the end is left out.
            _buy(customer, datetime(2025, 6, 30, 23, 59, tzinfo=madrid), "30"),
            _buy(customer, datetime(2025, 7, 1, 0, 30, tzinfo=madrid), "40"),
        ]
    )
    _assert_same(_ours(1), _reference("day"))
    assert _ours(1)[customer.pk] == (2.0, 29.0, 29.0, 25.0)


def test_same_day_purchases_count_once_and_refund_days_do_not_count(
    make_customer: Callable[..., Customer],
) -> None:
    customer = make_customer(display_name="Ana")
    Purchase.objects.bulk_create(
        [
            _buy(customer, _at(date(2025, 6, 1), 9), "10"),
            _buy(customer, _at(date(2025, 6, 8), 9), "5"),
            _buy(customer, _at(date(2025, 6, 8), 18), "7.50"),
            # A sale refunded the same day, and a refund on a day of its own: no purchase.
            _buy(customer, _at(date(2025, 6, 15), 9), "30"),
            _buy(customer, _at(date(2025, 6, 15), 10), "-30"),
            _buy(customer, _at(date(2025, 6, 20), 10), "-5"),
            # Another currency is left out (no exchange rates yet).
            _buy(customer, _at(date(2025, 6, 22), 10), "99", currency="USD"),
        ]
    )
    assert _ours(1)[customer.pk] == (1.0, 7.0, 29.0, 12.5)


def test_score_writes_every_customer_with_purchases_once(shop: list[Customer]) -> None:
    run = score_all(calibration_end=END)
    assert run.status == ModelRun.Status.SUCCEEDED, run.message
    buyers = set(
        Purchase.objects.filter(occurred_at__lt=_at(END + timedelta(days=1), 0)).values_list(
            "customer_id", flat=True
        )
    )
    values = CustomerValue.objects.all()
    assert {value.customer_id for value in values} == buyers
    assert run.n_customers == len(buyers) and 0 < run.n_histories <= len(buyers)
    assert not CustomerValue.objects.filter(customer=shop[40]).exists()
    reference = _reference("week")
    for value in values:
        assert value.model_run_id == run.pk and value.currency == "EUR"
        assert 0 <= value.p_alive <= 1 and value.clv_36m >= value.clv_12m >= 0
        frequency, recency, age, spend = reference[value.customer_id]
        assert (value.frequency, value.recency, value.T) == pytest.approx((frequency, recency, age))
        assert float(value.monetary_value) == pytest.approx(spend, abs=0.005 + 1e-9)
    assert set(run.params) >= {"transaction", "spend", "thresholds"}
    assert TIMINGS.match(run.timings_line())


def test_a_second_run_updates_and_removes_customers_no_longer_scored(shop: list[Customer]) -> None:
    first = score_all(calibration_end=END)
    count = CustomerValue.objects.count()
    gone = CustomerValue.objects.order_by("customer_id").first()
    assert gone is not None
    Purchase.objects.filter(customer_id=gone.customer_id).delete()
    second = score_all(calibration_end=END, model="pareto-nbd", period="day")
    assert second.status == ModelRun.Status.SUCCEEDED, second.message
    assert CustomerValue.objects.count() == count - 1
    assert not CustomerValue.objects.filter(model_run=first).exists()
    assert not CustomerValue.objects.filter(customer_id=gone.customer_id).exists()
    assert ModelRun.objects.count() == 2


def test_the_first_scores_of_each_month_are_kept_as_its_snapshot(shop: list[Customer]) -> None:
    first = score_all(calibration_end=END)
    snapshot = {
        row.customer_id: (row.month, row.model_run_id, row.p_alive, row.clv_36m, row.segment)
        for row in ValueSnapshot.objects.all()
    }
    assert snapshot == {
        value.customer_id: (date(2025, 6, 1), first.pk, value.p_alive, value.clv_36m, value.segment)
        for value in CustomerValue.objects.all()
    }
    # And each portfolio's figures for the scorecard, from the same scores.
    assert sum(PortfolioValue.objects.values_list("customers", flat=True)) == len(snapshot)
    assert {row.model_run_id for row in PortfolioValue.objects.all()} == {first.pk}
    # Later in the month: the month keeps its first scores.
    score_all(calibration_end=END, period="day")
    assert ValueSnapshot.objects.filter(month=date(2025, 6, 1)).count() == len(snapshot)
    assert set(ValueSnapshot.objects.values_list("model_run_id", flat=True)) == {first.pk}
    # A later month gets its own; one past SNAPSHOT_MONTHS lets the oldest go.
    score_all(calibration_end=date(2025, 8, 3))
    assert sorted(set(ValueSnapshot.objects.values_list("month", flat=True))) == [
        date(2025, 6, 1),
        date(2025, 8, 1),
    ]
    score_all(calibration_end=month_start(date(2025, 6, 1), -SNAPSHOT_MONTHS))
    assert sorted(set(ValueSnapshot.objects.values_list("month", flat=True))) == [
        date(2025, 8, 1),
        date(2027, 7, 1),
    ]
    # A customer's snapshots go with them.
    shop[0].delete()
    assert not ValueSnapshot.objects.filter(customer_id=shop[0].pk).exists()


def test_month_start_counts_back_across_years() -> None:
    assert month_start(date(2026, 3, 31)) == date(2026, 3, 1)
    assert month_start(date(2026, 3, 31), 3) == date(2025, 12, 1)
    assert month_start(date(2026, 1, 15), 25) == date(2023, 12, 1)
    assert month_start(date(2026, 1, 15), -12) == date(2027, 1, 1)


def test_a_model_that_cannot_be_fitted_is_a_failed_run_that_changes_nothing(
    make_customer: Callable[..., Customer],
) -> None:
    customer = make_customer(display_name="Una vez")
    Purchase.objects.bulk_create([_buy(customer, _at(date(2025, 1, 1)), "10")])
    run = score_all(calibration_end=END)
    assert run.status == ModelRun.Status.FAILED
    assert "repeat purchase" in run.message
    assert run.finished_at is not None
    assert not CustomerValue.objects.exists()


def test_without_purchases_there_is_nothing_to_score(db: None) -> None:
    run = score_all(calibration_end=END)
    assert run.status == ModelRun.Status.SUCCEEDED and run.n_customers == 0
    assert "nobody to score" in run.message


def test_the_command_prints_machine_readable_timings(shop: list[Customer]) -> None:
    out = StringIO()
    call_command(
        "clv", "score", "--calibration-end", END.isoformat(), stdout=out, stderr=StringIO()
    )
    assert TIMINGS.match(out.getvalue().strip())
    assert ModelRun.objects.get().trigger == "command"


def test_the_command_fails_with_status_1_when_the_model_cannot_be_fitted(
    db: None, make_customer: Callable[..., Customer]
) -> None:
    customer = make_customer(display_name="Una vez")
    Purchase.objects.bulk_create([_buy(customer, _at(date(2025, 1, 1)), "10")])
    with pytest.raises(CommandError) as caught:
        call_command("clv", "score", "--calibration-end", END.isoformat(), stdout=StringIO())
    assert caught.value.returncode == 1 and "repeat purchase" in str(caught.value)


def test_the_nightly_task_scores_and_is_safe_to_run_twice(shop: list[Customer]) -> None:
    first = tasks.score_customer_value.call_local()
    count = CustomerValue.objects.count()
    second = tasks.score_customer_value.call_local()
    assert ModelRun.objects.get(pk=first).trigger == "task"
    assert CustomerValue.objects.count() == count > 0
    assert set(CustomerValue.objects.values_list("model_run_id", flat=True)) == {second}


def test_unknown_arguments_are_refused(db: None) -> None:
    with pytest.raises(ValueError):
        score_all(period="month")
    with pytest.raises(ValueError):
        score_all(model="bg-bb")
    with pytest.raises(ValueError):
        score_all(trigger="cron")
    assert not ModelRun.objects.exists()
