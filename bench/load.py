"""`python -m bench.load` (`make bench-load`): `tendero serve` under 64 concurrent
clients on PostgreSQL, over loopback only.

Prepares a small database (BENCH_LOAD_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/tendero_load): migrated, the demo company
loaded and BENCH_LOAD_CUSTOMERS (2,000) seeded customers added once; issues a
manager's API token (`tendero token create manager`, expiring in a day), collects
the static files, starts `tendero serve` on a free port of 127.0.0.1 with the
production settings (plain HTTP, so no HTTPS redirect) and sends BENCH_LOAD_REQUESTS
(3,000) requests from BENCH_LOAD_CLIENTS (64) concurrent clients, for at most
BENCH_LOAD_SECONDS (120): two thirds reads (the customer list, a customer, its
interactions, a search), one third writes (an interaction or a purchase logged
through the API). Meanwhile pg_stat_activity is sampled every 20 ms for the
sessions of the server (its application_name).

Reports requests/s, latency percentiles (reads, writes, all), every answer that
is not a success (they count as errors; the bar is 0), the most connections the
server held against its bound (TENDERO_WEB_WORKERS x the pool's maximum), and
writes a section into bench/RESULTS.md above the part `bench.run` regenerates.
Exits 1 when there were errors or the bound was passed.

`--server runserver` measures `tendero runserver` (what `tendero demo` serves
with) instead. The server's settings come from the environment as usual
(TENDERO_WEB_WORKERS, TENDERO_WEB_THREADS, TENDERO_DB_POOL_MAX_SIZE...).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import GENERATED_MARKER, RESULTS, ensure_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tendero_load"
APPLICATION_NAME = "tendero-bench-load"
SECTION_START = "<!-- bench.load: written by `python -m bench.load` -->"
SECTION_END = "<!-- bench.load: end -->"
SEARCH_TERMS = ("garcía", "ana", "tel", "martín", "o'connor")
PROJECT_DIR = Path(__file__).resolve().parent.parent


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw else default


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "write": []})
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    # The machine's load average (1 min) before and after: it is shared.
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def percentile(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def tendero(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tendero.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(url: str, data_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        TENDERO_ENV="production",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-load-" + "k3y" * 20,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        TENDERO_DATA_DIR=str(data_dir),
        STATIC_ROOT=str(PROJECT_DIR / "var" / "bench-static"),
        TENDERO_DB_APPLICATION_NAME=APPLICATION_NAME,
        TENDERO_WEB_BIND=f"127.0.0.1:{port}",
        PYTHONPATH=str(PROJECT_DIR),
    )
    return env


def prepare(url: str, env: dict[str, str], customers: int) -> tuple[str, list[int]]:
    """Migrate, load the demo company and seed once; a manager's token and customer ids."""
    import psycopg

    ensure_database(url)
    tendero(env, "migrate", "--no-input", "-v", "0")
    tendero(env, "load_demo_data")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM customers_customer").fetchone()
        present = int(row[0]) if row else 0
    if present < customers:
        print(f"Seeding {customers - present:,} customers...", flush=True)
        tendero(env, "seed", "--customers", str(customers - present))
    tendero(env, "collectstatic", "--no-input", "-v", "0")
    token = tendero(
        env, "token", "create", "manager", "--name", "bench.load", "--expires-days", "1"
    )
    with psycopg.connect(url) as conn:
        ids = [
            int(pk)
            for (pk,) in conn.execute("SELECT id FROM customers_customer ORDER BY id LIMIT 500")
        ]
    return token.strip(), ids


