"""Lifetime-value scoring of every customer, inside the database.

`score_all` runs three set-based steps and records them in a `ModelRun`:

1. aggregate: ONE query, run by the database, turns the purchases into one row
   per customer (repeat purchase days, recency and age in days, mean repeat
   spend). It groups purchases by customer and local calendar day first, so
   purchases on the same day count once and their amounts add up, then
   aggregates the days per customer. A day whose amounts add up to zero or less
   (a sale refunded the same day, a refund on its own) is not a purchase day.
   Only purchases in the company's default currency count (there are no
   exchange rates yet), up to and including the calibration end (local date).
   The rows arrive in chunks straight into NumPy arrays: no object per customer.
2. fit and predict (`tendero.insights.scoring`): the transaction model
   (BG/NBD or Pareto/NBD) on the distinct (frequency, recency, T) histories,
   Gamma-Gamma on the repeat buyers; P(alive), purchases in the next 90 days,
   12- and 36-month discounted value and the segment of every customer.
3. write: one `CustomerValue` per customer with purchases, set-based (on
   PostgreSQL a binary COPY into a temporary table and one INSERT ... ON
   CONFLICT DO UPDATE; elsewhere bulk upserts in chunks), and the rows of
   customers who no longer have purchases to score are deleted. Customers
   without purchases have no row: "not scored yet". The first scores of each
   calibration month are also copied into `ValueSnapshot`s, for the scorecard.

Running it twice updates the rows; it never duplicates them.
"""

from __future__ import annotations

import logging
import struct
import time
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from tendero.contracts.models import default_currency
from tendero.customers.models import Customer
from tendero.insights.forecasting import DAYS_PER_PERIOD
from tendero.insights.models import (
    CustomerValue,
    ModelRun,
    Segment,
    ValueSnapshot,
    month_start,
)
from tendero.insights.scoring import Histories, Scores, score
from tendero.insights.value_change import write_portfolio_values

logger = logging.getLogger(__name__)

FETCH_CHUNK = 100_000
SQLITE_WRITE_CHUNK = 2_000
PERIODS = ("week", "day")
SCORING_MODELS = ("bg-nbd", "pareto-nbd")
WRITE_LOCK = 7_310_004  # the advisory lock key of the scores' write
# Monthly snapshots of the scores are kept for this many months, the latest included
# (the scorecard looks a year back; the Insights page shows up to 24 months).
SNAPSHOT_MONTHS = 25
SEGMENT_CODES = {segment.value: code for code, segment in enumerate(Segment)}


# ---------------------------------------------------------------- 1. aggregate


