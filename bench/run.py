"""`python -m bench.run` (`make bench`): Tendero's benchmarks on PostgreSQL.

Creates the benchmark database if it is missing, migrates it, seeds it up to
BENCH_CUSTOMERS customers (1,000,000 by default, the DESIGN budget) and measures:

- seeding speed (rows/s): the seeding itself when it had to run, otherwise a
  sample of BENCH_SEED_SAMPLE customers seeded in a transaction that is rolled back;
- the customer list page (/customers/) and the API list (/api/v1/customers):
  server time (the time spent in Django's handler, middleware included) and SQL
  queries per request, for a manager (sees everyone) and a sales rep (portfolio),
  over a mix of first page, page 50, a name search and a stage filter;
- the peak resident memory of this process, which served every request.

Figures go into bench/RESULTS.md below the human-written preface.

Settings from the environment: BENCH_DATABASE_URL
(postgres://postgres@127.0.0.1:5432/tendero_bench), BENCH_CUSTOMERS (1000000),
BENCH_REQUESTS (200 per page and role), BENCH_SEED_SAMPLE (100000).
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tendero_bench"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
GENERATED_MARKER = (
    "<!-- Everything below is written by `python -m bench.run`: do not edit by hand. -->"
)
SEARCH_TERMS = ("garcía", "o'brien", "núñez", "smith", "begoña")


@dataclass(frozen=True)
class Variant:
    label: str
    path: Callable[[int], str]  # request number → path


HTML_VARIANTS = (
    Variant("first page", lambda n: "/customers/"),
    Variant("page 50", lambda n: "/customers/?page=50"),
    Variant("name search", lambda n: f"/customers/?q={SEARCH_TERMS[n % len(SEARCH_TERMS)]}"),
    Variant("stage filter", lambda n: "/customers/?stage=at_risk"),
)
API_VARIANTS = (
    Variant("first page", lambda n: "/api/v1/customers"),
    Variant("page 50", lambda n: "/api/v1/customers?offset=1225&limit=25"),
    Variant("name search", lambda n: f"/api/v1/customers?q={SEARCH_TERMS[n % len(SEARCH_TERMS)]}"),
    Variant("stage filter", lambda n: "/api/v1/customers?lifecycle_stage=at_risk"),
)


@dataclass
class Timings:
    millis: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)

    def add(self, millis: float, queries: int) -> None:
        self.millis.append(millis)
        self.queries.append(queries)

    def percentile(self, p: int) -> float:
        if len(self.millis) < 2:
            return self.millis[0] if self.millis else 0.0
        return statistics.quantiles(self.millis, n=100, method="inclusive")[p - 1]


@dataclass
class Measurement:
    page: str
    role: str
    available: bool
    note: str = ""
    overall: Timings = field(default_factory=Timings)
    by_variant: dict[str, Timings] = field(default_factory=dict)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw else default


def ensure_database(url: str) -> bool:
    """Create the database named in `url` if it does not exist; True if created."""
    import psycopg
    from psycopg import sql

    base, _slash, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # Debug mode would keep every SQL statement in memory and distort RSS.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tendero.settings")
    import django

    django.setup()


def run_seed(missing: int, env: dict[str, str]) -> dict[str, Any]:
    """Seed in a child process (its memory is not this web process's), echoing progress."""
    command = [sys.executable, "-m", "tendero.cli", "seed", "--customers", str(missing)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    last = ""
    assert process.stdout is not None
    for line in process.stdout:
        print("   ", line.rstrip(), flush=True)
        last = line
    if process.wait() != 0:
        raise SystemExit(f"Seeding failed (exit {process.returncode}).")
    wall = time.perf_counter() - started
    match = re.search(r"([\d,]+) rows in ([\d.]+) s", last)
    rows = int(match.group(1).replace(",", "")) if match else 0
    seconds = float(match.group(2)) if match else wall
    return {"customers": missing, "rows": rows, "seconds": seconds, "rolled_back": False}


def run_seed_sample(count: int, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.run", "--seed-sample", str(count)]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def seed_sample(count: int) -> None:
    """Child process: seed `count` customers on top of the data, then roll back."""
    from django.db import transaction

    from tendero.customers.seeding import seed_customers

    with transaction.atomic():
        result = seed_customers(count)
        transaction.set_rollback(True)
    print(
        json.dumps(
            {
                "customers": result.customers,
                "rows": result.rows,
                "seconds": result.seconds,
                "rolled_back": True,
            }
        )
    )


def bench_user(username: str, role: str) -> Any:
    from django.contrib.auth.models import Group

    from tendero.accounts.models import User

    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": "Bench", "last_name": role}
    )
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


def is_implemented(response: Any) -> bool:
    # The URLs existed as "todo" stubs before the pages were written.
    return bool(response.status_code == 200 and response.content.strip() != b"todo")


def measure(
    page: str, role: str, user: Any, variants: tuple[Variant, ...], requests: int
) -> Measurement:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    handled: list[float] = []
    original = client.handler.get_response

    def timed_get_response(request: Any) -> Any:
        started = time.perf_counter()
        response = original(request)
        handled.append((time.perf_counter() - started) * 1000)
        return response

    client.handler.get_response = timed_get_response  # type: ignore[method-assign]
    result = Measurement(page, role, available=True)
    for variant in variants:
        response = client.get(variant.path(0))
        if not is_implemented(response):
            result.available = False
            result.note = f"{variant.path(0)} answered {response.status_code}"
            return result
        result.by_variant[variant.label] = Timings()
        for n in range(3):  # warm up caches and connections
            client.get(variant.path(n))
    for n in range(requests):
        variant = variants[n % len(variants)]
        with CaptureQueriesContext(connection) as queries:
            response = client.get(variant.path(n // len(variants)))
        if response.status_code != 200:
            raise SystemExit(f"{variant.path(n)} answered {response.status_code} as {role}")
        millis = handled[-1]
        result.overall.add(millis, len(queries))
        result.by_variant[variant.label].add(millis, len(queries))
    return result


def machine() -> dict[str, str]:
    from django.db import connection

    cpu = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "postgres": f"PostgreSQL {postgres}",
        "database size": size,
        "python": sys.version.split()[0],
    }


def table_counts() -> dict[str, int]:
    from django.db import connection

    from tendero.customers.models import (
        AccountExecutiveAssignment,
        Contact,
        Customer,
        CustomerEmail,
        CustomerPhone,
        RelationshipLevelChange,
    )

    counts = {}
    with connection.cursor() as cursor:
        for model in (
            Customer,
            CustomerEmail,
            CustomerPhone,
            Contact,
            AccountExecutiveAssignment,
            RelationshipLevelChange,
            Customer.tags.through,
        ):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            counts[model._meta.db_table] = int(cursor.fetchone()[0])
    return counts


def rss_now_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def render(
    started: datetime,
    duration: float,
    info: dict[str, str],
    counts: dict[str, int],
    seed: dict[str, Any],
    measurements: list[Measurement],
    requests: int,
) -> str:
    lines = [
        f"## Run of {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']} RAM, "
        f"{info['postgres']}, Python {info['python']}. Database size {info['database size']}. "
        f"The whole run took {duration / 60:.1f} min.",
        "",
        "Rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()) + ".",
        "",
        "### Seeding (`tendero seed`, COPY)",
        "",
        "| customers | rows | seconds | rows/s | customers/s | |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    how = (
        "sample on top of the existing data, rolled back"
        if seed["rolled_back"]
        else "seeding the benchmark database"
    )
    lines.append(
        f"| {seed['customers']:,} | {seed['rows']:,} | {seed['seconds']:.1f} "
        f"| {seed['rows'] / seed['seconds']:,.0f} | {seed['customers'] / seed['seconds']:,.0f} "
        f"| {how} |"
    )
    lines += [
        "",
        f"### Customer lists ({requests} requests per row, server time in ms)",
        "",
        "Mix: first page, page 50, a name search (rotating: "
        + ", ".join(SEARCH_TERMS)
        + "), a stage filter (at risk), in turn.",
        "",
        "| page | as | p50 ms | p95 ms | max ms | SQL queries per request (median / max) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for m in measurements:
        if not m.available:
            lines.append(f"| {m.page} | {m.role} | not available yet ({m.note}) | | | |")
            continue
        t = m.overall
        lines.append(
            f"| {m.page} | {m.role} | {t.percentile(50):.1f} | {t.percentile(95):.1f} "
            f"| {max(t.millis):.1f} | {statistics.median(t.queries):.0f} / {max(t.queries)} |"
        )
    lines += [
        "",
        "By kind of request:",
        "",
        "| page | as | request | p50 ms | p95 ms | queries |",
        "|---|---|---|---:|---:|---:|",
    ]
    for m in measurements:
        for label, t in m.by_variant.items():
            if t.millis:
                lines.append(
                    f"| {m.page} | {m.role} | {label} | {t.percentile(50):.1f} "
                    f"| {t.percentile(95):.1f} | {max(t.queries)} |"
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines += [
        "",
        "### Memory",
        "",
        f"- Web process (this process, after every request above): peak RSS {peak:.0f} MB, "
        f"RSS now {rss_now_mb():.0f} MB (budget 300 MB).",
        f"- Seeding (child process): peak RSS {children:.0f} MB.",
        "",
    ]
    return "\n".join(lines)


def write_results(section: str) -> None:
    preface = ""
    if RESULTS.exists():
        preface = RESULTS.read_text().split(GENERATED_MARKER)[0].rstrip() + "\n\n"
    else:
        preface = "# Tendero benchmark results\n\n"
    RESULTS.write_text(preface + GENERATED_MARKER + "\n\n" + section)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed-sample":
        setup_django(os.environ["DATABASE_URL"])
        seed_sample(int(sys.argv[2]))
        return 0
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    wanted = env_int("BENCH_CUSTOMERS", 1_000_000)
    requests = env_int("BENCH_REQUESTS", 200)
    sample = env_int("BENCH_SEED_SAMPLE", 100_000)
    print(f"Benchmark database: {url}", flush=True)
    if ensure_database(url):
        print("  created.", flush=True)
    setup_django(url)
    from django.core.management import call_command

    from tendero.accounts import roles
    from tendero.customers.models import Customer
    from tendero.customers.seeding import ensure_seed_sales_users

    call_command("migrate", verbosity=0)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "TENDERO_ENV": "development"}
    have = Customer.objects.count()
    if have < wanted:
        print(f"Seeding {wanted - have:,} customers (have {have:,}, want {wanted:,})…", flush=True)
        seed = run_seed(wanted - have, env)
    else:
        print(f"{have:,} customers already there; seeding a sample of {sample:,}…", flush=True)
        seed = run_seed_sample(sample, env)
    print(f"  {seed['rows'] / seed['seconds']:,.0f} rows/s", flush=True)
    manager = bench_user("bench.manager", roles.MANAGER)
    sales = ensure_seed_sales_users()[0]  # a portfolio of 1/8 of the seeded customers
    measurements = []
    for page, variants in (
        ("HTML list /customers/", HTML_VARIANTS),
        ("API /api/v1/customers", API_VARIANTS),
    ):
        for role, user in (("manager", manager), ("sales rep", sales)):
            print(f"Measuring {page} as {role}…", flush=True)
            m = measure(page, role, user, variants, requests)
            if m.available:
                t = m.overall
                print(
                    f"  p50 {t.percentile(50):.1f} ms, p95 {t.percentile(95):.1f} ms, "
                    f"queries max {max(t.queries)}",
                    flush=True,
                )
            else:
                print(f"  not available yet: {m.note}", flush=True)
            measurements.append(m)
    section = render(
        started_at,
        time.perf_counter() - started,
        machine(),
        table_counts(),
        seed,
        measurements,
        requests,
    )
    write_results(section)
    print(section)
    print(f"Written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
