"""The insights' step of the demo: lifetime value and the Insights figures."""

from datetime import timedelta

from tendero.core.registry import DemoRun
from tendero.insights.pipeline import score_all
from tendero.insights.refresh import refresh_retention


def value(demo: DemoRun) -> None:
    """Every customer's lifetime value scored from their purchases, as the nightly task
    does: first as it would have been scored a year, six and three months ago (which
    leaves the monthly snapshots the scorecard compares with), then as of yesterday;
    and the Insights figures worked out, as the nightly refresh does."""
    yesterday = (demo.today - timedelta(days=1)).date()
    for days_back in (365, 182, 91):
        score_all(trigger="demo", calibration_end=yesterday - timedelta(days=days_back))
    run = score_all(trigger="demo", calibration_end=yesterday)
    if run.status != "succeeded":
        demo.say(f"Lifetime value not scored: {run.message}")
    else:
        demo.say(f"Lifetime value scored for {run.n_customers:,} customers.")
    # The Insights page reads figures refreshed nightly: work them out now.
    refresh_retention(trigger="demo")
