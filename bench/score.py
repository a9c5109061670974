"""`python -m bench.score`: `tendero clv score` on the benchmark database, in a
process of its own, printing one JSON object: the run's phases, its outcome and
this process's peak resident memory (the DESIGN budget: 60 s, 2 GB).

The month's snapshot of the scores is deleted first, so that the run measured is
the month's first, the slowest: it also copies every score into the snapshot."""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tendero.settings")
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from tendero.insights.models import ValueSnapshot, month_start
    from tendero.insights.pipeline import score_all

    month = month_start(timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {ValueSnapshot._meta.db_table} WHERE month = %s",  # noqa: S608
            [month],
        )
    started = time.perf_counter()
    run = score_all(trigger="command")
    wall = time.perf_counter() - started
    json.dump(
        {
            "status": run.status,
            "message": run.message,
            "customers": run.n_customers,
            "histories": run.n_histories,
            "aggregate_seconds": run.aggregate_seconds,
            "fit_seconds": run.fit_seconds,
            "predict_seconds": run.predict_seconds,
            "write_seconds": run.write_seconds,
            "total_seconds": run.total_seconds,
            "wall_seconds": wall,
            "params": run.params,
            "snapshot_rows": ValueSnapshot.objects.filter(month=month).count(),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
