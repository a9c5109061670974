"""`python -m bench.clv [--customers N] [--json] [--whole-process] [--readers]`: Tendero's
BG/NBD fit beside the `Lifetimes` package (the reference Python implementation) on the
same simulated summary, in one run.

Both fit the same N-customer summary (1,000,000 by default), simulated from
BG/NBD with the parameters Fader, Hardie & Lee (2005) estimated on CDNOW
(r 0.243, alpha 4.414, a 0.793, b 2.426), customers observed for 1 to 78 weeks,
recency and T on a daily grid in weekly units, as a summary built from purchase
dates is. Measured:

- Tendero from the raw per-customer arrays (it compresses them to distinct
  histories itself, included in the time);
- Lifetimes from the same raw arrays, as it is documented and used;
- Lifetimes from the compressed histories with their weights (its `weights`
  argument), so that the comparison also shows what compression alone gives;
- the log-likelihood each reached, both evaluated by the same function (Tendero's)
  and each by its own, and their relative differences.

Each fit is timed by wall clock; Tendero's is the best of three runs (it is short
enough for the machine's noise to matter), Lifetimes' a single run. BLAS is
limited to one thread for both (OPENBLAS_NUM_THREADS=1 and friends), as a
scoring process on a 2-core server shares the machine with the database.
Runs in a process of its own so that the web process's memory figure in
bench.run does not include it.

`--whole-process` compares what a person waits for instead: the summary written to a
CSV file, then `tendero clv fit --summary FILE --model bg-nbd` as a process of its own
beside a process running pandas.read_csv and Lifetimes' BetaGeoFitter().fit on the same
file (start-up, imports, reading and fitting included), each `--repeats` times in
turn; medians and their ratio, and where each one's time goes. `--readers` times
reading that file with the CSV parsers considered for `tendero.insights.csvfiles`.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Hashable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
WEEKS = 78
SEED = 20_261_123


def simulated_summary(customers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from tendero.insights.clv import simulate_bg_nbd

    rng = np.random.default_rng(SEED)
    ages = rng.integers(7, WEEKS * 7 + 1, customers) / 7  # 1 to 78 weeks, in days
    return simulate_bg_nbd(customers, ages, PUBLISHED, rng, granularity=1 / 7)


def _our_log_likelihood(params: dict[str, float], x: Any, t_x: Any, age: Any) -> float:
    from tendero.insights.clv import BetaGeoFitter, compress

    histories = compress(x, t_x, age)
    model = BetaGeoFitter().set_params(**params)
    rows = model.log_likelihood_of(histories.frequency, histories.recency, histories.T)
    return float(np.dot(histories.weights, rows))


def tendero_fit(x: Any, t_x: Any, age: Any, repeats: int = 3) -> dict[str, Any]:
    from tendero.insights.clv import BetaGeoFitter, compress

    timings = []
    model = BetaGeoFitter()
    for _ in range(repeats):
        started = time.perf_counter()
        model = BetaGeoFitter().fit(x, t_x, age)
        timings.append(time.perf_counter() - started)
    return {
        "seconds": min(timings),
        "all_seconds": timings,
        "params": model.params,
        "log_likelihood": model.log_likelihood,
        "converged": model.converged,
        "iterations": model.iterations,
        "histories": len(compress(x, t_x, age).weights),
    }


def lifetimes_fit(x: Any, t_x: Any, age: Any, weights: Any = None) -> dict[str, Any]:
    import pandas as pd
    from lifetimes import BetaGeoFitter as LifetimesBetaGeo

    frequency, recency, T = (pd.Series(column) for column in (x, t_x, age))
    started = time.perf_counter()
    model = LifetimesBetaGeo().fit(
        frequency, recency, T, weights=None if weights is None else pd.Series(weights)
    )
    seconds = time.perf_counter() - started
    params = {name: float(model.params_[name]) for name in ("r", "alpha", "a", "b")}
    # Lifetimes fits on rescaled time and reports the mean penalised negative
    # log-likelihood of that; its own function on the unscaled data gives the
    # comparable total.
    log_params = np.log([params["r"], params["alpha"], params["a"], params["b"]])
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    own = -LifetimesBetaGeo._negative_log_likelihood(log_params, x, t_x, age, w, 0.0) * w.sum()
    return {"seconds": seconds, "params": params, "own_log_likelihood": float(own)}


def run(customers: int) -> dict[str, Any]:
    from tendero.insights.clv import compress

    x, t_x, age = simulated_summary(customers)
    ours = tendero_fit(x, t_x, age)
    raw = lifetimes_fit(x, t_x, age)
    histories = compress(x, t_x, age)
    compressed = lifetimes_fit(
        histories.frequency, histories.recency, histories.T, histories.weights
    )
    for result in (raw, compressed):
        result["log_likelihood"] = _our_log_likelihood(result["params"], x, t_x, age)
        result["relative_difference"] = abs(
            (result["log_likelihood"] - ours["log_likelihood"]) / ours["log_likelihood"]
        )
        result["own_relative_difference"] = abs(
            (result["own_log_likelihood"] - ours["log_likelihood"]) / ours["log_likelihood"]
        )
        result["speedup"] = result["seconds"] / ours["seconds"]
    return {
        "customers": customers,
        "true_params": PUBLISHED,
        "repeat_buyers": int(np.count_nonzero(x)),
        "tendero": ours,
        "lifetimes_raw": raw,
        "lifetimes_compressed": compressed,
    }


# Lifetimes' whole process, as its documentation uses it: read the summary with pandas
# and fit the per-customer columns. Prints where its time went.
LIFETIMES_PROCESS = """
import json, sys, time
started = time.perf_counter()
import pandas as pd
from lifetimes import BetaGeoFitter
imported = time.perf_counter()
summary = pd.read_csv(sys.argv[1])
read = time.perf_counter()
BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
fitted = time.perf_counter()
print(json.dumps({"imports": imported - started, "read": read - imported,
                  "fit": fitted - read}))
