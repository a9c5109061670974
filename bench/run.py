"""`python -m bench.run` (`make bench`): Tendero's benchmarks on PostgreSQL.

Creates the benchmark database if it is missing, migrates it, seeds it up to
BENCH_CUSTOMERS customers (1,000,000 by default, the DESIGN budget) with
BENCH_INTERACTIONS_PER_CUSTOMER interactions each on average (20: 20,000,000 in
all) and measures:

- seeding speed (rows/s, interactions/s): the seeding itself when it had to run,
  otherwise a sample of BENCH_SEED_SAMPLE customers (and their interactions) seeded
  in a transaction that is rolled back;
- the customer list page (/customers/) and the API list (/api/v1/customers):
  server time (the time spent in Django's handler, middleware included) and SQL
  queries per request, for a manager (sees everyone) and a sales rep (portfolio),
  over a mix of first page, page 50, a name search and a stage filter;
- the customer 360 page (customers:detail) for customers with no history, about
  20 interactions and a very long history (LONG_HISTORY interactions, seeded on
  purpose): server time and SQL queries, as a manager and as the sales rep whose
  customers they are;
- search as you type: the API (/api/v1/search?q=) and the suggestion fragment
  (search:suggest) for 1-3-letter prefixes, full names, accented and unaccented
  names, emails, phones and tax ids, as a manager and as a sales rep;
- `tendero import customers` on a generated BENCH_IMPORT_ROWS-row (200,000)
  semicolon-separated Windows-1252 CSV with Spanish headers: rows/s of a first
  import and of an idempotent re-run, in a database of its own
  (BENCH_IMPORT_DATABASE_URL, emptied before each run);
- the peak resident memory of this process, which served every request.

Figures go into bench/RESULTS.md below the human-written preface.

Settings from the environment: BENCH_DATABASE_URL
(postgres://postgres@127.0.0.1:5432/tendero_bench), BENCH_CUSTOMERS (1000000),
BENCH_INTERACTIONS_PER_CUSTOMER (20), BENCH_REQUESTS (200 per page and role),
BENCH_SEED_SAMPLE (100000), BENCH_IMPORT_ROWS (200000), BENCH_IMPORT_DATABASE_URL
(the benchmark database's URL with "_import" appended to its name).
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


def vacuum_analyze(url: str) -> float:
    """VACUUM (ANALYZE) the whole database; the seconds it took. Production runs
    autovacuum; this machine's PostgreSQL has it off, and a freshly COPYed table
    that was never vacuumed has no visibility map, so every index-only scan would
    read the table too: the benchmark would measure reads production does not do.
    On a database vacuumed before, it only visits what changed since."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def prewarm(url: str) -> tuple[float, int]:
    """Read every table and index of the database into the operating system's page
    cache (pg_prewarm's 'read' mode); the seconds it took and the bytes read. A server
    that has been running holds its working set in memory; right after seeding, or on
    a new machine, the first requests would otherwise measure the disk."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        relations = conn.execute(
            "SELECT c.oid, pg_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't', 'm') "
            "AND pg_relation_size(c.oid) > 0"
        ).fetchall()
        for oid, _size in relations:
            conn.execute("SELECT pg_prewarm(%s, 'read')", [oid])
    return time.perf_counter() - started, sum(size for _oid, size in relations)


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


def drop_if_without_interactions(url: str) -> bool:
    """A benchmark database seeded before interactions existed is dropped (to be
    created and seeded again); True if it was."""
    import psycopg
    from psycopg import sql

    base, _slash, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(url, connect_timeout=10) as conn:
        tables = conn.execute(
            "SELECT to_regclass('customers_customer'), to_regclass('dialogue_interaction')"
        ).fetchone()
        if not tables or tables[0] is None:
            return False
        has_customers = conn.execute("SELECT EXISTS (SELECT 1 FROM customers_customer)").fetchone()
        has_interactions = (
            conn.execute("SELECT EXISTS (SELECT 1 FROM dialogue_interaction)").fetchone()
            if tables[1] is not None
            else None
        )
    if not has_customers or not has_customers[0] or (has_interactions and has_interactions[0]):
        return False
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
    return True


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # Debug mode would keep every SQL statement in memory and distort RSS.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tendero.settings")
    import django

    django.setup()


def run_seed(missing: int, interactions: int, env: dict[str, str]) -> dict[str, Any]:
    """Seed in a child process (its memory is not this web process's), echoing progress."""
    command = [
        *(sys.executable, "-m", "tendero.cli", "seed"),
        *("--customers", str(missing), "--interactions", str(interactions)),
    ]
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
    speed = re.search(r"with ([\d,]+) interactions \(([\d,]+) interactions/s\)", last)
    return {
        "customers": missing,
        "rows": rows,
        "seconds": seconds,
        "rolled_back": False,
        "interactions": int(speed.group(1).replace(",", "")) if speed else 0,
        "interactions_per_second": float(speed.group(2).replace(",", "")) if speed else 0.0,
    }


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
                "interactions": result.interactions,
                "interactions_per_second": result.interactions_per_second,
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


# --- the customer 360 page ----------------------------------------------------------


def history_customers(owner_id: int | None) -> dict[str, list[int]]:
    """Up to five seeded customers (of `owner_id`'s portfolio, if given) with no
    interactions, with about 20 (15-25), and with a very long history."""
    from django.db.models import Exists, OuterRef

    from tendero.customers.models import Customer
    from tendero.customers.seeding import EXTERNAL_ID_PREFIX, LONG_HISTORY, LONG_HISTORY_TAG
    from tendero.dialogue.models import Interaction

    seeded = Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)
    if owner_id is not None:
        seeded = seeded.filter(account_executive_id=owner_id)
    has_history = Exists(Interaction.objects.filter(customer_id=OuterRef("pk")))
    none = list(seeded.filter(~has_history).order_by("pk").values_list("pk", flat=True)[:5])
    about: list[int] = []
    for pk in seeded.order_by("pk").values_list("pk", flat=True)[:500]:
        if 15 <= Interaction.objects.filter(customer_id=pk).count() <= 25:
            about.append(pk)
            if len(about) == 5:
                break
    long = list(
        seeded.filter(tags__name=LONG_HISTORY_TAG).order_by("pk").values_list("pk", flat=True)[:5]
    )
    return {
        "no history": none,
        "about 20 interactions": about,
        f"{LONG_HISTORY:,} interactions": long,
    }