def _day_start(day: date) -> datetime:
    """The first moment of a local calendar day, aware."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def summary_sql(vendor: str) -> str:
    """The per-customer summary query, for 'postgresql' or 'sqlite'.

    Parameters, in order: the calibration end (a date), the timezone name (for
    the local calendar day), the first moment after the calibration end, the
    currency. Columns: customer_id, frequency, recency_days, age_days,
    monetary_value.

    Days are numbered from 1970-01-01 and a day's amount is in whole cents, so
    that the first day's amount (which is not a repeat purchase) is found without
    a window or a sort: it is MIN(day * 10^13 + cents) modulo 10^13 (%% in the SQL), the
    smallest day winning. (A day's purchases must add up to less than 10^11 in
    the currency: they do.) Amounts add up as doubles, rounded to cents per day.
    """
    if vendor == "postgresql":
        day = "CAST((occurred_at AT TIME ZONE %s)::date - DATE '1970-01-01' AS bigint)"
        end = "(CAST(%s AS date) - DATE '1970-01-01')"
        real = "double precision"
    else:
        # Django's own SQLite function: the local date of a stored UTC datetime.
        local_date = f"django_datetime_cast_date(occurred_at, %s, '{connection.timezone_name}')"
        day = f"CAST(julianday({local_date}) - 2440587.5 AS integer)"
        end = "CAST(julianday(%s) - 2440587.5 AS integer)"
        real = "real"
    shift = "10000000000000"
    return f"""
        SELECT customer_id,
               COUNT(*) - 1 AS frequency,
               MAX(day) - MIN(day) AS recency_days,
               {end} - MIN(day) AS age_days,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(CAST(cents AS {real}))
                          - CAST(MIN(day * {shift} + cents) %% {shift} AS {real}))
                         / (100.0 * (COUNT(*) - 1))
                    ELSE 0 END AS monetary_value
        FROM (
            SELECT customer_id, {day} AS day,
                   CAST(ROUND(SUM(CAST(amount AS {real})) * 100) AS bigint) AS cents
            FROM contracts_purchase
            WHERE occurred_at < %s AND currency = %s
            GROUP BY 1, 2
            HAVING ROUND(SUM(CAST(amount AS {real})) * 100) > 0
        ) purchase_days
        GROUP BY customer_id
    """  # noqa: S608


def aggregate_histories(calibration_end: date, currency: str | None = None) -> Histories:
    """Every customer's purchase history up to `calibration_end` (local date), from
    one query; fetched in chunks into arrays."""
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    sql = summary_sql(vendor)
    tzname = timezone.get_default_timezone_name()
    params: list[Any] = [
        calibration_end.isoformat(),
        tzname,
        # As the backend stores datetimes (UTC text on SQLite).
        connection.ops.adapt_datetimefield_value(_day_start(calibration_end + timedelta(days=1))),
        currency or default_currency(),
    ]
    ids: list[np.ndarray] = []
    numbers: list[np.ndarray] = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_CHUNK):
            block = np.array(rows, dtype=np.float64)
            ids.append(np.array([row[0] for row in rows], dtype=np.int64))
            numbers.append(block[:, 1:])
    if not ids:
        return Histories(
            np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)
        )
    columns = np.concatenate(numbers)
    return Histories(
        customer_id=np.concatenate(ids),
        frequency=np.ascontiguousarray(columns[:, 0]),
        recency_days=np.ascontiguousarray(columns[:, 1]),
        age_days=np.ascontiguousarray(columns[:, 2]),
        monetary_value=np.ascontiguousarray(columns[:, 3]),
    )


# ---------------------------------------------------------------- 3. write

_LOAD_COLUMNS = (
    ("customer_id", "bigint", ">i8"),
    ("p_alive", "double precision", ">f8"),
    ("expected_purchases_90d", "double precision", ">f8"),
    ("clv_12m", "double precision", ">f8"),
    ("clv_36m", "double precision", ">f8"),
    ("frequency", "integer", ">i4"),
    ("recency", "double precision", ">f8"),
    ("age", "double precision", ">f8"),
    ("monetary_value", "double precision", ">f8"),
    ("segment", "smallint", ">i2"),
)
_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_PGCOPY_TRAILER = struct.pack(">h", -1)


def _binary_copy_rows(columns: dict[str, np.ndarray], start: int, stop: int) -> bytes:
    """Rows start:stop in PostgreSQL's binary COPY format: fixed-width, so one
    structured NumPy array is the whole block, without a Python object per row."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for name, _sql_type, dtype in _LOAD_COLUMNS:
        fields.extend([(f"{name}_length", ">i4"), (name, dtype)])
    block = np.empty(stop - start, dtype=fields)
    block["count"] = len(_LOAD_COLUMNS)
    for name, _sql_type, dtype in _LOAD_COLUMNS:
        block[f"{name}_length"] = np.dtype(dtype).itemsize
        block[name] = columns[name][start:stop]
    return block.tobytes()


def _load_columns(histories: Histories, scores: Scores, days_per_period: int) -> dict[str, Any]:
    codes = np.zeros(len(histories), dtype=np.int16)
    for value, code in SEGMENT_CODES.items():
        codes[scores.segment == value] = code
    return {
        "customer_id": histories.customer_id,
        "p_alive": scores.p_alive,
        "expected_purchases_90d": scores.expected_purchases_90d,
        "clv_12m": np.round(scores.clv_12m, 2),
        "clv_36m": np.round(scores.clv_36m, 2),
        "frequency": histories.frequency.astype(np.int32),
        "recency": histories.recency_days / days_per_period,
        "age": histories.age_days / days_per_period,
        "monetary_value": np.round(histories.monetary_value, 2),
        "segment": codes,
    }


