"""`tendero clv`: customer-lifetime-value models on files, and scoring the database.

    tendero clv summarize --transactions FILE --calibration-end YYYY-MM-DD --period week|day
                          [--output FILE]
    tendero clv fit       --summary FILE --model MODEL [--json] [--penalizer C]
    tendero clv predict   --summary FILE --model MODEL --horizon H
                          [--spend-model gamma-gamma] [--discount-rate D] [--output FILE]
    tendero clv validate  --transactions FILE --calibration-end DATE --holdout-end DATE
                          --period week|day [--model MODEL] [--chart FILE.svg]
    tendero clv score     [--calibration-end DATE] [--period week|day] [--model bg-nbd|pareto-nbd]

Exit status: 0 on success, 2 for bad usage or an unusable file (one line on
standard error), 1 when scoring the database failed.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tendero.insights.csvfiles import (
    BadFile,
    SummaryTable,
    TextSink,
    parse_day,
    read_summary,
    read_transactions,
    write_columns,
    write_summary,
)
from tendero.insights.forecasting import (
    ALL_MODELS,
    CONTINUOUS_MODELS,
    SPEND_MODELS,
    TRANSACTION_MODELS,
    fit_report,
    fit_spend_model,
    fit_transaction_model,
)

EXIT_BAD_INPUT = 2
SCORING_MODELS = ["bg-nbd", "pareto-nbd"]
# The actions that work on files only: tendero.cli runs them without django.setup().
FILE_ACTIONS = ("summarize", "fit", "predict", "validate")


def runs_without_apps(args: list[str]) -> bool:
    """Whether `tendero clv ARGS` needs neither the database nor the other apps."""
    return bool(args) and args[0] in FILE_ACTIONS


class ClvParser(CommandParser):
    """Usage errors as one line on standard error and exit status 2."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")
        raise CommandError(f"Error: {message}", returncode=EXIT_BAD_INPUT)


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"not a non-negative number: {text!r}")
    return value


def _whole_positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of periods: {text!r}")
    return int(text)