def history_lengths(customers: dict[str, list[int]]) -> dict[str, tuple[int, int]]:
    """The fewest and most interactions among each group's customers."""
    from django.db.models import Count

    from tendero.dialogue.models import Interaction

    lengths = {}
    for label, ids in customers.items():
        counts = dict(
            Interaction.objects.filter(customer_id__in=ids)
            .values("customer_id")
            .annotate(n=Count("id"))
            .values_list("customer_id", "n")
        )
        numbers = [counts.get(pk, 0) for pk in ids] or [0]
        lengths[label] = (min(numbers), max(numbers))
    return lengths


def rotating(template: str, values: list[Any]) -> Callable[[int], str]:
    """Request number n → `template` filled with values[n % len(values)]."""
    return lambda n: template.format(values[n % len(values)])


def detail_variants(customers: dict[str, list[int]]) -> tuple[Variant, ...]:
    return tuple(
        Variant(label, rotating("/customers/{}/", ids)) for label, ids in customers.items() if ids
    )


# --- search -------------------------------------------------------------------------

PREFIXES = ("g", "ma", "jos", "gar", "sán", "o'b", "smi", "be", "ni", "ló")
ACCENTED = ("núñez", "josé garcía", "begoña", "iñaki", "ángela", "sofía", "chloë")


def search_queries(owner_id: int | None) -> dict[str, list[str]]:
    """Queries of each kind, the specific ones (names, emails, phones, tax ids) taken
    from seeded customers (of `owner_id`'s portfolio, if given) so that they match."""
    import phonenumbers

    from tendero.customers.models import Customer
    from tendero.customers.search import normalise
    from tendero.customers.seeding import EXTERNAL_ID_PREFIX

    seeded = Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX, kind="person")
    if owner_id is not None:
        seeded = seeded.filter(account_executive_id=owner_id)
    sample = list(seeded.order_by("pk").prefetch_related("emails", "phones")[:3000:150])
    phones = []
    for customer in sample:
        number = phonenumbers.parse(customer.primary_phone, None)
        phones.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    names = [c.display_name for c in sample]
    return {
        "1-3-letter prefix": list(PREFIXES),
        "full name": names,
        "accented": list(ACCENTED),
        "unaccented": [normalise(q) for q in ACCENTED],
        "email": [c.primary_email for c in sample],
        "phone": phones,
        "tax id": [c.tax_id for c in sample if c.tax_id],
    }