def _write_postgresql(run: ModelRun, columns: dict[str, Any], scored_at: datetime) -> None:
    table = CustomerValue._meta.db_table
    customers = Customer._meta.db_table
    segment_case = " ".join(f"WHEN {code} THEN '{value}'" for value, code in SEGMENT_CODES.items())
    count = len(columns["customer_id"])
    with connection.cursor() as cursor:
        # Dropped at commit; also dropped here in case an outer transaction still holds one.
        cursor.execute("DROP TABLE IF EXISTS insights_value_load")
        cursor.execute(
            "CREATE TEMPORARY TABLE insights_value_load ("
            + ", ".join(f"{name} {sql_type}" for name, sql_type, _ in _LOAD_COLUMNS)
            + ") ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY insights_value_load FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_PGCOPY_HEADER)
            for start in range(0, count, FETCH_CHUNK):
                copy.write(_binary_copy_rows(columns, start, min(start + FETCH_CHUNK, count)))
            copy.write(_PGCOPY_TRAILER)
        # Customers deleted since the aggregation are left out by the join.
        cursor.execute(
            # Only our own constants are interpolated; the values are parameters.
            f"""
            INSERT INTO {table} (customer_id, model_run_id, scored_at, p_alive,
                expected_purchases_90d, clv_12m, clv_36m, currency, frequency, recency, age,
                monetary_value, segment)
            SELECT scores.customer_id, %s, %s, scores.p_alive, scores.expected_purchases_90d,
                CAST(scores.clv_12m AS numeric(14, 2)), CAST(scores.clv_36m AS numeric(14, 2)),
                %s, scores.frequency, scores.recency, scores.age,
                CAST(scores.monetary_value AS numeric(14, 2)),
                CASE scores.segment {segment_case} END
            FROM insights_value_load scores
            JOIN {customers} customer ON customer.id = scores.customer_id
            ON CONFLICT (customer_id) DO UPDATE SET
                model_run_id = EXCLUDED.model_run_id,
                scored_at = EXCLUDED.scored_at,
                p_alive = EXCLUDED.p_alive,
                expected_purchases_90d = EXCLUDED.expected_purchases_90d,
                clv_12m = EXCLUDED.clv_12m,
                clv_36m = EXCLUDED.clv_36m,
                currency = EXCLUDED.currency,
                frequency = EXCLUDED.frequency,
                recency = EXCLUDED.recency,
                age = EXCLUDED.age,
                monetary_value = EXCLUDED.monetary_value,
                segment = EXCLUDED.segment
            """,  # noqa: S608
            [run.pk, scored_at, run.currency],
        )


def _write_in_chunks(run: ModelRun, columns: dict[str, Any], scored_at: datetime) -> None:
    segments = {code: value for value, code in SEGMENT_CODES.items()}
    fields = [
        "model_run",
        "scored_at",
        "p_alive",
        "expected_purchases_90d",
        "clv_12m",
        "clv_36m",
        "currency",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "segment",
    ]
    ids = columns["customer_id"]
    for start in range(0, len(ids), SQLITE_WRITE_CHUNK):
        stop = start + SQLITE_WRITE_CHUNK
        chunk = {name: values[start:stop].tolist() for name, values in columns.items()}
        existing = set(
            Customer.objects.filter(pk__in=chunk["customer_id"]).values_list("pk", flat=True)
        )
        rows = [
            CustomerValue(
                customer_id=customer_id,
                model_run=run,
                scored_at=scored_at,
                p_alive=chunk["p_alive"][index],
                expected_purchases_90d=chunk["expected_purchases_90d"][index],
                clv_12m=round(chunk["clv_12m"][index], 2),
                clv_36m=round(chunk["clv_36m"][index], 2),
                currency=run.currency,
                frequency=chunk["frequency"][index],
                recency=chunk["recency"][index],
                T=chunk["age"][index],
                monetary_value=round(chunk["monetary_value"][index], 2),
                segment=segments[chunk["segment"][index]],
            )
            for index, customer_id in enumerate(chunk["customer_id"])
            if customer_id in existing
        ]
        CustomerValue.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["customer"], update_fields=fields
        )


