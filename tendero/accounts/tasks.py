"""Background work for accounts: thin tasks that call services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tendero.accounts import services


@db_periodic_task(crontab(hour="3", minute="15"))
def purge_expired_credentials() -> dict[str, int]:
    """Every night at 03:15: expired sessions and long-spent API tokens go."""
    return services.purge_expired_credentials()