def search_variants(queries: dict[str, list[str]], api: bool) -> tuple[Variant, ...]:
    from urllib.parse import quote

    template = "/api/v1/search?q={}" if api else "/search/suggest/?q={}"
    return tuple(
        Variant(label, rotating(template, [quote(q) for q in qs]))
        for label, qs in queries.items()
        if qs
    )


# --- import -------------------------------------------------------------------------

IMPORT_HEADERS = (
    "Código", "Nombre", "Tipo", "Correo electrónico", "Teléfono", "País", "NIF", "Dirección",
    "Ciudad", "Código postal",
)  # fmt: skip


def write_import_file(path: Path, rows: int) -> None:
    """A semicolon-separated Windows-1252 CSV of `rows` Spanish customers, as a
    Spanish-locale spreadsheet saves it."""
    import csv
    import random

    from tendero.customers.demo_people import (
        SPANISH_FIRST_NAMES,
        SPANISH_STREETS,
        SPANISH_SURNAMES,
        ascii_slug,
        spanish_nif,
    )

    rng = random.Random(20_261_127)
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(IMPORT_HEADERS)
        for n in range(1, rows + 1):
            first = rng.choice(SPANISH_FIRST_NAMES)
            last1, last2 = rng.sample(SPANISH_SURNAMES, 2)
            mobile = f"{600_000_000 + (n * 7919) % 100_000_000:09d}"
            writer.writerow(
                (
                    f"imp-{n:07d}",
                    f"{first} {last1} {last2}",
                    "persona",
                    f"{ascii_slug(first)}.{ascii_slug(last1)}.{n}@correo.es",
                    f"+34 {mobile[:3]} {mobile[3:5]} {mobile[5:7]} {mobile[7:]}",
                    "España",
                    spanish_nif(10_000_000 + n),
                    f"{rng.choice(SPANISH_STREETS)}, {n % 150 + 1}",
                    "Sevilla",
                    "41001",
                )
            )


def import_database_url(url: str) -> str:
    base, _slash, name = url.rpartition("/")
    name, _q, query = name.partition("?")
    return f"{base}/{name}_import" + (f"?{query}" if query else "")


def prepare_import_database(url: str, env: dict[str, str]) -> None:
    """Create and migrate the import database, empty it, and give it a superuser (the
    import's audit actor)."""
    import psycopg

    ensure_database(url)
    child = {**env, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "tendero.cli", "migrate", "--verbosity", "0"], env=child, check=True
    )
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "TRUNCATE customers_customer, customers_searchtoken, customers_importjob CASCADE"
        )
        conn.execute("TRUNCATE audit_auditentry")
    subprocess.run(
        [
            *(sys.executable, "-m", "tendero.cli", "createsuperuser", "--noinput"),
            *("--username", "bench.import", "--email", "bench.import@example.com"),
        ],
        env=child,
        capture_output=True,
        check=False,  # already there after the first run
    )


def run_import(path: Path, url: str, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "tendero.cli", "import", "customers", str(path)]
    started = time.perf_counter()
    done = subprocess.run(
        command, env={**env, "DATABASE_URL": url}, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    summary = re.search(
        r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) rejected", done.stdout
    )
    if done.returncode != 0 or summary is None:
        # Reported in the results rather than ending the run: the other figures stand.
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        print(f"  the import failed ({done.returncode}): {done.stderr[-2000:]}", flush=True)
        return {"seconds": seconds, "failed": f"exit {done.returncode}: {lines[-1][:200]}"}
    created, updated, unchanged, rejected = (int(g) for g in summary.groups())
    own = re.findall(r"([\d,]+) rows/s", done.stderr)
    return {
        "seconds": seconds,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "rejected": rejected,
        "command_rows_per_second": float(own[-1].replace(",", "")) if own else 0.0,
    }


# What a first import writes, in the order it writes it.
IMPORTED_TABLES = (
    "customers_customer",
    "customers_customeremail",
    "customers_customerphone",
    "audit_auditentry",
    "customers_searchtoken",
)


