"""Background work on customers (huey). Tasks are thin: they take ids and call a service."""

from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tendero.accounts.models import User
from tendero.core.errors import DomainError
from tendero.customers import importing
from tendero.customers.models import ImportJob, ImportStatus


@db_task()
def run_import_job(job_id: int, user_id: int) -> None:
    """Run a queued import. Safe to run twice: a job no longer queued is left alone,
    and importing the same file again changes nothing."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if job is None:
        return
    if user is None:
        job.status = ImportStatus.FAILED
        job.message = _("The user who started this import is no longer active.")
        job.save(update_fields=["status", "message"])
        return
    try:
        importing.run_import(job, user)
    except DomainError as exc:
        job.status = ImportStatus.FAILED
        job.message = str(exc.message)[:500]
        job.save(update_fields=["status", "message"])
    except Exception:
        return


@db_periodic_task(crontab(minute="*/5"))
def fail_abandoned_imports() -> int:
    """Every five minutes: mark failed the imports left running by a process of this
    host that has ended (killed, say); returns how many. Pages and the API check the
    jobs they show as well: this catches the ones nobody looks at."""
    return importing.fail_abandoned_jobs()
