"""`python -m bench.timeline_cache`: is the timeline's per-process cache of compiled
branch SQL (`tendero.core.timeline._COMPILED`) worth its complexity?

Builds a database of its own (a temporary SQLite file, or BENCH_DATABASE_URL's
PostgreSQL database, created and dropped), loads the demo company
(BENCH_TIMELINE_CUSTOMERS customers, 600 by default) and reads the first page of
the timeline of BENCH_TIMELINE_REQUESTS customers (400) twice, interleaved: with
the cache as it is, and with it emptied before each read (every branch compiled
by Django's ORM, as without the cache). Prints p50 and p95 per read and the
difference, the anchor being the same reads in the same run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ["TENDERO_ENV"] = "development"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tendero.settings")
    import django

    django.setup()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    customers = int(os.environ.get("BENCH_TIMELINE_CUSTOMERS", "600"))
    requests = int(os.environ.get("BENCH_TIMELINE_REQUESTS", "400"))
    postgres = os.environ.get("BENCH_DATABASE_URL", "")
    folder = Path(tempfile.mkdtemp(prefix="tendero-timeline-"))
    if postgres:
        url = postgres.rsplit("/", 1)[0] + "/tendero_bench_timeline"
        subprocess.run(
            [
                "dropdb",
                "--if-exists",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "tendero_bench_timeline",
            ],
            check=True,
        )
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", "tendero_bench_timeline"], check=True
        )
    else:
        url = f"sqlite:///{folder / 'timeline.sqlite3'}"
    os.environ["TENDERO_DATA_DIR"] = str(folder)
    _setup(url)
    from django.core.management import call_command
    from django.db import connection

    from tendero.core import timeline
    from tendero.customers.demo import create_demo_data
    from tendero.customers.models import Customer

    call_command("migrate", interactive=False, verbosity=0)
    create_demo_data(customers=customers)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    chosen = [ids[(n * 7919) % len(ids)] for n in range(requests)]
    timeline.page([chosen[0]])  # warm: imports, connection
    cached: list[float] = []
    compiled: list[float] = []
    for customer_id in chosen:
        start = time.perf_counter()
        timeline.page([customer_id])
        cached.append(time.perf_counter() - start)
        timeline._COMPILED.clear()
        start = time.perf_counter()
        timeline.page([customer_id])
        compiled.append(time.perf_counter() - start)
    vendor = connection.vendor
    connection.close()
    sources = len(list(timeline.sources()))
    print(
        f"timeline first page, {vendor}, {customers} demo customers, {sources} sources, "
        f"{requests} reads each:"
    )
    for name, values in (("cached SQL", cached), ("compiled each read", compiled)):
        print(
            f"  {name:>20}: p50 {statistics.median(values) * 1e3:.2f} ms, "
            f"p95 {_percentile(values, 0.95) * 1e3:.2f} ms"
        )
    saved = statistics.median(compiled) - statistics.median(cached)
    print(
        f"  the cache saves {saved * 1e3:.2f} ms per read at p50 "
        f"({saved / statistics.median(compiled):.0%})"
    )
    if postgres:
        subprocess.run(
            ["dropdb", "--force", "-h", "127.0.0.1", "-U", "postgres", "tendero_bench_timeline"],
            check=False,
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
