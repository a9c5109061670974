"""`tendero serve` runs Tendero behind gunicorn with a fixed number of processes and
threads, so the database connections it can hold are bounded whatever the number of
clients. Each test starts a real server as a subprocess on a free loopback port,
against the test database, the way an operator runs it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from tendero.accounts.models import User
from tendero.accounts.services import create_api_token
from tendero.customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="counts PostgreSQL connections"
)
# Settings of this test process that must not leak into the server's.
DROPPED = {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "TENDERO_TEST_DATABASE"}
STARTUP_SECONDS = 90
REQUEST_SECONDS = 60


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    application_name: str
    log: Path


@dataclass
class Load:
    statuses: Counter[int | str]
    most_connections_held: int


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_environment(tmp_path: Path, application_name: str, **settings: str) -> dict[str, str]:
    """The environment of a development deployment (debug off) on the test database."""
    env = {key: value for key, value in os.environ.items() if key not in DROPPED}
    env.update(
        TENDERO_ENV="development",
        DEBUG="false",
        TENDERO_DATA_DIR=str(tmp_path),
        TENDERO_DB_APPLICATION_NAME=application_name,
    )
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        credentials = quote(database["USER"] or "postgres", safe="")
        if database["PASSWORD"]:
            credentials += ":" + quote(database["PASSWORD"], safe="")
        host = database["HOST"] or "127.0.0.1"
        port = database["PORT"] or "5432"
        env["DATABASE_URL"] = f"postgres://{credentials}@{host}:{port}/{database['NAME']}"
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(database["NAME"])
    env.update(settings)
    return env


def _get(url: str, token: str | None = None) -> tuple[int, bytes, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback only)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:  # noqa: S310
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def _post_json(url: str, token: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:  # noqa: S310
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, tmp_path: Path) -> Iterator[Server]:
    """Start `tendero <command>`, wait until /healthz answers, stop it afterwards."""
    log = tmp_path / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tendero.cli", *command],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", env["TENDERO_DB_APPLICATION_NAME"], log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if _get(f"{server.url}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer in {STARTUP_SECONDS} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _connections_held(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        )
        return int(cursor.fetchone()[0])


def _one_client(server: Server, token: str, customer_id: int, requests: int) -> Counter[int | str]:
    """A mix of reads and writes: a third of the requests log an interaction."""
    statuses: Counter[int | str] = Counter()
    api = f"{server.url}/api/v1"
    for number in range(requests):
        status: int | str
        try:
            if number % 3 == 0:
                status = _post_json(
                    f"{api}/customers/{customer_id}/interactions",
                    token,
                    {"channel": "phone", "direction": "outbound", "subject": f"Call {number}"},
                )
            elif number % 3 == 1:
                status = _get(f"{api}/customers", token)[0]
            else:
                status = _get(f"{api}/customers/{customer_id}/interactions", token)[0]
        except OSError as exc:  # refused, reset, timed out: the server failed this client
            status = type(exc).__name__
        statuses[status] += 1
    return statuses


def _load(server: Server, token: str, customer_id: int, clients: int, requests: int) -> Load:
    """`clients` concurrent clients; the connections held are sampled all along."""
    most = 0
    statuses: Counter[int | str] = Counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [
            pool.submit(_one_client, server, token, customer_id, requests) for _ in range(clients)
        ]
        while not all(future.done() for future in futures):
            most = max(most, _connections_held(server.application_name))
            time.sleep(0.01)
        for future in futures:
            statuses.update(future.result())
    return Load(statuses, most)


def _wait_for_no_connections(application_name: str) -> int:
    # A backend leaves pg_stat_activity a moment after its client has gone.
    deadline = time.monotonic() + 10
    while (held := _connections_held(application_name)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return held


@pytest.fixture
def api_token(manager: User) -> str:
    return create_api_token(manager, "serve test").raw


@pytest.fixture
def customer(make_customer: Any) -> Customer:
    return make_customer(display_name="Inés Carrasco")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_pages_api_and_static_files_then_stops_cleanly(
    tmp_path: Path, api_token: str, customer: Customer, stop_signal: signal.Signals
) -> None:
    port = _free_loopback_port()
    env = _server_environment(
        tmp_path,
        f"tendero-test-serve-{os.getpid()}",
        TENDERO_WEB_BIND=f"127.0.0.1:{port}",
        TENDERO_WEB_WORKERS="1",
        TENDERO_WEB_THREADS="2",
    )
    with running(["serve"], env, port, tmp_path) as server:
        status, body, content_type = _get(f"{server.url}/static/tendero/tendero.css")
        assert status == 200
        assert content_type.startswith("text/css")
        assert body
        status, body, _ = _get(f"{server.url}/api/v1/customers/{customer.pk}", api_token)
        assert status == 200
        assert json.loads(body)["display_name"] == "Inés Carrasco"
        assert _get(f"{server.url}/accounts/login/")[0] == 200

        server.process.send_signal(stop_signal)
        assert server.process.wait(timeout=30) == 0, server.log.read_text()
    if connection.vendor == "postgresql":
        assert _wait_for_no_connections(env["TENDERO_DB_APPLICATION_NAME"]) == 0


@postgresql_only
@pytest.mark.parametrize(
    "database_settings",
    [
        pytest.param({"TENDERO_DB_POOL_MAX_SIZE": "2"}, id="pool"),
        # Without the pool, persistent connections are safe: the threads are fixed.
        pytest.param({"TENDERO_DB_POOL": "false", "CONN_MAX_AGE": "300"}, id="persistent"),
    ],
)
def test_serve_never_holds_more_than_workers_times_threads_connections(
    tmp_path: Path, api_token: str, customer: Customer, database_settings: dict[str, str]
) -> None:
    port = _free_loopback_port()
    name = f"tendero-test-bounded-{os.getpid()}"
    env = _server_environment(
        tmp_path,
        name,
        TENDERO_WEB_BIND=f"127.0.0.1:{port}",
        TENDERO_WEB_WORKERS="2",
        TENDERO_WEB_THREADS="2",
        **database_settings,
    )
    with running(["serve"], env, port, tmp_path) as server:
        # Three times as many clients as the server has threads.
        load = _load(server, api_token, customer.pk, clients=12, requests=15)

    assert sum(load.statuses.values()) == 12 * 15
    assert set(load.statuses) <= {200, 201}, load.statuses
    assert 0 < load.most_connections_held <= 2 * 2
    assert _wait_for_no_connections(name) == 0


@postgresql_only
def test_the_demo_server_holds_at_most_its_pool_of_connections(
    tmp_path: Path, api_token: str, customer: Customer
) -> None:
    """`tendero demo` serves with runserver, which starts a thread per connection:
    only the pool keeps its connections bounded."""
    port = _free_loopback_port()
    name = f"tendero-test-runserver-{os.getpid()}"
    env = _server_environment(tmp_path, name, TENDERO_DB_POOL_MAX_SIZE="3")
    with running(["runserver", "--noreload", f"127.0.0.1:{port}"], env, port, tmp_path) as server:
        load = _load(server, api_token, customer.pk, clients=12, requests=15)

    assert set(load.statuses) <= {200, 201}, load.statuses
    assert 0 < load.most_connections_held <= 3
    assert _wait_for_no_connections(name) == 0


@postgresql_only
def test_serve_refuses_to_start_with_a_budget_over_the_databases_limit(tmp_path: Path) -> None:
    env = _server_environment(
        tmp_path,
        f"tendero-test-refused-{os.getpid()}",
        TENDERO_WEB_BIND=f"127.0.0.1:{_free_loopback_port()}",
        TENDERO_WEB_WORKERS="30",
        TENDERO_DB_MAX_CONNECTIONS="100",
    )
    done = subprocess.run(
        [sys.executable, "-m", "tendero.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )
    assert done.returncode != 0
    assert "core.E001" in done.stderr
    assert "122 connections" in done.stderr  # 30 workers of 4, 2 for the task worker
