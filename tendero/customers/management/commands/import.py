"""`tendero import customers|contacts|facts|purchases FILE`: import a CSV or XLSX file."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.core.errors import DomainError
from tendero.core.spreadsheets import CsvWriter
from tendero.customers import import_files, importing
from tendero.customers.models import ImportJob, ImportKind, ImportRowError

EXIT_UNUSABLE = 2


class Command(BaseCommand):
    help = (
        "Import customers, contacts, personal facts or purchases from a CSV (UTF-8 or "
        "Windows-1252, comma or semicolon) or XLSX file. Common English and Spanish headers are "
        'recognised; map the others with --map "Header=field". Rows are matched by '
        "external id, so importing the same file again changes nothing. Exit status: 0 "
        "when the import ran (even with rejected rows), 2 when the file is unusable."
    )
    # The system checks (URLs, templates, models) cost half a second before any row is
    # read; `tendero check` and every server start run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help='Map a column to a field (e.g. "Código=external_id"); FIELD empty to ignore it.',
        )
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")
        parser.add_argument("--encoding", default="", help="CSV encoding (default: detected).")
        parser.add_argument("--delimiter", default="", help="CSV delimiter (default: detected).")
        parser.add_argument("--user", default="", help="Import as this user (the audit actor).")
        parser.add_argument("--errors", type=Path, help="Write rejected rows to this CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            self._unusable(f"No such file: {path}")
        user = self._user(options["user"])
        overrides = {}
        for item in options["map"]:
            header, sep, name = item.partition("=")
            if not sep or not header.strip():
                self._unusable(f'--map takes "Header=field", not "{item}".')
            overrides[header.strip()] = name.strip()
        try:
            job = importing.create_job(
                user,
                options["kind"],
                path.resolve(),
                path.name,
                overrides=overrides,
                dry_run=options["dry_run"],
                encoding=options["encoding"],
                delimiter=options["delimiter"],
            )
        except DomainError as exc:
            self._unusable(str(exc.message))
        unknown = importing.unknown_columns(job)
        if unknown:
            self.stderr.write(f"Ignored columns (not recognised): {', '.join(unknown)}")
        problems = import_files.mapping_problems(job.kind, job.mapping)
        if problems:
            self._unusable(" ".join(problems))
        started = time.monotonic()
        try:
            importing.run_import(
                job, user, progress=lambda j: self._progress(j, started), parallel=True
            )
        except import_files.UnusableFile as exc:
            self._unusable(str(exc.message))
        except Exception as exc:
            raise CommandError(f"The import failed: {exc}") from exc
        self.stderr.write("")
        self._summary(job, options["errors"])

    def _unusable(self, message: str) -> None:
        raise CommandError(message, returncode=EXIT_UNUSABLE)

    def _user(self, username: str) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user “{username}”.")
            return user
        user = (
            User.objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(groups__name=roles.ADMINISTRATOR))
            .order_by("-is_superuser", "pk")
            .first()
        )
        if user is None:
            raise CommandError("No active superuser or administrator: pass --user USERNAME.")
        return user

    def _progress(self, job: ImportJob, started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        width = 30
        filled = width * job.percent_done // 100
        self.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {job.processed_rows:,}/"
            f"{job.total_rows:,} rows  {job.processed_rows / elapsed:,.0f} rows/s",
            ending="",
        )
        self.stderr.flush()

    def _summary(self, job: ImportJob, errors_path: Path | None) -> None:
        verb = "would be " if job.dry_run else ""
        self.stdout.write(
            f"{job.original_name}: {job.created_count} {verb}created, {job.updated_count} "
            f"{verb}updated, {job.unchanged_count} unchanged, {job.error_count} rejected"
            f"{' (dry run: nothing was written)' if job.dry_run else ''}."
        )
        if job.message:
            self.stdout.write(job.message)
        rejected = ImportRowError.objects.filter(job=job).order_by("row_number", "id")
        if errors_path is not None:
            with errors_path.open("w", encoding="utf-8-sig", newline="") as handle:
                CsvWriter(handle).writerows(importing.rejected_rows(job, ["row", "errors"]))
            self.stdout.write(f"Rejected rows written to {errors_path}.")
        else:
            for error in rejected.iterator():
                self.stdout.write(
                    f"  row {error.row_number}: {importing.format_errors(error.errors)}"
                )
