"""Background work for accounts: thin tasks that call services."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tendero.accounts.models import ApiToken


@db_periodic_task(crontab(hour="3", minute="15"))
def purge_expired_credentials() -> dict[str, int]:
    """Every night: delete expired sessions and long-expired or revoked API tokens.

    Safe to run twice: a second run finds nothing left to delete.
    """
    now = timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    cutoff = now - timedelta(days=90)
    tokens, _ = ApiToken.objects.filter(revoked_at__lt=cutoff).delete()
    expired, _ = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    return {"sessions": sessions, "tokens": tokens + expired}
