"""An import killed midway (kill -9) leaves nothing behind: no worker process, no
database session holding locks, a job marked failed once it is checked, and running the
same file again completes it. Killing `tendero demo` stops its task worker.

These tests run the real commands in child processes, on the test database (SQLite or
PostgreSQL), and look at the processes through /proc (Linux)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from tendero.accounts.models import User
from tendero.customers import importing
from tendero.customers.models import Customer, ImportJob, ImportStatus

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
    pytest.mark.django_db(transaction=True),  # the child processes see what the test writes
]

# Enough rows for the command to clean them in worker processes, and to be killed
# after its first batch is written and before its last.
ROWS = importing.PARALLEL_MIN_ROWS + 5_000


def _child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `tendero` child process using this test's database."""
    dropped = {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "SQLITE_PATH"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        host = db["HOST"] or "127.0.0.1"
        env["DATABASE_URL"] = (
            f"postgres://{quote(db['USER'])}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
    env["HUEY_IMMEDIATE"] = "0"
    env["HUEY_SQLITE_PATH"] = str(tmp_path / "tasks.sqlite3")
    env.update(extra)
    return env


def _tendero(*args: str) -> list[str]:
    return [sys.executable, "-m", "tendero.cli", *args]


# Processes, read from /proc without psutil


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time in clock ticks since boot), or None if no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _alive(pid: int, started: int) -> bool:
    """That very process (not another one given its pid since) exists and is no zombie."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and stat[2] == started


def _children(parent: int) -> dict[int, int]:
    """pid -> start time of the live children of `parent`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == parent and stat[0] != "Z":
                found[int(entry.name)] = stat[2]
    return found


def _wait_until(condition: Callable[[], Any], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _end(processes: dict[int, int]) -> None:
    """Kill those of `processes` (pid -> start time) still alive: a failing test leaves
    nothing running."""
    for pid, started in processes.items():
        if _alive(pid, started):
            os.kill(pid, signal.SIGKILL)


def _other_sessions() -> list[tuple[int, str]]:
    """(pid, state) of the other client sessions on the test database (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return [(pid, state) for pid, state in cursor.fetchall()]


def _customers_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("external_id,display_name,kind,emails,country\n")
        for n in range(rows):
            handle.write(f"K-{n:06d},Cliente Número {n},persona,cliente{n}@correo.es,ES\n")


def _output(handle: IO[bytes]) -> str:
    handle.flush()
    handle.seek(0)
    return handle.read().decode(errors="replace")[-3000:]


def test_a_killed_import_leaves_no_process_nor_session_and_runs_again(
    admin_user: User, tmp_path: Path
) -> None:
    path = tmp_path / "clientes.csv"
    _customers_file(path, ROWS)
    command = _tendero("import", "customers", str(path), "--user", admin_user.username)
    env = _child_env(tmp_path)
    workers: dict[int, int] = {}
    with (tmp_path / "import.log").open("w+b") as log:
        importer = subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603
        try:

            def midway() -> bool:
                workers.update(_children(importer.pid))
                job = ImportJob.objects.filter(original_name=path.name).first()
                return (
                    job is not None
                    and job.status == ImportStatus.RUNNING
                    and job.processed_rows >= importing.BATCH_SIZE
                    and bool(workers)
                )

            assert _wait_until(midway, 180), _output(log)
            importer.send_signal(signal.SIGKILL)
            importer.wait(timeout=10)
            workers_gone = _wait_until(
                lambda: not any(_alive(p, s) for p, s in workers.items()), 10
            )
        finally:
            importer.kill()
            importer.wait(timeout=10)
            _end(workers)

    assert workers_gone, "worker processes outlived the killed import"
    if connection.vendor == "postgresql":
        # Its session ended with it: no transaction left idle, holding the tables' locks.
        assert _wait_until(lambda: not _other_sessions(), 10), _other_sessions()

    job = ImportJob.objects.get(original_name=path.name)
    assert job.status == ImportStatus.RUNNING  # as the killed process left it
    assert 0 < job.processed_rows < ROWS

    api = Client()
    api.force_login(admin_user)
    seen = api.get(f"/api/v1/imports/{job.pk}").json()
    assert seen["status"] == ImportStatus.FAILED
    assert "running the same file again completes it" in seen["message"]
    assert str(job.runner_pid) in seen["message"]

    again = subprocess.run(  # noqa: S603
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{ROWS - job.created_count} created" in again.stdout, again.stdout
    assert "0 rejected" in again.stdout
    assert Customer.objects.count() == ROWS


def _open_files() -> set[str]:
    """What this process's file descriptors point to (paths, "socket:[inode]"...)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own)
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
    return found


def test_worker_processes_hold_no_database_connection(
    admin_user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(importing, "WORKERS", 2)
    path = tmp_path / "clientes.csv"
    _customers_file(path, 10)
    job = importing.create_job(admin_user, "customers", path, path.name)
    job.total_rows = 10
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        held = {os.readlink(f"/proc/self/fd/{connection.connection.fileno()}")}
    else:
        held = {f for f in _open_files() if f.startswith(str(connection.settings_dict["NAME"]))}
    assert held  # this process has its connection open

    pool = importing._worker_pool(job)
    assert pool is not None
    try:
        in_workers = [pool.submit(_open_files).result(timeout=30) for _ in range(4)]
    finally:
        pool.shutdown()

    assert all(not held & files for files in in_workers), held
    assert Customer.objects.count() == 0  # this process connects again


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_stopping_the_demo_stops_its_task_worker(
    make_customer: Callable[..., Customer], tmp_path: Path, stop: signal.Signals
) -> None:
    from tendero.customers.demo import EXTERNAL_ID_PREFIX

    make_customer(external_id=f"{EXTERNAL_ID_PREFIX}1")  # the demo data is there already
    command = _tendero("demo", "--addrport", f"127.0.0.1:{_free_port()}")
    worker: dict[int, int] = {}
    with (tmp_path / "demo.log").open("w+b") as log:
        demo = subprocess.Popen(  # noqa: S603
            command, env=_child_env(tmp_path, PYTHONUNBUFFERED="1"), stdout=log, stderr=log
        )
        try:
            assert _wait_until(lambda: b"Serving Tendero" in Path(log.name).read_bytes(), 60), (
                _output(log)
            )
            assert _wait_until(lambda: worker.update(_children(demo.pid)) or worker, 30)
            time.sleep(1)  # the worker and the server are under way
            demo.send_signal(stop)
            demo.wait(timeout=30)
            worker_gone = _wait_until(lambda: not any(_alive(p, s) for p, s in worker.items()), 15)
        finally:
            demo.kill()
            demo.wait(timeout=10)
            _end(worker)

    assert worker_gone, f"the task worker outlived the demo stopped by {stop.name}"
