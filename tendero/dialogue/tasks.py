"""Background work on the dialogue (huey). Tasks are thin: they take ids and call a service."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tendero.dialogue import rhythm


@db_periodic_task(crontab(hour="2", minute="30"))
def refresh_contact_rhythms() -> int:
    """Every night at 02:30: learned rhythms, last interactions and next contact dates
    for every customer (idempotent: running it twice changes nothing more)."""
    return rhythm.refresh_contact_rhythms()
