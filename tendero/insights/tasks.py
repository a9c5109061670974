"""Background work on insights (huey). Tasks are thin: they call a service."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tendero.insights.pipeline import score_all


@db_periodic_task(crontab(hour="3", minute="30"))
def score_customer_value() -> int:
    """Every night at 03:30: lifetime-value scores of every customer with purchases
    (idempotent: a second run updates the same rows). Returns the scoring run's id."""
    return score_all(trigger="task").pk