class Command(BaseCommand):
    help = (
        "Customer lifetime value: summarise purchases, fit and validate the BG/NBD, "
        "MBG/NBD, Pareto/NBD, BG/BB and Gamma-Gamma models on CSV files, and score every "
        "customer in the database. Exit status 2 for bad usage or an unusable file."
    )
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = ClvParser
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=ClvParser
        )

        summarize = commands.add_parser(
            "summarize",
            help="Per-customer frequency, recency, T and mean repeat spend from dated purchases.",
        )
        summarize.add_argument("--transactions", type=Path, required=True, metavar="FILE")
        summarize.add_argument("--calibration-end", type=_day, required=True, metavar="YYYY-MM-DD")
        summarize.add_argument("--period", choices=["week", "day"], required=True)
        summarize.add_argument("--output", type=Path, metavar="FILE")

        fit = commands.add_parser("fit", help="Fit a model to a summary file.")
        fit.add_argument("--summary", type=Path, required=True, metavar="FILE")
        fit.add_argument("--model", choices=ALL_MODELS, required=True)
        fit.add_argument("--json", action="store_true", help="Print the result as JSON.")
        fit.add_argument("--penalizer", type=_non_negative, default=0.0, metavar="C")

        predict = commands.add_parser(
            "predict", help="Per customer: P(alive), expected purchases and value."
        )
        predict.add_argument("--summary", type=Path, required=True, metavar="FILE")
        predict.add_argument("--model", choices=list(TRANSACTION_MODELS), required=True)
        predict.add_argument("--horizon", type=_whole_positive, required=True, metavar="H")
        predict.add_argument("--spend-model", choices=list(SPEND_MODELS))
        predict.add_argument(
            "--discount-rate", type=_non_negative, default=0.01, metavar="D",
            help="Per period (default 0.01).",
        )  # fmt: skip
        predict.add_argument("--output", type=Path, metavar="FILE")

        validate = commands.add_parser(
            "validate", help="Fit on a calibration period and compare with a holdout period."
        )
        validate.add_argument("--transactions", type=Path, required=True, metavar="FILE")
        validate.add_argument("--calibration-end", type=_day, required=True, metavar="YYYY-MM-DD")
        validate.add_argument("--holdout-end", type=_day, required=True, metavar="YYYY-MM-DD")
        validate.add_argument("--period", choices=["week", "day"], required=True)
        validate.add_argument("--model", choices=CONTINUOUS_MODELS, default="bg-nbd")
        validate.add_argument("--chart", type=Path, metavar="FILE.svg")

        score = commands.add_parser(
            "score", help="Score every customer with purchases in the database."
        )
        score.add_argument("--calibration-end", type=_day, metavar="YYYY-MM-DD")
        score.add_argument("--period", choices=["week", "day"], default="week")
        score.add_argument("--model", choices=SCORING_MODELS, default="bg-nbd")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_{action}")(options)
        except BadFile as exc:
            raise CommandError(exc.message, returncode=EXIT_BAD_INPUT) from exc

    # Subcommands ------------------------------------------------------------------

    def _summarize(self, options: dict[str, Any]) -> None:
        # Imported by the subcommand that needs it: each file command loads only its own
        # part of the models (the whole process is what `bench/clv.py` times).
        from tendero.insights.clv import summarize_transactions

        purchases = read_transactions(options["transactions"])
        summary = summarize_transactions(purchases, options["calibration_end"], options["period"])
        if not summary.customer_id:
            raise BadFile(f"nobody in {options['transactions']} bought before the calibration end")
        with self._output(options["output"]) as handle:
            write_summary(summary, handle)

    def _fit(self, options: dict[str, Any]) -> None:
        name = options["model"]
        path = options["summary"]
        table = read_summary(path, periods=name == "bg-bb", customer_ids=False)
        try:
            if name in SPEND_MODELS:
                if table.monetary_value is None:
                    raise BadFile(f"{path} needs a monetary_value column for {name}")
                model: Any = fit_spend_model(
                    table.frequency, table.monetary_value, table.weights, options["penalizer"]
                )
            else:
                model = fit_transaction_model(
                    name, table.frequency, table.recency, table.T, table.weights,
                    options["penalizer"],
                )  # fmt: skip
        except ValueError as exc:
            raise BadFile(f"{path}: {exc}") from exc
        report = fit_report(name, model)
        # The customers in the file (the sum of its weights), whichever the model learns from.
        report["n_customers"] = _count(table.n_customers)
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        fitted_to = f"{report['n_customers']:,.0f} customers"
        if name in SPEND_MODELS:
            fitted_to = f"the {model.n_customers:,.0f} repeat buyers of {fitted_to}"
        self.stdout.write(f"{name} fitted to {fitted_to}")
        self.stdout.write(f"{'parameter':<10} {'estimate':>14} {'std. error':>14}")
        for key, value in report["params"].items():
            error = report["standard_errors"][key]
            shown = "n/a" if error is None else f"{error:.6g}"
            self.stdout.write(f"{key:<10} {value:>14.6g} {shown:>14}")
        self.stdout.write(f"log-likelihood {report['log_likelihood']:.4f}")
        if not report["converged"]:
            self.stdout.write(f"warning: the fit did not converge ({model.message})")

    def _predict(self, options: dict[str, Any]) -> None:
        name = options["model"]
        path = options["summary"]
        horizon = options["horizon"]
        table = read_summary(path, periods=name == "bg-bb")
        columns: list[tuple[str, Any]] = []
        if table.customer_id is not None:
            columns.append(("customer_id", table.customer_id))
        try:
            model = fit_transaction_model(
                name, table.frequency, table.recency, table.T, table.weights
            )
            columns.append(
                ("p_alive", model.probability_alive(table.frequency, table.recency, table.T))
            )
            columns.append(
                (
                    "expected_purchases",
                    model.conditional_expected_purchases(
                        horizon, table.frequency, table.recency, table.T
                    ),
                )
            )
            if options["spend_model"]:
                columns.extend(self._value_columns(path, table, model, horizon, options))
        except ValueError as exc:
            raise BadFile(f"{path}: {exc}") from exc
        columns = [(key, _floats(values)) for key, values in columns]
        with self._output(options["output"]) as handle:
            write_columns(handle, columns)

    def _value_columns(
        self, path: Path, table: SummaryTable, model: Any, horizon: int, options: dict[str, Any]
    ) -> list[tuple[str, Any]]:
        if table.monetary_value is None:
            raise BadFile(f"{path} needs a monetary_value column for --spend-model")
        spend = fit_spend_model(table.frequency, table.monetary_value, table.weights)
        expected_spend = spend.conditional_expected_average_spend(
            table.frequency, table.monetary_value
        )
        value = spend.customer_lifetime_value(
            model, table.frequency, table.recency, table.T, table.monetary_value,
            horizon=horizon, step_length=1.0, discount_rate=options["discount_rate"],
        )  # fmt: skip
        return [("expected_spend", expected_spend), ("clv", value)]

    def _validate(self, options: dict[str, Any]) -> None:
        # Imported here: validation brings the charts, which other subcommands never need.
        from tendero.insights.validation import tracking_chart_svg, validate

        path = options["transactions"]
        purchases = read_transactions(path)
        try:
            result = validate(
                purchases,
                options["calibration_end"],
                options["holdout_end"],
                options["period"],
                options["model"],
            )
        except ValueError as exc:
            raise BadFile(f"{path}: {exc}") from exc
        params = ", ".join(f"{key}={value:.4g}" for key, value in result.model.params.items())
        self.stdout.write(
            f"{result.model_name} fitted to {result.overall.customers:,} customers up to "
            f"{options['calibration_end']}: {params}; log-likelihood "
            f"{result.model.log_likelihood:.2f}"
        )
        self.stdout.write(
            f"Repeat purchases per customer in the holdout ({result.holdout_periods:g} "
            f"{options['period']}s, to {options['holdout_end']}):"
        )
        self.stdout.write(f"{'frequency':<10} {'customers':>10} {'actual':>10} {'predicted':>10}")
        for row in [*result.buckets, result.overall]:
            actual = "-" if math.isnan(row.actual) else f"{row.actual:.3f}"
            predicted = "-" if math.isnan(row.predicted) else f"{row.predicted:.3f}"
            self.stdout.write(f"{row.label:<10} {row.customers:>10,} {actual:>10} {predicted:>10}")
        total_actual = result.overall.actual * result.overall.customers
        total_predicted = result.overall.predicted * result.overall.customers
        self.stdout.write(
            f"Total repeat purchases in the holdout: actual {total_actual:,.0f}, "
            f"predicted {total_predicted:,.1f}"
        )
        chart_path: Path | None = options["chart"]
        if chart_path is not None:
            svg = tracking_chart_svg(result, "Tracking cumulative repeat purchases")
            try:
                chart_path.write_bytes(svg)
            except OSError as exc:
                raise BadFile(f"cannot write {chart_path}: {exc.strerror or exc}") from exc
            self.stdout.write(f"Tracking chart written to {chart_path}.")

    def _score(self, options: dict[str, Any]) -> None:
        # Imported here: scoring the database needs Django's models, the file commands not.
        from tendero.insights.pipeline import score_all

        try:
            run = score_all(
                trigger="command",
                calibration_end=options["calibration_end"],
                period=options["period"],
                model=options["model"],
            )
        except Exception as exc:  # recorded on the run and logged with its traceback
            raise CommandError(f"Scoring failed: {type(exc).__name__}: {exc}") from exc
        if run.status != run.Status.SUCCEEDED:
            raise CommandError(f"Scoring failed: {run.message}")
        self.stdout.write(run.timings_line())
        if run.message:
            self.stderr.write(run.message)

    # Output ---------------------------------------------------------------------------

    @contextmanager
    def _output(self, path: Path | None) -> Iterator[TextSink]:
        if path is None:
            yield _Writer(self)
            return
        try:
            handle = path.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise BadFile(f"cannot write {path}: {exc.strerror or exc}") from exc
        with handle:
            yield handle


def _count(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _floats(values: Any) -> Any:
    if isinstance(values, np.ndarray):
        return [float(value) for value in values]
    return values


class _Writer:
    """A file-like view of the command's standard output (call_command captures it)."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command

    def write(self, text: str) -> int:
        self.command.stdout.write(text, ending="")
        return len(text)
