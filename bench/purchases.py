"""Purchases for the lifetime-value benchmark: about ten per customer of the
benchmark database (10,000,000 for its 1,000,000 customers), drawn from a
buy-till-you-die process (BG/NBD purchases, Gamma-Gamma spend), written with COPY.

Each customer's first purchase falls uniformly in the three years before the end;
after it they buy at their own Poisson rate (Gamma across customers) and, after
each repeat purchase, leave for good with their own probability (Beta across
customers); amounts follow Gamma-Gamma (each customer's own mean spend). So the
models have something true to find, at the scale the DESIGN budget names.

Each purchase names one of PRODUCTS products, a few best sellers and a long tail
(Zipf weights), drawn from a random stream of their own so that the purchase times
and amounts are the same with or without them; the quantity is the column's default
(one unit).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

WEEKS = 156  # three years
# Purchase rate per week ~ Gamma(r, 1/alpha), dropout ~ Beta(a, b); spend per purchase
# ~ Gamma(p, nu) with nu ~ Gamma(q, gamma) (euros).
TRANSACTIONS = {"r": 0.7, "alpha": 4.0, "a": 0.3, "b": 6.0}
SPEND = {"p": 6.0, "q": 4.0, "gamma": 15.0}
SEED = 20_261_124
EXTERNAL_PREFIX = "bench-purchase-"
BATCH_CUSTOMERS = 100_000
PRODUCTS = 40
PRODUCT_WEIGHTS = 1 / np.arange(1, PRODUCTS + 1) ** 1.1
PRODUCT_WEIGHTS /= PRODUCT_WEIGHTS.sum()


def simulate(
    customer_ids: np.ndarray, end: datetime, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer id, seconds before `end`, amount in cents) of every purchase."""
    n = len(customer_ids)
    age = rng.uniform(0, WEEKS, n)  # weeks from the first purchase to the end
    rate = rng.gamma(TRANSACTIONS["r"], 1 / TRANSACTIONS["alpha"], n)
    dropout = rng.beta(TRANSACTIONS["a"], TRANSACTIONS["b"], n)
    while_alive = rng.geometric(dropout)  # repeat purchases before leaving, plus one
    in_window = rng.poisson(rate * age)
    repeats = np.minimum(in_window, while_alive - 1)
    # The window's purchase times are uniform; a customer who left made the earliest.
    owner = np.repeat(np.arange(n), in_window)
    offsets = rng.uniform(0, 1, len(owner)) * age[owner]  # weeks after the first purchase
    order = np.lexsort((offsets, owner))
    owner, offsets = owner[order], offsets[order]
    starts = np.concatenate(([0], np.cumsum(in_window)[:-1]))
    rank = np.arange(len(owner)) - starts[owner]
    kept = rank < repeats[owner]
    owner = np.concatenate((np.arange(n), owner[kept]))
    weeks_before_end = np.concatenate((age, age[owner[n:]] - offsets[kept]))
    mean_spend_scale = 1 / rng.gamma(SPEND["q"], 1 / SPEND["gamma"], n)
    amounts = rng.gamma(SPEND["p"], mean_spend_scale[owner])
    cents = np.maximum(np.rint(amounts * 100), 1).astype(np.int64)
    seconds = np.rint(weeks_before_end * 7 * 86_400).astype(np.int64)
    return customer_ids[owner], seconds, cents


def seed_purchases(url: str, end: datetime | None = None) -> dict[str, Any]:
    """Replace the benchmark purchases (external ids starting with EXTERNAL_PREFIX)
    with a new draw for every customer; rows written and seconds taken."""
    import psycopg

    end = end or datetime.now(UTC).replace(microsecond=0)
    rng = np.random.default_rng(SEED)
    products = np.random.default_rng(SEED + 1)
    started = time.perf_counter()
    written = 0
    columns = (
        "customer_id, occurred_at, amount, currency, source, external_id, description, "
        "product, version, created_at, updated_at"
    )
    with psycopg.connect(url, connect_timeout=10) as conn:
        conn.execute(
            "DELETE FROM contracts_purchase WHERE external_id LIKE %s", [EXTERNAL_PREFIX + "%"]
        )
        ids = np.array(
            [row[0] for row in conn.execute("SELECT id FROM customers_customer ORDER BY id")],
            dtype=np.int64,
        )
        for start in range(0, len(ids), BATCH_CUSTOMERS):
            batch = ids[start : start + BATCH_CUSTOMERS]
            customers, seconds, cents = simulate(batch, end, rng)
            product = products.choice(PRODUCTS, size=len(customers), p=PRODUCT_WEIGHTS) + 1
            sql = f"COPY contracts_purchase ({columns}) FROM STDIN"
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                for number, (customer, before, amount, item) in enumerate(
                    zip(
                        customers.tolist(),
                        seconds.tolist(),
                        cents.tolist(),
                        product.tolist(),
                        strict=True,
                    ),
                    start=written,
                ):
                    when = end - timedelta(seconds=before)
                    copy.write_row(
                        (
                            customer,
                            when,
                            f"{amount // 100}.{amount % 100:02d}",
                            "EUR",
                            "import",
                            f"{EXTERNAL_PREFIX}{number}",
                            "",
                            f"Product {item:02d}",
                            1,
                            when,
                            when,
                        )
                    )
            written += len(customers)
        conn.commit()
    return {"rows": written, "seconds": time.perf_counter() - started}


def main() -> None:
    """`python -m bench.purchases URL`: seed, then print the JSON of `seed_purchases`."""
    import json
    import sys

    json.dump(seed_purchases(sys.argv[1]), sys.stdout)


if __name__ == "__main__":
    main()
