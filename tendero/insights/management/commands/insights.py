"""`tendero insights`: the Insights page's figures.

    tendero insights refresh     work them out again from the purchases ledger

The nightly task does the same at 03:15 (tendero.insights.tasks.refresh_insights).
Exit status: 0 on success, 2 for bad usage (one line on standard error), 1 when the
refresh failed (the previous figures stay in place).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from tendero.insights.refresh import refresh_retention
from tendero.insights.retention_models import RetentionRefresh

EXIT_BAD_INPUT = 2


class InsightsParser(CommandParser):
    """Usage errors as one line on standard error and exit status 2."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")
        raise CommandError(f"Error: {message}", returncode=EXIT_BAD_INPUT)


class Command(BaseCommand):
    help = "The Insights page's figures: `refresh` works them out again from the purchases."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = InsightsParser
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=InsightsParser
        )
        actions.add_parser(
            "refresh",
            help="Work out the Insights figures again from the purchases ledger "
            "(replaces the previous ones in one transaction).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = refresh_retention(trigger=RetentionRefresh.Trigger.COMMAND)
        except DatabaseError as exc:
            raise CommandError(f"The refresh failed: {exc}", returncode=1) from exc
        self.stdout.write(
            f"Insights figures refreshed in {run.seconds:.1f} s: {run.customers} customers "
            f"with purchases, {run.purchases} purchases in {run.currency} "
            f"(as of {run.finished_at.isoformat(timespec='seconds')})."
        )
