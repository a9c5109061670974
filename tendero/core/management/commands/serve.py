"""`tendero serve`: Tendero's production web server (gunicorn).

TENDERO_WEB_WORKERS processes with TENDERO_WEB_THREADS threads each, bound to
TENDERO_WEB_BIND: a fixed number of requests at a time, so a fixed number of
database connections (the budget `tendero check` verifies). Static files are
served by whitenoise from the same processes. SIGTERM stops gracefully (requests
in flight get TENDERO_WEB_TIMEOUT seconds to finish), SIGINT at once; either way
each worker returns its database connections before it exits.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication


def close_database_connections() -> None:
    """Close this process's connections and connection pools.

    Run in the server process before it forks its workers, so that no worker
    inherits a connection (or a pool whose threads did not survive the fork), and
    in each worker as it exits, so PostgreSQL sees its sessions end cleanly.
    """
    for connection in connections.all():
        connection.close()
        close_pool = getattr(connection, "close_pool", None)  # PostgreSQL only
        if close_pool is not None:
            close_pool()


def on_worker_exit(arbiter: Any, worker: Any) -> None:
    close_database_connections()


class TenderoServer(BaseApplication):
    """gunicorn configured from Tendero's settings only (no gunicorn.conf.py, no
    GUNICORN_CMD_ARGS): what `tendero check` sees is what runs."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIHandler:
        # Loaded in each worker after the fork.
        from tendero.wsgi import application

        return application


def server_options() -> dict[str, Any]:
    return {
        "bind": [settings.TENDERO_WEB_BIND],
        "workers": settings.TENDERO_WEB_WORKERS,
        "worker_class": "gthread",
        "threads": settings.TENDERO_WEB_THREADS,
        "timeout": settings.TENDERO_WEB_TIMEOUT,
        "graceful_timeout": settings.TENDERO_WEB_TIMEOUT,
        "accesslog": "-" if settings.TENDERO_WEB_ACCESS_LOG else None,
        "errorlog": "-",
        "proc_name": "tendero",
        # Several servers may run as one user (tests, benchmarks): no shared socket file.
        "control_socket_disable": True,
        "worker_exit": on_worker_exit,
    }


class Command(BaseCommand):
    help = (
        "Serve Tendero with gunicorn: TENDERO_WEB_WORKERS processes of "
        "TENDERO_WEB_THREADS threads on TENDERO_WEB_BIND."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            manifest = Path(str(settings.STATIC_ROOT)) / "staticfiles.json"
            if not manifest.exists():
                raise CommandError(
                    f"No collected static files in {settings.STATIC_ROOT}: "
                    "run `tendero collectstatic` first."
                )
        options = server_options()
        self.stdout.write(
            f"Serving Tendero at http://{settings.TENDERO_WEB_BIND}/ with "
            f"{options['workers']} workers of {options['threads']} threads."
        )
        self.stdout.flush()
        close_database_connections()
        TenderoServer(options).run()
