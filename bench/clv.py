"""`python -m bench.clv [--customers N] [--json]`: Tendero's BG/NBD fit beside the
`Lifetimes` package (the reference Python implementation) on the same simulated
summary, in one run.

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
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tendero.settings")
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
