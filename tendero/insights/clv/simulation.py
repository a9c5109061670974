"""Simulated customer summaries, for benchmarks and property tests.

Each returns (frequency, recency, T) drawn from the model's own generative
story, vectorised: given N(T) = n purchases of a Poisson process in (0, T],
the purchase times are n sorted uniforms, so the k-th one is T * Beta(k, n-k+1).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .estimation import ArrayLike, FloatArray

IntArray = npt.NDArray[np.int64]
SimulatedHistories = tuple[FloatArray, FloatArray, FloatArray]


def simulate_bg_nbd(
    n_customers: int,
    T: ArrayLike,
    params: dict[str, float],
    rng: np.random.Generator,
    *,
    modified: bool = False,
    granularity: float | None = None,
) -> SimulatedHistories:
    """Histories of `n_customers` new customers observed for T (scalar or per customer).

    The customer drops out after each repeat purchase with probability p
    (and, with `modified`, also right after the first one, as in MBG/NBD).
    `granularity` puts recency and T on a grid of that step, as a summary
    built from purchase dates does (e.g. 1/7 for days in weekly units); such
    data compress to far fewer distinct histories.
    """
    age = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    rate = rng.gamma(params["r"], 1 / params["alpha"], n_customers)
    dropout = rng.beta(params["a"], params["b"], n_customers)
    # Repeat purchases made before dropping out: geometric on 1, 2, ... (BG/NBD)
    # or on 0, 1, ... (MBG/NBD).
    purchases_while_alive = rng.geometric(dropout) - (1 if modified else 0)
    purchases_in_window = rng.poisson(rate * age)
    frequency = np.minimum(purchases_in_window, purchases_while_alive)
    recency = _time_of_kth_purchase(frequency, purchases_in_window, age, rng)
    return _rounded(frequency, recency, age, granularity)


def simulate_pareto_nbd(
    n_customers: int,
    T: ArrayLike,
    params: dict[str, float],
    rng: np.random.Generator,
    *,
    granularity: float | None = None,
) -> SimulatedHistories:
    """Pareto/NBD histories: exponential lifetimes with rate mu ~ Gamma(s, beta)."""
    age = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    rate = rng.gamma(params["r"], 1 / params["alpha"], n_customers)
    death_rate = rng.gamma(params["s"], 1 / params["beta"], n_customers)
    observed_alive = np.minimum(rng.exponential(1 / death_rate), age)
    frequency = rng.poisson(rate * observed_alive)
    recency = _time_of_kth_purchase(frequency, frequency, observed_alive, rng)
    return _rounded(frequency, recency, age, granularity)


def _time_of_kth_purchase(
    k: IntArray, n: IntArray, window: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Time of the k-th of n uniform purchases in (0, window]; 0 when k == 0."""
    bought = k > 0
    recency = np.zeros(len(k))
    recency[bought] = window[bought] * rng.beta(k[bought], n[bought] - k[bought] + 1)
    return recency


def _rounded(
    frequency: IntArray, recency: FloatArray, age: FloatArray, granularity: float | None
) -> SimulatedHistories:
    if granularity is not None:
        age = np.floor(age / granularity) * granularity
        # Rounded to the nearest tick, not down: a summary built from dates
        # counts whole days between purchases made at any hour of those days.
        recency = np.minimum(np.round(recency / granularity) * granularity, age)
    return frequency.astype(np.float64), recency, age
