"""`tendero demo`: migrate, load the demo company, print the logins, and serve the
app at http://127.0.0.1:8000 with the task worker running beside it."""

import functools
import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from tendero.core import processes


class Command(BaseCommand):
    help = "Set up the demo database and serve Tendero with its task worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Only prepare the database and print logins."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here: `tendero help` lists this command without loading the demo.
        from tendero.customers.demo import create_demo_data

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready.")
        logins = create_demo_data(stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write("Demo logins (one per role):")
        width = max(len(username) for username, _role, _password in logins)
        for username, role, password in logins:
            self.stdout.write(f"  {username.ljust(width)}  {password}  ({role})")
        self.stdout.write("")
        if options["no_serve"]:
            return
        # The worker ends with the demo however the demo ends: if the demo is killed,
        # the kernel sends the worker SIGTERM (huey's immediate stop); a demo stopped by
        # Ctrl+C, SIGTERM or SIGHUP stops it below.
        end_with_demo = functools.partial(processes.die_with_parent, os.getpid(), signal.SIGTERM)
        worker = subprocess.Popen(
            [sys.executable, "-m", "tendero.cli", "run_huey", "--quiet"],
            env=os.environ.copy(),
            preexec_fn=end_with_demo,  # safe: no other thread runs yet
        )
        self.stdout.write(f"Task worker started (pid {worker.pid}).")
        self.stdout.write(f"Serving Tendero at http://{options['addrport']}/  (Ctrl+C stops both)")
        for stop in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop, lambda *_: sys.exit(0))
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