class ConnectionSampler(threading.Thread):
    """The most sessions named APPLICATION_NAME in pg_stat_activity, every 20 ms."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.most = 0
        self.samples = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [APPLICATION_NAME],
                ).fetchone()
                self.most = max(self.most, int(row[0]) if row else 0)
                self.samples += 1
                time.sleep(0.02)

    def stop(self) -> int:
        self.stopping.set()
        self.join()
        return self.most


def wait_until_ready(process: subprocess.Popen[bytes], base: str, seconds: float) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited with {process.returncode}.")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"The server did not answer within {seconds:.0f} s.")


def request_for(number: int, customers: list[int]) -> tuple[str, str, str, dict[str, Any] | None]:
    """(kind, method, path, JSON body) of request `number` of a client: 2 reads in 3."""
    customer = customers[number * 7919 % len(customers)]
    turn = number % 6
    if turn == 0:
        return "read", "GET", "/api/v1/customers?limit=25", None
    if turn == 1:
        return "read", "GET", f"/api/v1/customers/{customer}", None
    if turn == 2:
        body = {"channel": "phone", "direction": "outbound", "subject": f"Load call {number}"}
        return "write", "POST", f"/api/v1/customers/{customer}/interactions", body
    if turn == 3:
        return "read", "GET", f"/api/v1/customers/{customer}/interactions", None
    if turn == 4:
        body = {"amount": f"{10 + number % 90}.50", "product": "Fibra 600"}
        return "write", "POST", f"/api/v1/customers/{customer}/purchases", body
    term = SEARCH_TERMS[number % len(SEARCH_TERMS)]
    return "read", "GET", f"/api/v1/search?q={term}", None


async def run_load(
    base: str, token: str, customers: list[int], clients: int, total: int, seconds: float
) -> Results:
    import httpx

    results = Results()
    issued = 0
    deadline = time.monotonic() + seconds
    # A connection idle for longer than the server keeps it (gunicorn: 2 s) is not
    # reused: the server may be closing it just as a request goes out on it.
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=1.0
    )
    headers = {"Authorization": f"Bearer {token}"}

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < total and time.monotonic() < deadline:
            number = issued
            issued += 1
            kind, method, path, body = request_for(number, customers)
            started = time.perf_counter()
            try:
                response = await http.request(method, path, json=body)
            except httpx.HTTPError as exc:
                results.statuses[type(exc).__name__] += 1
                results.errors[f"{type(exc).__name__} ({method} {kind})"] += 1
                continue
            results.latencies[kind].append((time.perf_counter() - started) * 1000)
            results.statuses[str(response.status_code)] += 1
            if not response.is_success:
                results.errors[f"{response.status_code} ({method} {kind})"] += 1

    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
        results.load_before = os.getloadavg()[0]
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        results.seconds = time.perf_counter() - started
        results.load_after = os.getloadavg()[0]
    return results


def machine() -> list[str]:
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    return [nproc, *lscpu.splitlines()[:10]]


def postgres_facts(url: str) -> tuple[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        limit = conn.execute("SHOW max_connections").fetchone()
    return (str(version[0]) if version else "?"), (int(limit[0]) if limit else 0)


def server_bound(env: dict[str, str], server: str) -> tuple[int, str]:
    """The most connections the server may hold, and how that number comes about."""
    threads = int(env.get("TENDERO_WEB_THREADS") or 4)
    pooled = (env.get("TENDERO_DB_POOL") or "true").lower() not in {"0", "false", "no", "off"}
    pool_max = int(env.get("TENDERO_DB_POOL_MAX_SIZE") or threads)
    if server == "runserver":
        if not pooled:
            return sys.maxsize, "unbounded: a thread per client"
        return pool_max, f"its pool's maximum, {pool_max}"
    workers = int(env.get("TENDERO_WEB_WORKERS") or 2)
    per_worker = pool_max if pooled else threads
    what = "pool maximum" if pooled else "threads"
    return workers * per_worker, f"{workers} workers x {per_worker} ({what})"


def report(
    results: Results,
    server: str,
    bound: tuple[int, str],
    most_held: int,
    samples: int,
    clients: int,
    env: dict[str, str],
    url: str,
) -> str:
    every = results.latencies["read"] + results.latencies["write"]
    version, max_connections = postgres_facts(url)
    now = datetime.now(UTC)
    settings_used = ", ".join(
        f"{name}={env[name]}"
        for name in (
            "TENDERO_WEB_WORKERS",
            "TENDERO_WEB_THREADS",
            "TENDERO_DB_POOL",
            "TENDERO_DB_POOL_MAX_SIZE",
        )
        if env.get(name)
    )
    rows = [
        f"| {label} | {len(values):,} | {percentile(values, 50):.1f} | "
        f"{percentile(values, 90):.1f} | {percentile(values, 95):.1f} | "
        f"{percentile(values, 99):.1f} | {max(values, default=float('nan')):.1f} |"
        for label, values in (
            ("reads", results.latencies["read"]),
            ("writes", results.latencies["write"]),
            ("all", every),
        )
    ]
    errors = sum(results.errors.values())
    error_detail = (
        ": " + ", ".join(f"{n} x {what}" for what, n in results.errors.items()) if errors else ""
    )
    answers = ", ".join(f"{n:,} x {status}" for status, n in sorted(results.statuses.items()))
    bound_text = "unbounded" if bound[0] == sys.maxsize else f"{bound[0]} ({bound[1]})"
    lines = [
        f"### Run of {now:%Y-%m-%d %H:%M} UTC: `tendero {server}`",
        "",
        "Machine (`nproc`, `lscpu | head`):",
        "",
        "```",
        *machine(),
        "```",
        "",
        f"PostgreSQL {version} (max_connections {max_connections}), Python "
        f"{sys.version.split()[0]}; server settings: {settings_used or 'the defaults'}; "
        f"{clients} concurrent clients (one asyncio task each, httpx, keep-alive), "
        "in the same machine as the server and the database; load average "
        f"{results.load_before:.1f} before the run, {results.load_after:.1f} at its end.",
        "",
        f"- {results.requests:,} requests in {results.seconds:.1f} s: "
        f"**{results.requests / results.seconds:,.0f} requests/s**.",
        f"- Errors: **{errors}**{error_detail} (answers: {answers}).",
        f"- Connections held by the server: at most **{most_held}** "
        f"({samples:,} samples of pg_stat_activity), bound {bound_text}.",
        "",
        "| latency (ms) | requests | p50 | p90 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]
    return "\n".join(lines)


def write_results(section: str) -> None:
    """Keep the latest run of each server in a section of its own, above the part
    `bench.run` regenerates."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Tendero benchmark results\n\n"
    heading = "## Load test (`python -m bench.load`)"
    intro = (
        f"{heading}\n\n"
        "`tendero serve` on a small PostgreSQL database (the demo company and 2,000 seeded "
        "customers) under 64 concurrent API clients over loopback: two reads for every "
        "write (interactions and purchases logged); every answer that is not a success "
        "counts as an error. `tendero runserver`, what `tendero demo` serves with, is "
        "measured too for comparison: its pool bounds its connections, but under 64 "
        "clients Django's development server drops a few kept-alive connections on "
        "writes (httpx ReadError, no HTTP error), which is one more reason a deployment "
        "runs `tendero serve`. The machine is shared with other work: compare runs by "
        "their load average. The latest run of each server:\n\n"
    )
    if SECTION_START in text:
        before, rest = text.split(SECTION_START, 1)
        old, after = rest.split(SECTION_END, 1)
    else:
        if GENERATED_MARKER in text:
            before, after = text.split(GENERATED_MARKER, 1)
            after = GENERATED_MARKER + after
        else:
            before, after = text, ""
        before, old = before.rstrip() + "\n\n", ""
    runs = {}
    for chunk in old.split("### ")[1:]:
        runs[chunk.split("`", 2)[1]] = "### " + chunk.rstrip() + "\n"
    server = section.split("`", 2)[1]
    runs[server] = section.rstrip() + "\n"
    ordered = [runs[key] for key in sorted(runs, key=lambda key: key != "tendero serve")]
    body = intro + "\n".join(ordered)
    RESULTS.write_text(
        before + SECTION_START + "\n" + body + SECTION_END + "\n\n" + after.lstrip("\n")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("serve", "runserver"), default="serve")
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md.")
    args = parser.parse_args()

    url = os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_URL)
    clients = env_int("BENCH_LOAD_CLIENTS", 64)
    total = env_int("BENCH_LOAD_REQUESTS", 3000)
    seconds = float(env_int("BENCH_LOAD_SECONDS", 120))
    port = free_loopback_port()
    base = f"http://127.0.0.1:{port}"

    with tempfile.TemporaryDirectory(prefix="tendero-load-") as data_dir:
        env = server_environment(url, Path(data_dir), port)
        token, customers = prepare(url, env, env_int("BENCH_LOAD_CUSTOMERS", 2000))
        command = ["serve"] if args.server == "serve" else ["runserver", "--noreload", base[7:]]
        log = PROJECT_DIR / "var" / "bench-load-server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "tendero.cli", *command],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_ready(process, base, 90)
            sampler = ConnectionSampler(url)
            sampler.start()
            print(f"Load: {clients} clients, {total:,} requests at most, {seconds:.0f} s at most.")
            results = asyncio.run(run_load(base, token, customers, clients, total, seconds))
            most_held = sampler.stop()
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.returncode not in (0, -15) or results.errors:
            print(f"The server's log: {log}", file=sys.stderr)
        bound = server_bound(env, args.server)
        section = report(results, args.server, bound, most_held, sampler.samples, clients, env, url)
    print(section)
    if not args.no_write:
        write_results(section)
        print(f"Written to {RESULTS}")
    failed = bool(results.errors) or most_held > bound[0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
