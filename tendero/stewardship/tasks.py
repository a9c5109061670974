"""Background work on the customer base (huey). Tasks are thin: they call a service."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tendero.stewardship.duplicates import detect_duplicates


@db_periodic_task(crontab(hour="2", minute="40"))
def detect_duplicate_customers() -> int:
    """Every night at 02:40: refresh the possible duplicate pairs; returns how many are open."""
    return detect_duplicates()
