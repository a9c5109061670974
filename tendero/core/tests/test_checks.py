"""`tendero check` refuses a connection budget the pool or the database cannot hold."""

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tendero.core.checks import (
    ConnectionBudget,
    Pool,
    budget_messages,
    check_connection_budget,
    connection_budget,
    pool_of,
)

POSTGRESQL = "django.db.backends.postgresql"


def _pooled(max_size: int, min_size: int = 1) -> dict[str, Any]:
    return {
        "ENGINE": POSTGRESQL,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"pool": {"min_size": min_size, "max_size": max_size, "timeout": 10}},
    }


def _ids(database: dict[str, Any], max_connections: int = 100, **settings: Any) -> list[str | None]:
    with override_settings(**settings):
        budget = connection_budget(database)
    return [message.id for message in budget_messages(database, budget, max_connections)]


def test_a_pool_as_large_as_the_threads_passes() -> None:
    assert _ids(_pooled(4), TENDERO_WEB_WORKERS=2, TENDERO_WEB_THREADS=4) == []


def test_more_threads_than_the_pool_holds_is_a_warning() -> None:
    assert _ids(_pooled(2), TENDERO_WEB_WORKERS=2, TENDERO_WEB_THREADS=4) == ["core.W001"]


def test_a_budget_over_the_databases_limit_is_an_error() -> None:
    ids = _ids(_pooled(8), max_connections=50, TENDERO_WEB_WORKERS=8, TENDERO_WEB_THREADS=8)
    assert ids == ["core.E001"]


def test_the_budget_counts_web_workers_and_the_task_worker() -> None:
    huey = {"immediate": False, "consumer": {"workers": 3}}
    with override_settings(TENDERO_WEB_WORKERS=3, TENDERO_WEB_THREADS=4, HUEY=huey):
        budget = connection_budget(_pooled(4))
    assert (budget.web, budget.tasks, budget.total) == (12, 3, 15)
    # 15 fit in 15, not in 14.
    assert budget_messages(_pooled(4), budget, 15) == []
    assert [m.id for m in budget_messages(_pooled(4), budget, 14)] == ["core.E001"]


def test_the_pool_bounds_a_process_whatever_its_threads() -> None:
    budget = ConnectionBudget(web_workers=2, web_threads=16, task_threads=2, pool=Pool(1, 4))
    assert budget.web == 2 * 4
    # The pool's minimum stays open even when fewer threads use it.
    assert ConnectionBudget(1, 1, 0, pool=Pool(3, 4)).web == 3


def test_without_a_pool_every_thread_may_hold_a_connection() -> None:
    database = {"ENGINE": POSTGRESQL, "CONN_MAX_AGE": 0, "OPTIONS": {}}
    with override_settings(TENDERO_WEB_WORKERS=4, TENDERO_WEB_THREADS=8):
        assert connection_budget(database).web == 32


def test_persistent_connections_without_a_pool_are_a_warning() -> None:
    database = {"ENGINE": POSTGRESQL, "CONN_MAX_AGE": 60, "OPTIONS": {}}
    assert _ids(database) == ["core.W002"]


def test_a_pool_set_to_true_has_psycopgs_default_size() -> None:
    assert pool_of({"OPTIONS": {"pool": True}}) == Pool(4, 4)
    assert pool_of({"OPTIONS": {}}) is None


def test_sqlite_has_no_connection_budget() -> None:
    database = {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {}}
    assert _ids(database, max_connections=1, TENDERO_WEB_WORKERS=64) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connection limit")
@pytest.mark.django_db
def test_the_registered_check_compares_the_budget_with_the_servers_limit() -> None:
    assert check_connection_budget(databases=["default"]) == []
    with override_settings(TENDERO_WEB_WORKERS=10_000, TENDERO_DB_MAX_CONNECTIONS=100_000):
        ids = [message.id for message in check_connection_budget(databases=["default"])]
    assert ids == ["core.E002"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connection limit")
def test_tendero_check_refuses_a_budget_over_the_configured_limit() -> None:
    from django.core.management.base import SystemCheckError

    with (
        override_settings(TENDERO_WEB_WORKERS=1_000, TENDERO_DB_MAX_CONNECTIONS=100),
        pytest.raises(SystemCheckError, match=r"core\.E001"),
    ):
        call_command("check")


def test_the_shipped_settings_pass_tendero_check() -> None:
    call_command("check")