def write_scores(run: ModelRun, histories: Histories, scores: Scores | None) -> None:
    """Upsert every scored customer's row and delete the rows no longer scored, in
    one transaction."""
    scored_at = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two runs at once (the command during the nightly task) write one after the
            # other, so the last one's rows are all there is.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        if scores is not None and len(histories):
            columns = _load_columns(histories, scores, DAYS_PER_PERIOD[run.period])
            if connection.vendor == "postgresql":
                _write_postgresql(run, columns, scored_at)
            else:
                _write_in_chunks(run, columns, scored_at)
        # Customers no longer scored (their purchases are gone). Plain SQL: the ORM's
        # delete would load every row when any delete signal is connected.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {CustomerValue._meta.db_table} WHERE model_run_id <> %s",  # noqa: S608
                [run.pk],
            )
        take_snapshot(run)
        write_portfolio_values(run)


def take_snapshot(run: ModelRun) -> bool:
    """Copy the scores `run` just wrote into its calibration month's snapshot, unless
    that month has one already (the month's first scores are kept); delete snapshots
    older than SNAPSHOT_MONTHS. True when a snapshot was taken. Runs inside the
    write's transaction."""
    month = month_start(run.calibration_end)
    if ValueSnapshot.objects.filter(month=month).exists():
        return False
    snapshots, values = ValueSnapshot._meta.db_table, CustomerValue._meta.db_table
    with connection.cursor() as cursor:
        # Only our own table names are interpolated; the values are parameters.
        columns = "customer_id, model_run_id, p_alive, clv_36m, segment"
        cursor.execute(
            f"INSERT INTO {snapshots} (month, {columns}) SELECT %s, {columns} FROM {values}",  # noqa: S608
            [month],
        )
        cursor.execute(
            f"DELETE FROM {snapshots} WHERE month < %s",  # noqa: S608
            [month_start(month, SNAPSHOT_MONTHS - 1)],
        )
    return True


# ---------------------------------------------------------------- the run


def score_all(
    trigger: str = "command",
    calibration_end: date | None = None,
    period: str = "week",
    model: str = "bg-nbd",
) -> ModelRun:
    """Score every customer with purchases; return the finished `ModelRun`.

    Writes one `CustomerValue` per customer with purchases up to
    `calibration_end` (default: today, local date) and deletes the others'.
    When a model cannot be fitted (e.g. nobody bought twice) the run is
    recorded as failed with the reason and the scores are left as they were;
    other errors are recorded and raised. Raises ValueError for an unknown
    trigger, period or model.
    """
    if trigger not in ModelRun.Trigger.values:
        raise ValueError(f"unknown trigger {trigger!r}")
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    if model not in SCORING_MODELS:
        raise ValueError(f"model must be one of {', '.join(SCORING_MODELS)}")
    end = calibration_end or timezone.localdate()
    run = ModelRun.objects.create(
        trigger=trigger,
        started_at=timezone.now(),
        calibration_end=end,
        period=period,
        transaction_model=model,
        currency=default_currency(),
    )
    started = time.perf_counter()
    try:
        histories = aggregate_histories(end, run.currency)
        aggregated = time.perf_counter()
        run.aggregate_seconds = aggregated - started
        run.n_customers = len(histories)
        scores = None
        if len(histories):
            try:
                scores = score(histories, period, model)
            except ValueError as exc:
                return _finish(run, started, ModelRun.Status.FAILED, str(exc))
            run.fit_seconds = scores.fit_seconds
            run.predict_seconds = scores.predict_seconds
            run.n_histories = scores.n_histories
            run.params = scores.params
            run.transaction_log_likelihood = scores.transaction_model.log_likelihood
            run.spend_log_likelihood = scores.spend_model.log_likelihood
        written = time.perf_counter()
        write_scores(run, histories, scores)
        run.write_seconds = time.perf_counter() - written
        message = "" if len(histories) else f"No purchases up to {end}: nobody to score."
        return _finish(run, started, ModelRun.Status.SUCCEEDED, message)
    except Exception as exc:
        _finish(run, started, ModelRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        logger.exception("Lifetime-value scoring run %s failed", run.pk)
        raise


def _finish(run: ModelRun, started: float, status: str, message: str) -> ModelRun:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    run.total_seconds = time.perf_counter() - started
    run.save()
    return run
