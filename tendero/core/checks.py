"""System checks of the connection budget (`tendero check`): the most PostgreSQL
connections Tendero's processes can hold at once, against what each process's pool
and the database allow.

A process holds at most one connection per thread that uses the database, and with
the pool never more than the pool's maximum (nor fewer than its minimum, kept open
while idle). `tendero serve` runs TENDERO_WEB_WORKERS processes of
TENDERO_WEB_THREADS threads; the task worker (`tendero run_huey`) runs HUEY_WORKERS
threads. Commands run by hand (an import, a scoring) add their own.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connections

POSTGRESQL = "django.db.backends.postgresql"


@dataclass(frozen=True)
class Pool:
    min_size: int
    max_size: int


@dataclass(frozen=True)
class ConnectionBudget:
    web_workers: int
    web_threads: int
    task_threads: int
    pool: Pool | None  # None: a connection per thread, closed or kept per CONN_MAX_AGE

    def per_process(self, threads: int) -> int:
        if self.pool is None:
            return threads
        return max(self.pool.min_size, min(threads, self.pool.max_size))

    @property
    def web(self) -> int:
        return self.web_workers * self.per_process(self.web_threads)

    @property
    def tasks(self) -> int:
        return self.per_process(self.task_threads) if self.task_threads else 0

    @property
    def total(self) -> int:
        return self.web + self.tasks

    def describe(self) -> str:
        return (
            f"{self.total} connections ({self.web_workers} web workers of "
            f"{self.per_process(self.web_threads)} each, {self.tasks} for the task worker)"
        )


def pool_of(database: Mapping[str, Any]) -> Pool | None:
    """The pool configured in a DATABASES entry, with psycopg_pool's defaults."""
    options = database.get("OPTIONS", {}).get("pool")
    if not options:
        return None
    if options is True:
        options = {}
    min_size = int(options.get("min_size", 4))
    return Pool(min_size=min_size, max_size=int(options.get("max_size") or min_size))


def connection_budget(database: Mapping[str, Any]) -> ConnectionBudget:
    huey: dict[str, Any] = settings.HUEY
    task_threads = 0 if huey.get("immediate") else int(huey["consumer"]["workers"])
    return ConnectionBudget(
        web_workers=settings.TENDERO_WEB_WORKERS,
        web_threads=settings.TENDERO_WEB_THREADS,
        task_threads=task_threads,
        pool=pool_of(database),
    )


def budget_messages(
    database: Mapping[str, Any], budget: ConnectionBudget, max_connections: int
) -> list[CheckMessage]:
    """What is wrong with `budget` for the PostgreSQL database `database`, whose
    connections are limited to `max_connections` for Tendero."""
    if database.get("ENGINE") != POSTGRESQL:
        return []  # SQLite has no connection limit
    messages: list[CheckMessage] = []
    pool = budget.pool
    if pool is not None and pool.max_size < budget.web_threads:
        messages.append(
            Warning(
                f"Each web worker runs {budget.web_threads} threads but its connection pool "
                f"holds at most {pool.max_size} connections: under load, requests wait for "
                "a connection and fail when the pool's timeout runs out.",
                hint="Set TENDERO_DB_POOL_MAX_SIZE to at least TENDERO_WEB_THREADS.",
                id="core.W001",
            )
        )
    if pool is None and database.get("CONN_MAX_AGE"):
        messages.append(
            Warning(
                "Persistent connections (CONN_MAX_AGE) without a pool pile up under a server "
                "that starts a thread per client (runserver, so `tendero demo`): each thread "
                "leaves its connection open.",
                hint="Keep TENDERO_DB_POOL on, or CONN_MAX_AGE=0 unless only `tendero serve` "
                "serves.",
                id="core.W002",
            )
        )
    if budget.total > max_connections:
        messages.append(
            Error(
                f"Tendero could hold {budget.describe()}, more than the "
                f"{max_connections} the database allows it (TENDERO_DB_MAX_CONNECTIONS).",
                hint="Lower TENDERO_WEB_WORKERS, TENDERO_WEB_THREADS (and the pool, "
                "TENDERO_DB_POOL_MAX_SIZE) or HUEY_WORKERS, or raise the database's limit.",
                id="core.E001",
            )
        )
    return messages


@register(Tags.database)
def check_connection_budget(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """The budget against TENDERO_DB_MAX_CONNECTIONS always; against the server's own
    max_connections when the database is checked too (`tendero check --database default`)."""
    database = settings.DATABASES["default"]
    budget = connection_budget(database)
    messages = budget_messages(database, budget, settings.TENDERO_DB_MAX_CONNECTIONS)
    if databases and "default" in databases and database.get("ENGINE") == POSTGRESQL:
        messages += server_limit_messages(budget)
    return messages


def server_limit_messages(budget: ConnectionBudget) -> list[CheckMessage]:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
            )
            available = int(cursor.fetchone()[0])
    except DatabaseError:
        return []  # an unreachable database is reported by the checks that need it
    if budget.total <= available:
        return []
    return [
        Error(
            f"Tendero could hold {budget.describe()}, more than the {available} the "
            "PostgreSQL server accepts (max_connections less the superuser's reserve).",
            hint="Raise max_connections on the server or lower Tendero's budget.",
            id="core.E002",
        )
    ]
