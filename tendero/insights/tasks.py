"""Background work on insights (huey). Tasks are thin: they call a service."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="3", minute="30"))
def score_customer_value() -> int:
    """Every night at 03:30: lifetime-value scores of every customer with purchases
    (idempotent: a second run updates the same rows). Returns the scoring run's id."""
    # Imported here: huey imports every tasks module at start-up, and the scoring
    # brings NumPy and SciPy, which web processes otherwise never need.
    from tendero.insights.pipeline import score_all

    return score_all(trigger="task").pk


@db_periodic_task(crontab(hour="3", minute="15"))
def refresh_insights() -> int:
    """Every night at 03:15: the Insights page's figures worked out again from the
    purchases ledger (idempotent: a second run replaces them with the same). Returns
    the refresh's id."""
    # Imported here, like the scoring: the refresh brings NumPy.
    from tendero.insights.refresh import refresh_retention

    return refresh_retention(trigger="task").pk
