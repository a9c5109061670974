"""`tendero clv` on files: the CDNOW data of Fader, Hardie & Lee (2005), bad input
refused with one line and exit status 2."""

import csv
import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

DATA = Path(__file__).parent / "data"


def clv(*args: str) -> str:
    out = StringIO()
    call_command("clv", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        clv(*args)
    assert caught.value.returncode == 2
    return str(caught.value)


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW_sample.txt in the command's shape: customer_id (the sample id), date, amount."""
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "date", "amount"])
        for line in (DATA / "CDNOW_sample.txt").read_text().splitlines():
            _master, sample_id, day, _cds, dollars = line.split()
            writer.writerow([int(sample_id), f"{day[:4]}-{day[4:6]}-{day[6:]}", dollars])
    return path


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_csv: Path) -> Path:
    path = cdnow_csv.with_name("summary.csv")
    call_command(
        "clv", "summarize", "--transactions", str(cdnow_csv), "--calibration-end",
        "1997-09-30", "--period", "week", "--output", str(path),
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_summarize_reproduces_the_published_cdnow_summary(cdnow_summary: Path) -> None:
    ours = {row["customer_id"]: row for row in _rows(cdnow_summary)}
    published = _rows(DATA / "cdnow_customers_summary.csv")
    spend = {
        row["ID"]: row for row in _rows(DATA / "cdnow_customers_summary_with_transactions.csv")
    }
    assert list(_rows(cdnow_summary)[0]) == [
        "customer_id", "frequency", "recency", "T", "monetary_value",
    ]  # fmt: skip
    assert len(ours) == len(published) == 2357
    for row in published:
        mine = ours[row["ID"]]
        assert mine["frequency"] == row["frequency"]
        assert round(float(mine["recency"]), 2) == float(row["recency"])
        assert round(float(mine["T"]), 2) == float(row["T"])
        assert abs(float(mine["monetary_value"]) - float(spend[row["ID"]]["zbar"])) <= 0.005 + 1e-9


def test_summarize_writes_to_standard_output_and_counts_a_day_once(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "customer_id,date,amount\n"
        "ana,2024-01-01,10\n"
        "ana,2024-01-08T09:00:00,5\n"
        "ana,2024-01-08T18:30:00+01:00,7.5\n"
        "ana,2024-02-01,99\n"
    )
    output = clv(
        "summarize", "--transactions", str(path), "--calibration-end", "2024-01-29",
        "--period", "day",
    )  # fmt: skip
    assert output.splitlines() == [
        "customer_id,frequency,recency,T,monetary_value",
        "ana,1,7,28,12.5",
    ]


def test_fit_json_gives_the_published_bg_nbd_estimates() -> None:
    report = json.loads(
        clv(
            "fit",
            "--summary",
            str(DATA / "cdnow_customers_summary.csv"),
            "--model",
            "bg-nbd",
            "--json",
        )
    )
    assert set(report) >= {"model", "params", "log_likelihood", "n_customers"}
    assert set(report) <= {
        "model", "params", "log_likelihood", "n_customers", "standard_errors", "converged",
        "iterations",
    }  # fmt: skip
    assert report["model"] == "bg-nbd"
    assert report["n_customers"] == 2357
    params = report["params"]
    assert list(params) == ["r", "alpha", "a", "b"]
    assert params["r"] == pytest.approx(0.243, abs=1e-3)
    assert params["alpha"] == pytest.approx(4.414, abs=1e-3)
    assert params["a"] == pytest.approx(0.793, abs=1e-3)
    assert params["b"] == pytest.approx(2.426, abs=1e-3)
    assert report["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)


def test_fit_prints_parameters_standard_errors_and_log_likelihood(cdnow_summary: Path) -> None:
    output = clv("fit", "--summary", str(cdnow_summary), "--model", "gamma-gamma")
    # Fader, Hardie & Lee, "RFM and CLV" (2005): p = 6.25, q = 3.74, gamma = 15.44.
    assert "fitted to the 946 repeat buyers of 2,357 customers" in output
    assert re.search(r"^p\s+6\.2\d", output, re.MULTILINE)
    assert re.search(r"^gamma\s+15\.4\d", output, re.MULTILINE)
    for name in ("p", "q", "gamma", "std. error", "log-likelihood"):
        assert name in output


def test_fit_bg_bb_counts_the_weights_as_customers() -> None:
    report = json.loads(
        clv("fit", "--summary", str(DATA / "donations.csv"), "--model", "bg-bb", "--json")
    )
    assert report["n_customers"] == 11104
    assert report["params"]["alpha"] == pytest.approx(1.204, abs=2e-3)
    assert report["log_likelihood"] == pytest.approx(-33225.6, abs=0.1)


def test_predict_writes_one_row_per_input_row(cdnow_summary: Path, tmp_path: Path) -> None:
    output = tmp_path / "predictions.csv"
    clv(
        "predict", "--summary", str(cdnow_summary), "--model", "bg-nbd", "--horizon", "39",
        "--spend-model", "gamma-gamma", "--discount-rate", "0.002", "--output", str(output),
    )  # fmt: skip
    rows = _rows(output)
    assert len(rows) == 2357
    assert list(rows[0]) == [
        "customer_id",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    alive = np.array([float(row["p_alive"]) for row in rows])
    purchases = np.array([float(row["expected_purchases"]) for row in rows])
    value = np.array([float(row["clv"]) for row in rows])
    assert ((alive >= 0) & (alive <= 1)).all()
    # FHL 2005: the 39-week holdout holds 1,788 repeat purchases; BG/NBD predicts ~1,788 too.
    assert 1600 < purchases.sum() < 2000
    assert (value >= 0).all() and value.sum() > 0


def test_predict_without_ids_or_spend(tmp_path: Path) -> None:
    output = clv(
        "predict", "--summary", str(DATA / "donations.csv"), "--model", "bg-bb", "--horizon", "5"
    )
    lines = output.splitlines()
    assert lines[0] == "p_alive,expected_purchases"
    assert len(lines) == 1 + 22


def test_validate_prints_the_table_and_writes_the_tracking_chart(
    cdnow_csv: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "tracking.svg"
    output = clv(
        "validate", "--transactions", str(cdnow_csv), "--calibration-end", "1997-09-30",
        "--holdout-end", "1998-06-30", "--period", "week", "--chart", str(chart),
    )  # fmt: skip
    lines = output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("frequency"))
    labels = [line.split()[0] for line in lines[header + 1 : header + 10]]
    assert labels == ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]
    holdout_days = {
        (row["customer_id"], row["date"])
        for row in _rows(cdnow_csv)
        if "1997-10-01" <= row["date"] <= "1998-06-30"
    }
    assert f"Total repeat purchases in the holdout: actual {len(holdout_days):,}," in output
    svg = chart.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Actual" in svg


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summarize", "--transactions", "missing.csv", "--calibration-end", "2024-01-01",
          "--period", "week"], "cannot read"),
        (["summarize", "--transactions", "{bad_header}", "--calibration-end", "2024-01-01",
          "--period", "week"], "needs the columns"),
        (["summarize", "--transactions", "{bad_date}", "--calibration-end", "2024-01-01",
          "--period", "week"], "line 2: not a date"),
        (["summarize", "--transactions", "{bad_date}", "--calibration-end", "2024-13-01",
          "--period", "week"], "not a date"),
        (["summarize", "--transactions", "{bad_date}", "--calibration-end", "2024-01-01",
          "--period", "month"], "invalid choice"),
        (["fit", "--summary", "{bad_header}", "--model", "bg-nbd"], "needs the columns"),
        (["fit", "--summary", "{one_timers}", "--model", "bg-nbd"], "repeat purchase"),
        (["fit", "--summary", "{one_timers}", "--model", "gamma-gamma"], "monetary_value"),
        (["fit", "--summary", "{one_timers}", "--model", "nope"], "invalid choice"),
        (["fit", "--summary", "{one_timers}", "--model", "bg-nbd", "--penalizer", "-1"],
         "non-negative"),
        (["predict", "--summary", "{one_timers}", "--model", "bg-nbd", "--horizon", "0"],
         "whole number"),
        (["validate", "--transactions", "{bad_date}", "--calibration-end", "2024-01-01",
          "--holdout-end", "2023-01-01", "--period", "week"], "line 2"),
        (["validate", "--transactions", "{good}", "--calibration-end", "2024-03-01",
          "--holdout-end", "2024-02-01", "--period", "week"], "holdout must end after"),
        ([], "required"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_exit_status_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    files = {
        "bad_header": "who,when,much\n1,2024-01-01,3\n",
        "bad_date": "customer_id,date,amount\n1,01/02/2024,3\n",
        "one_timers": "customer_id,frequency,recency,T\n1,0,0,10\n2,0,0,12\n",
        "good": "customer_id,date,amount\n1,2024-01-01,3\n1,2024-02-01,4\n2,2024-01-05,1\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    args = [arg.format(**{name: str(tmp_path / f"{name}.csv") for name in files}) for arg in args]
    assert message in refused(*args)


def test_the_console_command_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,frequency,recency,T\n1,x,0,3\n")
    for args in (
        ["fit", "--summary", str(bad), "--model", "bg-nbd"],
        ["fit", "--summary", str(bad), "--model", "unknown"],
    ):
        result = subprocess.run(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "tendero.cli", "clv", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_a_file_command_runs_without_setting_up_the_apps() -> None:
    """`tendero clv fit` needs numpy, scipy and the CSV reader, not Django's apps (their
    models, admin, API, task queue): importing those was most of its start-up time."""
    code = (
        "import sys\n"
        "from django.apps import apps\n"
        "from tendero.cli import main\n"
        "main()\n"
        "print('APPS READY', apps.ready)\n"
        "print('MODULES', *sorted(sys.modules))\n"
    )
    summary = str(DATA / "cdnow_customers_summary.csv")
    result = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-c", code, "clv", "fit", "--summary", summary, "--model", "bg-nbd",
         "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report, ready, modules = result.stdout.splitlines()
    assert json.loads(report)["n_customers"] == 2357
    assert ready == "APPS READY False"
    imported = set(modules.split()[1:])
    assert {"pyarrow.csv", "scipy.optimize"} <= imported
    unneeded = {
        "tendero.customers.models",
        "tendero.insights.models",
        "tendero.insights.pipeline",
        "django.contrib.admin",
        "django.contrib.auth.models",
        "huey",
        "ninja",
        "pandas",
    }
    assert imported.isdisjoint(unneeded), imported & unneeded


def test_the_database_commands_still_set_up_the_apps() -> None:
    code = (
        "import atexit\n"
        "from django.apps import apps\n"
        "atexit.register(lambda: print('APPS READY', apps.ready))\n"
        "from tendero.cli import main\n"
        "main()\n"
    )
    result = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-c", code, "clv", "score", "--period", "month"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "invalid choice: 'month'" in result.stderr
    assert result.stdout.strip() == "APPS READY True"
