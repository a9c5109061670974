"""`python -m fuzz.api` (`make fuzz`): schemathesis against a live Tendero server.

Builds a throw-away database (SQLite in a temporary folder, or a PostgreSQL
database of its own), migrates it, loads the demo company, issues API tokens for
a manager and a sales rep, starts the server (`tendero serve`, the production
server) on a free loopback port with the test settings and runs schemathesis
over the whole OpenAPI document in passes:

1. as the manager, with generated path ids (mostly unknown ones: 404s and 422s);
2. as the manager, with the ids of real rows, so the operations reach their
   services (deleting and merging left out: they would remove the rows the
   other operations need, and pass 1 covers them);
3. as the sales rep, with the ids of one of their customers' rows, so the
   portfolio checks are exercised on both sides.

The bar is 0 server errors: schemathesis's `not_a_server_error` check on every
answer, and no traceback in the server's log. The exit code is 1 when either
fails. Bounded: `--examples` cases per operation and phase, `--max-time`
seconds per pass, loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/tendero_fuzz"

# Rows whose ids the passes with real ids use, picked from the demo data: a
# customer of the sales rep's portfolio that has everything the API can reach.
PICK_IDS = """
import json
from tendero.accounts.models import User
from tendero.contracts.models import Purchase
from tendero.customers.models import Contact, Customer, ImportJob
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import PersonalFact
from tendero.stewardship.models import DuplicatePair