"""

# What `tendero clv fit` does, step by step in one process, to say where its time goes.
TENDERO_PHASES = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from django.conf import settings
settings.SECRET_KEY
from tendero.insights.management.commands import clv
imported = time.perf_counter()
import pyarrow.csv
imported_reader = time.perf_counter()
from tendero.insights.csvfiles import read_summary
from tendero.insights.forecasting import fit_report, fit_transaction_model
table = read_summary(Path(sys.argv[1]), customer_ids=False)
read = time.perf_counter()
model = fit_transaction_model("bg-nbd", table.frequency, table.recency, table.T)
fitted = time.perf_counter()
fit_report("bg-nbd", model)
reported = time.perf_counter()
print(json.dumps({"imports": imported - started, "reader import": imported_reader - imported,
                  "read": read - imported_reader, "fit": fitted - read,
                  "standard errors": reported - fitted}))
"""

# Reading the summary's numbers with each parser considered (import, then read).
READERS = {
    "csv.DictReader, row by row (before)": (
        "from tendero.insights import csvfiles",
        "csvfiles._summary_row_by_row(Path(F), ('frequency', 'recency', 'T'), None)",
    ),
    "numpy.loadtxt (C parser)": (
        "import numpy as np",
        "np.loadtxt(F, delimiter=',', skiprows=1, usecols=(1, 2, 3), dtype=np.float64)",
    ),
    "pyarrow.csv (tendero.insights.csvfiles)": (
        "import pyarrow.csv\nfrom tendero.insights.csvfiles import read_summary",
        "read_summary(Path(F), customer_ids=False)",
    ),
    "polars.read_csv": (
        "import polars as pl",
        "frame = pl.read_csv(F, columns=['frequency', 'recency', 'T'], "
        "schema_overrides={'frequency': pl.Float64, 'recency': pl.Float64, 'T': pl.Float64})"
        "\n[frame[name].to_numpy() for name in frame.columns]",
    ),
}


