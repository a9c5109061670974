"""A job left running by a process that has ended is failed when it is checked: when
its page or the API reads it, when another import starts, and every few minutes; a job
whose process still runs, or runs on another host, is left alone."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.core import processes
from tendero.core.processes import ProcessIdentity
from tendero.customers import importing
from tendero.customers.models import ImportJob, ImportStatus
from tendero.customers.tasks import fail_abandoned_imports

FILES = Path(__file__).parent / "files"
ENGLISH = FILES / "customers_en_utf8_bom.csv"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="process start times come from /proc (Linux)"
)


@pytest.fixture
def ended() -> ProcessIdentity:
    """A process of this host that ran and has ended."""
    child = subprocess.Popen(["sleep", "60"])  # noqa: S607
    started = processes.start_time(child.pid)
    child.kill()
    child.wait(timeout=10)
    return ProcessIdentity(child.pid, processes.host_name(), started)


def _running(user: User, runner: ProcessIdentity, **fields: object) -> ImportJob:
    job = importing.create_job(user, "customers", ENGLISH, ENGLISH.name)
    values = {
        "status": ImportStatus.RUNNING,
        "started_at": timezone.now(),
        "total_rows": 30_000,
        "processed_rows": 10_000,
        "runner_pid": runner.pid,
        "runner_host": runner.host,
        "runner_started_at": runner.started_at,
        **fields,
    }
    ImportJob.objects.filter(pk=job.pk).update(**values)
    return ImportJob.objects.get(pk=job.pk)


def test_a_job_whose_process_ended_is_failed_and_its_page_says_why(
    client: Client, admin_user: User, ended: ProcessIdentity
) -> None:
    job = _running(admin_user, ended)
    login(client, admin_user)

    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.abandoned_at is not None and job.finished_at is not None
    assert "The import stopped after 10000 of 30000 rows" in page
    assert f"(pid {ended.pid} on {ended.host}) ended before it finished" in page
    assert "running the same file again completes it" in page
    assert "Run again" in page
    spanish = client.get(
        reverse("imports:detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "La importación se detuvo tras 10000 de 30000 filas" in spanish
    assert f"(pid {ended.pid} en {ended.host}) terminó antes de acabar" in spanish


def test_the_progress_fragment_stops_polling_a_job_whose_process_ended(
    client: Client, admin_user: User, ended: ProcessIdentity
) -> None:
    job = _running(admin_user, ended)
    login(client, admin_user)

    fragment = client.get(
        reverse("imports:detail", args=[job.pk]) + "?fragment=progress",
        headers={"HX-Request": "true"},
    )

    assert fragment["HX-Refresh"] == "true"  # the page reloads and shows why


def test_the_api_reads_a_job_whose_process_ended_as_failed(
    admin_user: User, ended: ProcessIdentity
) -> None:
    job = _running(admin_user, ended, dry_run=True)
    client = Client()
    client.force_login(admin_user)

    body = client.get(f"/api/v1/imports/{job.pk}").json()
    spanish = client.get(f"/api/v1/imports/{job.pk}", HTTP_ACCEPT_LANGUAGE="es").json()

    assert body["status"] == "failed"
    assert body["message"].startswith("The dry run stopped after 10000 of 30000 rows")
    assert "Nothing was written" in body["message"]
    assert spanish["message"].startswith("La simulación se detuvo tras 10000 de 30000 filas")


def test_the_list_shows_a_job_whose_process_ended_as_failed(
    client: Client, admin_user: User, ended: ProcessIdentity
) -> None:
    job = _running(admin_user, ended)
    login(client, admin_user)

    html = client.get(reverse("imports:list")).content.decode()

    assert "status-failed" in html
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.FAILED


def test_a_job_whose_pid_now_names_another_process_is_failed(admin_user: User) -> None:
    # This process has the job's pid, but started an hour after the job's process did.
    me = processes.this_process()
    assert me.started_at is not None
    job = _running(admin_user, ProcessIdentity(me.pid, me.host, me.started_at - timedelta(hours=1)))

    assert importing.fail_if_abandoned(job).status == ImportStatus.FAILED


def test_a_job_whose_process_runs_is_left_running(admin_user: User) -> None:
    job = _running(admin_user, processes.this_process())

    assert importing.fail_if_abandoned(job).status == ImportStatus.RUNNING
    assert importing.fail_abandoned_jobs() == 0


def test_a_job_running_on_another_host_is_left_running(
    admin_user: User, ended: ProcessIdentity
) -> None:
    job = _running(admin_user, ProcessIdentity(ended.pid, "elsewhere.example", ended.started_at))

    assert importing.fail_if_abandoned(job).status == ImportStatus.RUNNING


def test_a_job_run_again_meanwhile_is_left_as_it_is(
    admin_user: User, ended: ProcessIdentity
) -> None:
    stale = _running(admin_user, ended)
    ImportJob.objects.filter(pk=stale.pk).update(runner_pid=os.getpid())  # a new run

    assert importing.fail_if_abandoned(stale).status == ImportStatus.RUNNING
    assert ImportJob.objects.get(pk=stale.pk).status == ImportStatus.RUNNING


def test_starting_an_import_fails_the_jobs_whose_process_ended(
    admin_user: User, ended: ProcessIdentity
) -> None:
    stale = _running(admin_user, ended)

    job = importing.run_import(
        importing.create_job(admin_user, "customers", ENGLISH, ENGLISH.name), admin_user
    )

    assert job.status == ImportStatus.DONE
    assert ImportJob.objects.get(pk=stale.pk).status == ImportStatus.FAILED
    me = processes.this_process()
    assert (job.runner_pid, job.runner_host) == (me.pid, me.host)
    assert job.runner_started_at == me.started_at


def test_the_periodic_task_fails_the_jobs_whose_process_ended(
    admin_user: User, ended: ProcessIdentity
) -> None:
    stale = _running(admin_user, ended)
    alive = _running(admin_user, processes.this_process())

    assert fail_abandoned_imports.call_local() == 1

    assert ImportJob.objects.get(pk=stale.pk).status == ImportStatus.FAILED
    assert ImportJob.objects.get(pk=alive.pk).status == ImportStatus.RUNNING


def test_a_job_failed_so_runs_again_to_the_end(admin_user: User, ended: ProcessIdentity) -> None:
    job = importing.fail_if_abandoned(_running(admin_user, ended))
    importing.start_run(admin_user, job, dry_run=False)

    job = importing.run_import(job, admin_user)

    assert job.status == ImportStatus.DONE
    assert job.abandoned_at is None
    assert "ended before it finished" not in job.outcome_message
    assert job.created_count == 3


def test_is_alive_tells_a_running_process_from_an_ended_or_zombie_one(
    ended: ProcessIdentity,
) -> None:
    me = processes.this_process()
    assert processes.is_alive(me.pid, me.started_at)
    assert processes.is_alive(me.pid, None)
    assert not processes.is_alive(ended.pid, ended.started_at)
    zombie = subprocess.Popen(["true"])  # noqa: S607
    try:
        started = processes.start_time(zombie.pid)
        assert _wait_for_exit(zombie.pid)
        assert not processes.is_alive(zombie.pid, started)  # ended, not yet collected
    finally:
        zombie.wait(timeout=10)


def _wait_for_exit(pid: int) -> bool:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return True
        time.sleep(0.02)
    return False


def test_a_child_whose_parent_is_gone_ends_at_once() -> None:
    # Asked with a pid that is not its parent's: as if its parent had ended already.
    code = (
        "import os, sys; from tendero.core import processes; "
        "processes.die_with_parent(int(sys.argv[1])); print('still here')"
    )
    gone = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, str(os.getpid() + 1)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    there = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, str(os.getpid())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (gone.returncode, gone.stdout) == (1, "")
    assert (there.returncode, there.stdout.strip()) == (0, "still here"), there.stderr


def test_a_running_job_says_which_process_runs_it(client: Client, admin_user: User) -> None:
    me = processes.this_process()
    job = _running(admin_user, me)
    login(client, admin_user)

    fragment = client.get(
        reverse("imports:detail", args=[job.pk]) + "?fragment=progress",
        headers={"HX-Request": "true"},
    ).content.decode()
    body = client.get(f"/api/v1/imports/{job.pk}").json()

    assert f"Run by process {me.pid} on {me.host}." in fragment
    assert (body["status"], body["runner_pid"], body["runner_host"]) == ("running", me.pid, me.host)
    assert body["runner_started_at"] is not None