rep = User.objects.get(username="ana.sales")
customers = Customer.objects.visible_to(rep)
customer = (
    customers.filter(contacts__isnull=False, facts__isnull=False, purchases__isnull=False)
    .order_by("pk")
    .first()
)
customer_id = customer.pk
pair = DuplicatePair.objects.order_by("pk").first()
job = ImportJob.objects.order_by("pk").first()
print(json.dumps({
    "customer_id": customer_id,
    "contact_id": Contact.objects.filter(customer_id=customer_id).values_list("pk", flat=True)[0],
    "fact_id": PersonalFact.objects.filter(customer_id=customer_id).values_list("pk", flat=True)[0],
    "interaction_id": Interaction.objects.filter(customer_id=customer_id)
        .values_list("pk", flat=True)[0],
    "purchase_id": Purchase.objects.filter(customer_id=customer_id)
        .values_list("pk", flat=True)[0],
    "pair_id": pair.pk if pair else 1,
    "job_id": job.pk if job else 1,
}))
"""


@dataclass
class Pass:
    name: str
    token: str
    ids: dict[str, int] | None
    exclude_method: tuple[str, ...] = ()
    exclude_path_regex: str = ""


def tendero(*args: str, env: dict[str, str], capture: bool = False) -> str:
    completed = subprocess.run(
        [str(BIN / "tendero"), *args],
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        cwd=ROOT,
    )
    return completed.stdout if capture else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def recreate_postgres(url: str) -> None:
    """Drop and create the fuzzing database, so each run starts from the demo data."""
    import psycopg

    base, _, name = url.rpartition("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"fuzz: refusing an unusual database name {name!r}")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"fuzz: the server exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback, built here)
                return
        except urllib.error.HTTPError:
            return  # it answers (the schema asks for a token)
        except OSError:
            time.sleep(0.3)
    raise SystemExit("fuzz: the server did not answer in time")


def schemathesis_config(folder: Path, ids: dict[str, int] | None) -> Path:
    path = folder / f"schemathesis-{'ids' if ids else 'generated'}.toml"
    lines = ["[parameters]"] if ids else []
    lines += [f"{name} = {value}" for name, value in (ids or {}).items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_pass(
    step: Pass, schema_url: str, folder: Path, examples: int, max_time: int, seed: int
) -> tuple[bool, str]:
    config = schemathesis_config(folder, step.ids)
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        schema_url,
        "--header",
        f"Authorization: Bearer {step.token}",
        "--checks",
        "not_a_server_error",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(examples),
        "--max-time",
        str(max_time),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--warnings",
        "off",
        "--suppress-health-check",
        "all",
    ]
    for method in step.exclude_method:
        command += ["--exclude-method", method]
    if step.exclude_path_regex:
        command += ["--exclude-path-regex", step.exclude_path_regex]
    completed = subprocess.run(
        command, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=folder
    )
    output = completed.stdout
    summary = re.search(r"Test cases:\s*\n\s*(.+)", output)
    line = summary.group(1).strip() if summary else "no summary"
    if completed.returncode != 0:
        print(output[-6000:])
    return completed.returncode == 0, line


def fuzz(database: str, examples: int, max_time: int, seed: int, postgres_url: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="tendero-fuzz-") as tmp:
        folder = Path(tmp)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "SQLITE_PATH"}
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "tendero.settings",
                "TENDERO_ENV": "test",
                "DEBUG": "false",
                "TENDERO_DATA_DIR": str(folder / "data"),
                "HUEY_IMMEDIATE": "true",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if database == "postgres":
            recreate_postgres(postgres_url)
            env["DATABASE_URL"] = postgres_url
        else:
            env["SQLITE_PATH"] = str(folder / "fuzz.sqlite3")
        print(f"fuzz ({database}): migrating and loading the demo company…", flush=True)
        tendero("migrate", "--verbosity", "0", env=env)
        tendero("load_demo_data", env=env)
        manager = tendero("token", "create", "manager", "--name", "fuzz", env=env, capture=True)
        rep = tendero("token", "create", "ana.sales", "--name", "fuzz", env=env, capture=True)
        # The shell may print a line of its own (objects imported) before ours.
        picked = tendero("shell", "--command", PICK_IDS, env=env, capture=True)
        ids = json.loads(picked.strip().splitlines()[-1])
        port = free_port()
        log_path = folder / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [str(BIN / "tendero"), "serve"],
                env={
                    **env,
                    "TENDERO_WEB_BIND": f"127.0.0.1:{port}",
                    "TENDERO_WEB_ACCESS_LOG": "true",
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        try:
            schema_url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
            wait_until_up(schema_url, server)
            passes = [
                Pass("manager, generated ids", manager.split()[0], None),
                Pass(
                    "manager, real ids",
                    manager.split()[0],
                    ids,
                    exclude_method=("DELETE",),
                    exclude_path_regex=r"/merge$",
                ),
                Pass(
                    "sales rep, real ids",
                    rep.split()[0],
                    ids,
                    exclude_method=("DELETE",),
                    exclude_path_regex=r"/merge$",
                ),
            ]
            ok = True
            for step in passes:
                passed, line = run_pass(step, schema_url, folder, examples, max_time, seed)
                print(f"fuzz ({database}), {step.name}: {line}", flush=True)
                ok = ok and passed
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        tracebacks = log_text.count("Traceback (most recent call last)")
        server_errors = len(re.findall(r'" 5\d\d \d+', log_text))
        print(
            f"fuzz ({database}): {server_errors} server errors in the server log, "
            f"{tracebacks} tracebacks",
            flush=True,
        )
        for block in re.findall(
            r"Internal Server Error: .*?\n(?:.*\n)*?\S*Error.*\n|Traceback .*?\n(?:  .*\n)+.*\n",
            log_text,
        )[:5]:
            print(block[-3000:])
        return ok and not tracebacks and not server_errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="both", help="where to run"
    )
    parser.add_argument("--examples", type=int, default=50, help="cases per operation and phase")
    parser.add_argument("--max-time", type=int, default=600, help="seconds per pass at most")
    parser.add_argument("--seed", type=int, default=20261204, help="schemathesis's seed")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("FUZZ_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    args = parser.parse_args(argv)
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = {
        database: fuzz(database, args.examples, args.max_time, args.seed, args.postgres_url)
        for database in databases
    }
    failed = [database for database, ok in results.items() if not ok]
    print("fuzz: " + ("0 server errors" if not failed else f"server errors on {', '.join(failed)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
