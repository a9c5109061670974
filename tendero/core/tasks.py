"""Background work of the kernel: thin tasks that call its services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tendero.core import idempotency


@db_periodic_task(crontab(hour="3", minute="20"))
def purge_expired_idempotency_keys() -> dict[str, int]:
    """Every night at 03:20: the answers kept for Idempotency-Key retries older than a day go."""
    return {"idempotency_keys": idempotency.purge_expired_keys()}