def write_summary_file(customers: int, path: Path) -> None:
    """The simulated summary as `tendero clv summarize` writes it."""
    from tendero.insights.clv import TransactionSummary
    from tendero.insights.csvfiles import write_summary

    x, t_x, age = simulated_summary(customers)
    ids: list[Hashable] = [f"C{index:07d}" for index in range(customers)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_summary(TransactionSummary(ids, x, t_x, age, np.zeros(customers)), handle)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and standard output of a process.

    The CPU time is the steadier figure on a machine shared with other work.
    """
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed: {done.stderr.strip()[-500:]}")
    return seconds, _children_cpu() - cpu, done.stdout


def _seconds(command: list[str]) -> tuple[float, str]:
    seconds, _cpu, output = _run(command)
    return seconds, output


def _median_phases(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def whole_process(customers: int, repeats: int) -> dict[str, Any]:
    """`tendero clv fit` beside pandas + Lifetimes, each a process of its own."""
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "summary.csv"
        write_summary_file(customers, path)
        tendero = [python, "-m", "tendero.cli", "clv", "fit", "--summary", str(path),
                   "--model", "bg-nbd", "--json"]  # fmt: skip
        lifetimes = [python, "-c", LIFETIMES_PROCESS, str(path)]
        ours: list[float] = []
        theirs: list[float] = []
        our_cpu: list[float] = []
        their_cpu: list[float] = []
        their_phases = []
        for _ in range(repeats):
            seconds, cpu, output = _run(tendero)
            ours.append(seconds)
            our_cpu.append(cpu)
            report = json.loads(output)
            seconds, cpu, output = _run(lifetimes)
            theirs.append(seconds)
            their_cpu.append(cpu)
            their_phases.append(json.loads(output))
        our_phases = [json.loads(_seconds([python, "-c", TENDERO_PHASES, str(path)])[1])
                      for _ in range(repeats)]  # fmt: skip
        interpreter = [_seconds([python, "-c", "pass"])[0] for _ in range(repeats)]
        size = path.stat().st_size
    return {
        "customers": customers,
        "file_bytes": size,
        "repeats": repeats,
        "tendero_seconds": ours,
        "lifetimes_seconds": theirs,
        "tendero_median": statistics.median(ours),
        "lifetimes_median": statistics.median(theirs),
        "ratio": statistics.median(theirs) / statistics.median(ours),
        "tendero_cpu_median": statistics.median(our_cpu),
        "lifetimes_cpu_median": statistics.median(their_cpu),
        "cpu_ratio": statistics.median(their_cpu) / statistics.median(our_cpu),
        "tendero_phases": _median_phases(our_phases),
        "lifetimes_phases": _median_phases(their_phases),
        "interpreter_start": statistics.median(interpreter),
        "tendero_params": report["params"],
    }


def readers(customers: int, repeats: int) -> dict[str, dict[str, float]]:
    """Median import and read seconds of each parser on the same summary file."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "summary.csv"
        write_summary_file(customers, path)
        for name, (imports, read) in READERS.items():
            code = (
                "import json, time\nfrom pathlib import Path\n"
                f"F = {str(path)!r}\nstarted = time.perf_counter()\n{imports}\n"
                f"imported = time.perf_counter()\n{read}\n"
                "print(json.dumps({'import': imported - started, "
                "'read': time.perf_counter() - imported}))"
            )
            try:
                runs = [json.loads(_seconds([sys.executable, "-c", code])[1])
                        for _ in range(repeats)]  # fmt: skip
            except RuntimeError as exc:  # polars is not a dependency: may be absent
                print(f"{name}: not measured ({str(exc)[-80:]})", file=sys.stderr)
                continue
            results[name] = _median_phases(runs)
    return results


def _print_whole_process(result: dict[str, Any]) -> None:
    print(
        f"{result['customers']:,} customers ({result['file_bytes'] / 1e6:.1f} MB), "
        f"median of {result['repeats']} runs each:"
    )
    print(f"tendero clv fit:        {result['tendero_median']:.3f} s  {result['tendero_seconds']}")
    print(
        f"pandas + Lifetimes fit: {result['lifetimes_median']:.3f} s  {result['lifetimes_seconds']}"
    )
    print(f"Tendero is faster by {result['ratio']:.1f} times")
    print(
        f"CPU seconds (user + system): tendero {result['tendero_cpu_median']:.3f}, "
        f"Lifetimes {result['lifetimes_cpu_median']:.3f}: {result['cpu_ratio']:.1f} times"
    )
    print(f"load average: {os.getloadavg()}")
    print(f"Python start-up alone: {result['interpreter_start']:.3f} s")
    for who in ("tendero", "lifetimes"):
        phases = ", ".join(f"{key} {value:.3f} s" for key, value in result[f"{who}_phases"].items())
        print(f"{who}: {phases}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--whole-process", action="store_true",
        help="time `tendero clv fit` and pandas + Lifetimes as processes, on a CSV file",
    )  # fmt: skip
    parser.add_argument("--readers", action="store_true", help="time the CSV parsers")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tendero.settings")
    if options.whole_process or options.readers:
        found: dict[str, Any] = {}
        if options.readers:
            found["readers"] = readers(options.customers, options.repeats)
        if options.whole_process:
            found["whole_process"] = whole_process(options.customers, options.repeats)
        if options.json:
            json.dump(found, sys.stdout)
            return
        for name, phases in found.get("readers", {}).items():
            print(f"{name:42} import {phases['import']:.3f} s, read {phases['read']:.3f} s")
        if "whole_process" in found:
            _print_whole_process(found["whole_process"])
        return
    result = run(options.customers)
    if options.json:
        json.dump(result, sys.stdout)
        return
    ours = result["tendero"]
    print(f"{result['customers']:,} customers, {ours['histories']:,} distinct histories")
    print(f"Tendero:   {ours['seconds']:.3f} s, LL {ours['log_likelihood']:.4f}, {ours['params']}")
    for key in ("lifetimes_raw", "lifetimes_compressed"):
        other = result[key]
        print(
            f"{key}: {other['seconds']:.3f} s ({other['speedup']:.0f}x Tendero's time), "
            f"LL {other['log_likelihood']:.4f} (relative difference "
            f"{other['relative_difference']:.1e}), {other['params']}"
        )


if __name__ == "__main__":
    main()