def raw_copy_seconds(url: str, folder: Path) -> dict[str, float]:
    """The yardstick: the rows the first import wrote, copied out, the tables emptied,
    and the same rows copied back in by psql in one transaction (same indexes, same
    constraints, no Tendero code): seconds per table and for the whole transaction."""
    for table in IMPORTED_TABLES:
        subprocess.run(
            ["psql", url, "-qc", f"\\copy {table} to '{folder / table}.tsv'"], check=True
        )
    subprocess.run(
        ["psql", url, "-qc", "TRUNCATE customers_customer, customers_searchtoken, "
         "customers_importjob CASCADE; TRUNCATE audit_auditentry; CHECKPOINT"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    script = ["\\timing on", "BEGIN;"]
    for table in IMPORTED_TABLES:
        script.append(f"\\copy {table} from '{folder / table}.tsv'")
    script.append("COMMIT;")
    started = time.perf_counter()
    done = subprocess.run(
        ["psql", url, "-q"], input="\n".join(script), text=True, capture_output=True, check=True
    )
    total = time.perf_counter() - started
    times = [float(t) / 1000 for t in re.findall(r"Time: ([\d.]+) ms", done.stdout)]
    # BEGIN, one per table, COMMIT (where the deferred key checks run).
    per_table = dict(zip(IMPORTED_TABLES, times[1:-1], strict=False))
    return {**per_table, "commit": times[-1] if times else 0.0, "total": total}


def import_benchmark(rows: int, url: str, env: dict[str, str]) -> dict[str, Any]:
    import tempfile

    prepare_import_database(url, env)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clientes.csv"
        write_import_file(path, rows)
        first = run_import(path, url, env)
        again = run_import(path, url, env) if "failed" not in first else first
        raw = raw_copy_seconds(url, Path(folder)) if "failed" not in first else {}
    return {"rows": rows, "first": first, "again": again, "raw_copy": raw}


# --- lifetime value ------------------------------------------------------------------


def _json_child(module: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run `python -m module args` and return the JSON object it prints (or the failure)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", module, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        return {"failed": f"exit {done.returncode}: {lines[-1][:300]}"}
    result: dict[str, Any] = json.loads(done.stdout)
    result.setdefault("wall_seconds", time.perf_counter() - started)
    return result


def lifetime_value_benchmark(url: str, customers: int, env: dict[str, str]) -> dict[str, Any]:
    """BG/NBD beside Lifetimes (bench.clv), then `tendero clv score` end to end on the
    benchmark database with about ten purchases per customer (bench.purchases, seeded
    once), each in a process of its own."""
    import psycopg

    from bench.purchases import EXTERNAL_PREFIX

    result: dict[str, Any] = {}
    print(f"Fitting BG/NBD on {customers:,} simulated customers, beside Lifetimes…", flush=True)
    result["lifetimes"] = _json_child("bench.clv", "--json", "--customers", str(customers), env=env)
    with psycopg.connect(url, connect_timeout=10) as conn:
        (have,) = conn.execute(
            "SELECT count(*) FROM contracts_purchase WHERE external_id LIKE %s",
            [EXTERNAL_PREFIX + "%"],
        ).fetchone() or (0,)
    if have == 0:
        print("Seeding purchases (about ten per customer)…", flush=True)
        # In a process of its own: its arrays are not the web process's memory.
        result["seeded"] = _json_child("bench.purchases", url, env=env)
        vacuum_analyze(url)
    print("Scoring every customer (tendero clv score)…", flush=True)
    result["score"] = _json_child("bench.score", env={**env, "DATABASE_URL": url})
    with psycopg.connect(url, connect_timeout=10) as conn:
        (purchases,) = conn.execute("SELECT count(*) FROM contracts_purchase").fetchone() or (0,)
    result["purchases"] = purchases
    return result


INSIGHTS_VARIANTS = (
    Variant("page, 8 quarters", lambda n: "/insights/"),
    Variant("page, 24 months", lambda n: "/insights/?unit=month&periods=24&months=24"),
    Variant("API, 8 quarters", lambda n: "/api/v1/insights/retention"),
)


def insights_benchmark(users: list[tuple[str, Any]], requests: int) -> dict[str, Any]:
    """`tendero insights refresh`'s work (after the purchases are seeded), then the
    Insights page and its API as each user, and the slowest SQL query of one page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tendero.insights.refresh import refresh_retention

    print("Refreshing the Insights figures (tendero insights refresh)…", flush=True)
    run = refresh_retention(trigger="command")
    print(f"  {run.seconds:.1f} s", flush=True)
    result: dict[str, Any] = {
        "refresh": {
            "seconds": run.seconds,
            "customers": run.customers,
            "purchases": run.purchases,
        },
        "pages": [],
        "slowest": {},
    }
    for role, user in users:
        print(f"Measuring the Insights page as {role}…", flush=True)
        result["pages"].append(report(measure("Insights", role, user, INSIGHTS_VARIANTS, requests)))
        client = Client()
        client.force_login(user)
        client.get("/insights/")
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            client.get("/insights/")
            page_millis = (time.perf_counter() - started) * 1000
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        result["slowest"][role] = {
            "millis": float(slowest["time"]) * 1000,
            "total_millis": sum(float(q["time"]) for q in queries.captured_queries) * 1000,
            "page_millis": page_millis,
            "tables": sorted(set(re.findall(r'(?:FROM|JOIN) "(\w+)"', slowest["sql"]))),
        }
    return result


def render_insights(result: dict[str, Any], requests: int) -> list[str]:
    refresh = result["refresh"]
    lines = [
        "",
        f"### Insights page ({requests} requests per row, server time in ms)",
        "",
        f"`tendero insights refresh` (the nightly 03:15 task's work) over "
        f"{refresh['purchases']:,} purchases of {refresh['customers']:,} customers: "
        f"{refresh['seconds']:.1f} s, in one transaction. The page and the API then read "
        "the refreshed tables.",
        "",
        "| endpoint | as | p50 ms | p95 ms | max ms | SQL queries (median / max) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for m in result["pages"]:
        for label, t in m.by_variant.items():
            if not t.millis:
                continue
            lines.append(
                f"| {label} | {m.role} | {t.percentile(50):.1f} | {t.percentile(95):.1f} "
                f"| {max(t.millis):.1f} | {statistics.median(t.queries):.0f} / {max(t.queries)} |"
            )
    lines += [
        "",
        "One more page (8 quarters) with its slowest SQL query, and what is left without it:",
        "",
        "| as | page ms | all SQL ms | slowest query ms | its tables | page without it ms |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for role, slowest in result["slowest"].items():
        lines.append(
            f"| {role} | {slowest['page_millis']:.0f} | {slowest['total_millis']:.0f} "
            f"| {slowest['millis']:.0f} | {', '.join(slowest['tables'])} "
            f"| {slowest['page_millis'] - slowest['millis']:.0f} |"
        )
    return lines


def render_lifetime_value(result: dict[str, Any]) -> list[str]:
    lines = ["", "### Lifetime value", ""]
    fits = result.get("lifetimes", {})
    if "failed" in fits:
        lines.append(f"BG/NBD beside Lifetimes: failed ({fits['failed']}).")
    else:
        ours = fits["tendero"]
        lines += [
            f"BG/NBD fitted to the same simulated summary of {fits['customers']:,} customers "
            f"({ours['histories']:,} distinct histories, {fits['repeat_buyers']:,} repeat "
            "buyers), by Tendero and by the `Lifetimes` package, in one run (bench/clv.py; "
            "one BLAS thread each). Log-likelihoods are evaluated by the same function.",
            "",
            "| fit | seconds | Tendero is faster by | log-likelihood | relative difference |",
            "|---|---:|---:|---:|---:|",
            f"| Tendero, from the per-customer arrays (compression included) "
            f"| {ours['seconds']:.3f} | — | {ours['log_likelihood']:,.4f} | — |",
        ]
        for key, label in (
            ("lifetimes_raw", "Lifetimes, from the per-customer arrays (its documented use)"),
            ("lifetimes_compressed", "Lifetimes, from the distinct histories with weights"),
        ):
            other = fits[key]
            lines.append(
                f"| {label} | {other['seconds']:.3f} | {other['speedup']:.1f} times "
                f"| {other['log_likelihood']:,.4f} | {other['relative_difference']:.1e} |"
            )
    score = result.get("score", {})
    lines.append("")
    if "failed" in score:
        lines.append(f"`tendero clv score`: failed ({score['failed']}).")
        return lines
    seeded = result.get("seeded")
    if seeded and "failed" in seeded:
        lines.append(f"Seeding the purchases failed ({seeded['failed']}).")
    elif seeded:
        lines.append(
            f"Purchases seeded for this run: {seeded['rows']:,} in {seeded['seconds']:.0f} s."
        )
    lines += [
        f"`tendero clv score` on the benchmark database ({result['purchases']:,} purchases, "
        f"{score['customers']:,} customers scored, {score['histories']:,} distinct histories; "
        "status "
        f"{score['status']}):",
        "",
        "| aggregate | fit | predict | write | total | peak memory |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {score['aggregate_seconds']:.1f} s | {score['fit_seconds']:.2f} s "
        f"| {score['predict_seconds']:.1f} s | {score['write_seconds']:.1f} s "
        f"| {score['total_seconds']:.1f} s | {score['peak_rss_mb']:,.0f} MB |",
        "",
        "The run measured is the month's first: its write also copies every score into "
        f"the month's snapshot ({score.get('snapshot_rows', 0):,} rows) for the scorecard.",
    ]
    return lines


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
        SearchToken,
    )
    from tendero.dialogue.models import Interaction
    from tendero.knowledge.models import PersonalFact

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
            Interaction,
            PersonalFact,
            SearchToken,
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
    details: list[Measurement] | None = None,
    lengths: dict[str, dict[str, tuple[int, int]]] | None = None,
    searches: list[Measurement] | None = None,
    imported: dict[str, Any] | None = None,
    lifetime_value: dict[str, Any] | None = None,
    insights: dict[str, Any] | None = None,
    insights_requests: int = 0,
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
        "| customers | interactions | rows | seconds | rows/s | customers/s "
        "| interactions/s (while writing them) | |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    how = (
        "sample on top of the existing data, rolled back"
        if seed["rolled_back"]
        else "seeding the benchmark database"
    )
    lines.append(
        f"| {seed['customers']:,} | {seed.get('interactions', 0):,} | {seed['rows']:,} "
        f"| {seed['seconds']:.1f} | {seed['rows'] / seed['seconds']:,.0f} "
        f"| {seed['customers'] / seed['seconds']:,.0f} "
        f"| {seed.get('interactions_per_second', 0):,.0f} | {how} |"
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
    if details:
        lines += [
            "",
            f"### Customer 360 page /customers/<id>/ ({requests} requests per row, server "
            "time in ms)",
            "",
            "Five customers per kind of history, in turn. As a manager: any seeded "
            "customers; as a sales rep: customers of their own portfolio.",
            "",
            "| as | history | interactions (fewest-most) | p50 ms | p95 ms | max ms "
            "| SQL queries (median / max) |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        for m in details:
            if not m.available:
                lines.append(f"| {m.role} | not available yet ({m.note}) | | | | | |")
                continue
            for label, t in m.by_variant.items():
                low, high = (lengths or {}).get(m.role, {}).get(label, (0, 0))
                lines.append(
                    f"| {m.role} | {label} | {low:,}-{high:,} | {t.percentile(50):.1f} "
                    f"| {t.percentile(95):.1f} | {max(t.millis):.1f} "
                    f"| {statistics.median(t.queries):.0f} / {max(t.queries)} |"
                )
    if searches:
        lines += [
            "",
            f"### Search as you type ({requests} requests per row, server time in ms)",
            "",
            "Mix, in turn: 1-3-letter prefixes ("
            + ", ".join(PREFIXES)
            + "), full names, accented names ("
            + ", ".join(ACCENTED)
            + ") and the same unaccented, emails, phones in national format and tax ids of "
            "seeded customers (of the sales rep's portfolio, for the sales rep).",
            "",
            "| endpoint | as | p50 ms | p95 ms | max ms | SQL queries (median / max) |",
            "|---|---|---:|---:|---:|---|",
        ]
        for m in searches:
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
            "| endpoint | as | query | p50 ms | p95 ms | queries |",
            "|---|---|---|---:|---:|---:|",
        ]
        for m in searches:
            for label, t in m.by_variant.items():
                if t.millis:
                    lines.append(
                        f"| {m.page} | {m.role} | {label} | {t.percentile(50):.1f} "
                        f"| {t.percentile(95):.1f} | {max(t.queries)} |"
                    )
    if imported:
        lines += [
            "",
            f"### CSV import (`tendero import customers`, {imported['rows']:,} rows)",
            "",
            "A semicolon-separated Windows-1252 file with Spanish headers (Código, Nombre, "
            "Correo electrónico, Teléfono, País, NIF...), imported into a database of its "
            "own, emptied first; then the same file again (idempotent: nothing changes). "
            "Wall time of the whole command (process start included) and the rate the "
            "command itself reports.",
            "",
            "| run | created | updated | unchanged | rejected | seconds | rows/s (wall) "
            "| rows/s (command) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, key in (("first import", "first"), ("same file again", "again")):
            run = imported[key]
            if "failed" in run:
                failure = run["failed"].replace("|", "/")
                lines.append(f"| {label} | failed after {run['seconds']:.1f} s: {failure} |||||||")
                continue
            lines.append(
                f"| {label} | {run['created']:,} | {run['updated']:,} | {run['unchanged']:,} "
                f"| {run['rejected']:,} | {run['seconds']:.1f} "
                f"| {imported['rows'] / run['seconds']:,.0f} "
                f"| {run['command_rows_per_second']:,.0f} |"
            )
        raw = imported.get("raw_copy") or {}
        if raw and "failed" not in imported["first"]:
            first_seconds = imported["first"]["seconds"]
            lines += [
                "",
                "The yardstick: the rows the first import wrote (each customer, their email "
                "and phone, their audit entry and their search words), copied back by psql "
                "into the emptied tables in one transaction, with the same indexes and "
                "constraints and no Tendero code at all:",
                "",
                "| table | seconds |",
                "|---|---:|",
                *(f"| {table} | {raw[table]:.1f} |" for table in IMPORTED_TABLES if table in raw),
                f"| commit (deferred key checks) | {raw['commit']:.1f} |",
                f"| **raw COPY, whole transaction** | **{raw['total']:.1f}** |",
                "",
                f"Raw COPY: {imported['rows'] / raw['total']:,.0f} rows of the file per second. "
                f"The first import ran at {100 * raw['total'] / first_seconds:.0f}% of that "
                "speed.",
            ]
    if lifetime_value:
        lines += render_lifetime_value(lifetime_value)
    if insights:
        lines += render_insights(insights, insights_requests)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines += [
        "",
        "### Memory",
        "",
        f"- Web process (this process, after every request above): peak RSS {peak:.0f} MB, "
        f"RSS now {rss_now_mb():.0f} MB (budget 300 MB).",
        f"- Child processes (seeding, imports, fits, scoring): the largest peak RSS "
        f"{children:.0f} MB.",
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


def report(m: Measurement) -> Measurement:
    if m.available:
        t = m.overall
        print(
            f"  p50 {t.percentile(50):.1f} ms, p95 {t.percentile(95):.1f} ms, "
            f"queries max {max(t.queries)}",
            flush=True,
        )
    else:
        print(f"  not available yet: {m.note}", flush=True)
    return m


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed-sample":
        setup_django(os.environ["DATABASE_URL"])
        seed_sample(int(sys.argv[2]))
        return 0
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    wanted = env_int("BENCH_CUSTOMERS", 1_000_000)
    per_customer = env_int("BENCH_INTERACTIONS_PER_CUSTOMER", 20)
    requests = env_int("BENCH_REQUESTS", 200)
    sample = env_int("BENCH_SEED_SAMPLE", 100_000)
    import_rows = env_int("BENCH_IMPORT_ROWS", 200_000)
    import_url = os.environ.get("BENCH_IMPORT_DATABASE_URL", "") or import_database_url(url)
    print(f"Benchmark database: {url}", flush=True)
    if ensure_database(url):
        print("  created.", flush=True)
    elif drop_if_without_interactions(url):
        print("  seeded before interactions existed: dropped, to be seeded again.", flush=True)
        ensure_database(url)
    setup_django(url)
    from django.core.management import call_command

    from tendero.accounts import roles
    from tendero.customers.models import Customer
    from tendero.customers.seeding import LONG_HISTORY_TAG, ensure_seed_sales_users

    call_command("migrate", verbosity=0)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "TENDERO_ENV": "development"}
    have = Customer.objects.count()
    if have < wanted:
        missing = wanted - have
        print(
            f"Seeding {missing:,} customers and {missing * per_customer:,} interactions "
            f"(have {have:,} customers, want {wanted:,})…",
            flush=True,
        )
        seed = run_seed(missing, missing * per_customer, env)
    else:
        print(f"{have:,} customers already there; seeding a sample of {sample:,}…", flush=True)
        seed = run_seed_sample(sample, env)
    print(f"  {seed['rows'] / seed['seconds']:,.0f} rows/s", flush=True)
    print("VACUUM (ANALYZE), as autovacuum would…", flush=True)
    print(f"  {vacuum_analyze(url):,.0f} s", flush=True)
    print("Reading the database into memory (pg_prewarm), as a running server has it…", flush=True)
    warm_seconds, warm_bytes = prewarm(url)
    print(f"  {warm_bytes / 2**30:,.1f} GiB in {warm_seconds:,.0f} s", flush=True)
    manager = bench_user("bench.manager", roles.MANAGER)
    sales = ensure_seed_sales_users()[0]  # a portfolio of 1/8 of the seeded customers
    measurements = []
    for page, variants in (
        ("HTML list /customers/", HTML_VARIANTS),
        ("API /api/v1/customers", API_VARIANTS),
    ):
        for role, user in (("manager", manager), ("sales rep", sales)):
            print(f"Measuring {page} as {role}…", flush=True)
            measurements.append(report(measure(page, role, user, variants, requests)))
    # The customer 360 page, as a manager and as the sales rep who owns a customer
    # with a very long history (and the other customers measured with them).
    owner_id = (
        Customer.objects.filter(tags__name=LONG_HISTORY_TAG)
        .order_by("pk")
        .values_list("account_executive_id", flat=True)
        .first()
    )
    owner = ensure_seed_sales_users()[0]
    for candidate in ensure_seed_sales_users():
        if candidate.pk == owner_id:
            owner = candidate
    details = []
    lengths = {}
    for role, user, scope in (("manager", manager, None), ("sales rep", owner, owner.pk)):
        customers = history_customers(scope)
        lengths[role] = history_lengths(customers)
        print(f"Measuring the customer 360 page as {role}: {lengths[role]}…", flush=True)
        m = measure("customer 360", role, user, detail_variants(customers), requests)
        details.append(report(m))
    searches = []
    for role, user, scope in (("manager", manager, None), ("sales rep", owner, owner.pk)):
        queries = search_queries(scope)
        for page, api in (("API /api/v1/search", True), ("suggest /search/suggest/", False)):
            print(f"Measuring {page} as {role}…", flush=True)
            paths = search_variants(queries, api)
            searches.append(report(measure(page, role, user, paths, requests)))
    print(f"Importing {import_rows:,} rows into {import_url}…", flush=True)
    imported = import_benchmark(import_rows, import_url, env)
    for key in ("first", "again"):
        run = imported[key]
        if "failed" in run:
            print(f"  {key}: failed ({run['failed']})", flush=True)
            continue
        print(
            f"  {key}: {run['created']:,} created, {run['unchanged']:,} unchanged, "
            f"{run['rejected']:,} rejected in {run['seconds']:.1f} s "
            f"({import_rows / run['seconds']:,.0f} rows/s)",
            flush=True,
        )
    if imported.get("raw_copy"):
        raw_total = imported["raw_copy"]["total"]
        print(
            f"  raw COPY of the same rows: {raw_total:.1f} s "
            f"({import_rows / raw_total:,.0f} rows/s)",
            flush=True,
        )
    lifetime_value = lifetime_value_benchmark(url, wanted, env)
    # After the purchases are seeded (above): the refresh reads them.
    insights_requests = env_int("BENCH_INSIGHTS_REQUESTS", 30)
    insights = insights_benchmark([("manager", manager), ("sales rep", sales)], insights_requests)
    section = render(
        started_at,
        time.perf_counter() - started,
        machine(),
        table_counts(),
        seed,
        measurements,
        requests,
        details=details,
        lengths=lengths,
        searches=searches,
        imported=imported,
        lifetime_value=lifetime_value,
        insights=insights,
        insights_requests=insights_requests,
    )
    write_results(section)
    print(section)
    print(f"Written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
