"""Importing customers, contacts, personal facts and purchases from CSV and XLSX files.

The flow: `create_job` stores what the file looks like (format, encoding,
delimiter, headers) and a column mapping recognised from the headers; the
mapping can be corrected (`set_mapping`); `run_import` then reads the file as a
stream, validates every row with the same rules as the services
(`services.clean_customer`, `services.clean_contact`,
`knowledge.clean_fact_data`) and writes the good rows in batches, each batch in
one transaction. A bad row never stops an import: it becomes an ImportRowError
(row numbers as the spreadsheet shows them: the header is row 1) and nothing of
it is written. A dry run does everything but write.

Idempotency: customers are matched by `external_id` (or, in a file exported by
Tendero, by `id`); a matched customer is updated only where the file differs,
so importing the same file twice changes nothing the second time. A blank cell
leaves the field as it is. Rows without an external id are created every time.
Contacts are matched within their customer by email (else by name); facts by
kind, text, related name and date; purchases by their reference (`external_id`:
the same reference with the same customer, moment, amount and currency is left
as it is, product and quantity included; with a different customer, moment,
amount or currency the row is rejected).
"""

from __future__ import annotations

import functools
import itertools
import logging
import multiprocessing
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.core import processes
from tendero.core.errors import InvalidData, NotAllowed
from tendero.core.services import require
from tendero.customers.import_batches import (
    ImportRun,
    Outcome,
    contact_batch,
    fact_batch,
    purchase_batch,
)
from tendero.customers.import_customer_rows import (
    customer_batch,
    customers_ahead,
)
from tendero.customers.import_files import (
    FileShape,
    UnusableFile,
    count_data_rows,
    field_name,
    inspect_file,
    iter_data_rows,
    mapping_problems,
    normalise_header,
    recognise_headers,
)
from tendero.customers.models import (
    ImportJob,
    ImportKind,
    ImportRowError,
    ImportStatus,
)
from tendero.customers.search import index_customers

logger = logging.getLogger(__name__)

# Rows written in one transaction.
BATCH_SIZE = 5_000
PREVIEW_ROWS = 10
# Customer rows are cleaned in worker processes from this many rows in a file.
PARALLEL_MIN_ROWS = 20_000
WORKERS = 0  # 0: one per CPU


def _check_can_import(by: User) -> None:
    if not (by.has_perm("customers.import_data") and by.has_perm("customers.view_importjob")):
        raise NotAllowed(_("You do not have permission to import data."))


def create_job(
    by: User,
    kind: str,
    path: Path,
    original_name: str,
    *,
    overrides: Mapping[str, str] | None = None,
    dry_run: bool = False,
    encoding: str = "",
    delimiter: str = "",
) -> ImportJob:
    """Record an import of the file at `path`: its shape and the mapping recognised from
    its headers, corrected by `overrides` (header -> field).

    Raises NotAllowed, UnusableFile (unknown format, no header, unknown field,
    a header in `overrides` that the file does not have).
    """
    _check_can_import(by)
    if kind not in ImportKind.values:
        raise UnusableFile(_("Unknown kind of import “%(kind)s”.") % {"kind": kind})
    shape = inspect_file(path, original_name, encoding=encoding, delimiter=delimiter)
    mapping = recognise_headers(shape.headers, kind)
    for header, name in (overrides or {}).items():
        if header not in mapping:
            matches = [h for h in mapping if normalise_header(h) == normalise_header(header)]
            if not matches:
                raise UnusableFile(
                    _("The file has no column “%(header)s”; its columns are: %(headers)s.")
                    % {"header": header, "headers": ", ".join(shape.headers)}
                )
            header = matches[0]
        mapping[header] = field_name(kind, name)
    return ImportJob.objects.create(
        kind=kind,
        status=ImportStatus.UPLOADED,
        original_name=original_name[:255] or path.name[:255],
        stored_path=str(path),
        file_format=shape.file_format,
        encoding=shape.encoding,
        delimiter=shape.delimiter,
        headers=shape.headers,
        mapping=mapping,
        dry_run=dry_run,
        created_by=by,
    )


def store_upload(chunks: Iterator[bytes], original_name: str) -> Path:
    """Save an uploaded file under UPLOADS_DIR with a random name (never served)."""
    directory = Path(settings.UPLOADS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if original_name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    path = directory / f"import-{secrets.token_hex(16)}{suffix}"
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return path


def set_mapping(by: User, job: ImportJob, mapping: Mapping[str, str]) -> ImportJob:
    """Replace the job's column mapping (header -> field, \"\" to ignore a column).

    Raises NotAllowed, UnusableFile (unknown header or field, unusable mapping),
    InvalidData if the job is already running or done.
    """
    _check_can_import(by)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
        raise InvalidData(_("This import has already run."))
    clean = {header: "" for header in job.headers}
    for header, name in mapping.items():
        if header not in clean:
            raise UnusableFile(_("The file has no column “%(header)s”.") % {"header": header})
        clean[header] = field_name(job.kind, name)
    problems = mapping_problems(job.kind, clean)
    if problems:
        raise UnusableFile(" ".join(problems), {"mapping": problems})
    job.mapping = clean
    job.save(update_fields=["mapping"])
    return job


def job_shape(job: ImportJob) -> FileShape:
    return FileShape(job.file_format, job.encoding, job.delimiter, list(job.headers))


def preview_rows(job: ImportJob, limit: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first rows of the file, one cell per header, for the mapping step."""
    width = len(job.headers)
    rows = itertools.islice(iter_data_rows(Path(job.stored_path), job_shape(job)), limit)
    return [(cells + [""] * width)[:width] for _number, cells in rows]


def unknown_columns(job: ImportJob) -> list[str]:
    return [header for header in job.headers if header and not job.mapping.get(header)]


def run_import(
    job: ImportJob,
    by: User,
    progress: Callable[[ImportJob], None] | None = None,
    *,
    parallel: bool = False,
) -> ImportJob:
    """Read the job's file and import (or, for a dry run, only validate) every row,
    batch by batch; record every rejected row. Counters and status are saved on the
    job after each batch so that pages can show progress.

    `parallel`: a large customers file's rows are cleaned in forked worker processes
    while this one writes (for the command line: forking a threaded server or task
    worker is best avoided). The outcome is the same either way.

    Raises NotAllowed, UnusableFile (the mapping is not usable); any other failure
    marks the job failed (with a message) and is raised again. Batches written before
    a failure stay written; running the same file again completes the import.
    """
    _check_can_import(by)
    problems = mapping_problems(job.kind, job.mapping)
    if problems:
        raise UnusableFile(" ".join(problems), {"mapping": problems})
    needs: tuple[str, ...] = {
        "customers": ("customers.add_customer", "customers.change_customer")
    }.get(job.kind, ("customers.add_contact", "customers.change_contact"))
    if job.kind == ImportKind.FACTS:
        needs = ("knowledge.add_personalfact",)
    if job.kind == ImportKind.PURCHASES:
        needs = ("contracts.add_purchase",)
    for permission in needs:
        require(by, permission)
    fail_abandoned_jobs()
    path = Path(job.stored_path)
    shape = job_shape(job)
    ImportRowError.objects.filter(job=job).delete()
    job.total_rows = job.processed_rows = job.created_count = job.updated_count = 0
    job.unchanged_count = job.error_count = 0
    job.status = ImportStatus.RUNNING
    job.started_at = timezone.now()
    job.finished_at = job.abandoned_at = None
    job.message = ""
    runner = processes.this_process()
    job.runner_pid, job.runner_host = runner.pid, runner.host
    job.runner_started_at = runner.started_at
    job.save()
    run = ImportRun(job, by, BATCH_SIZE)
    write_batch = {
        ImportKind.CUSTOMERS: customer_batch,
        ImportKind.CONTACTS: contact_batch,
        ImportKind.FACTS: fact_batch,
        ImportKind.PURCHASES: purchase_batch,
    }[ImportKind(job.kind)]
    first_row = 2
    try:
        job.total_rows = count_data_rows(path, shape)
        job.save(update_fields=["total_rows"])
        run.pool = _worker_pool(job) if parallel else None
        rows = iter_data_rows(path, shape)
        for batch, write in _batches(run, rows, write_batch):
            first_row = batch[0][0]
            with transaction.atomic():
                errors: list[ImportRowError] = []
                touched = write(errors)
                ImportRowError.objects.bulk_create(errors)
                run.outcome.processed += len(batch)
                _save_progress(job, run.outcome)
            if touched and not run.dry_run:
                _index_for_search(touched)
            if progress is not None:
                progress(job)
    except Exception as exc:
        logger.exception("Import %s failed", job.pk)
        job.status = ImportStatus.FAILED
        job.message = (
            _(
                "The import stopped in the rows from %(row)d on (rows before them were "
                "imported; running the same file again completes it): %(error)s"
            )
            % {"row": first_row, "error": exc}
        )[:500]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        raise
    finally:
        if run.pool is not None:
            run.pool.shutdown(cancel_futures=True)
            run.pool = None
    job.status = ImportStatus.PREVIEWED if run.dry_run else ImportStatus.DONE
    job.finished_at = timezone.now()
    if (
        job.kind == ImportKind.CUSTOMERS
        and job.mapping
        and "external_id" not in job.mapping.values()
    ):
        job.message = _(
            "No column is an external id: importing this file again would create "
            "these customers again."
        )
    elif (
        job.kind == ImportKind.PURCHASES
        and job.mapping
        and "external_id" not in job.mapping.values()
    ):
        job.message = _(
            "No column is a reference (ticket, invoice or order number): importing this "
            "file again would record these purchases again."
        )
    job.save(update_fields=["status", "finished_at", "message"])
    logger.info(
        "Import %s (%s, %s) by %s: %d created, %d updated, %d unchanged, %d rejected%s",
        job.pk,
        job.kind,
        job.original_name,
        by.username,
        job.created_count,
        job.updated_count,
        job.unchanged_count,
        job.error_count,
        " (dry run)" if run.dry_run else "",
    )
    return job


def _batches(
    run: ImportRun,
    rows: Iterator[tuple[int, list[str]]],
    write_batch: Callable[
        [ImportRun, list[tuple[int, list[str]]], list[ImportRowError]], list[int]
    ],
) -> Iterator[tuple[list[tuple[int, list[str]]], Callable[[list[ImportRowError]], list[int]]]]:
    """(batch, function writing it given the list for its rejected rows) for every batch."""
    if run.pool is not None and write_batch is customer_batch and "id" not in run.columns:
        yield from customers_ahead(run, rows)
        return
    while batch := list(itertools.islice(rows, run.batch_size)):
        yield batch, functools.partial(write_batch, run, batch)


def _worker_pool(job: ImportJob) -> Executor | None:
    """Processes to clean a large customers file's rows in, or None to clean them here.

    They are forked (they need no setup: about 0.1 s for two, where spawned ones take
    seconds, each setting Django up) once this process's database connections are
    closed (reconnecting takes milliseconds), so that none of them holds a connection
    of this one: a worker outliving this process would keep its session open, in its
    transaction, with its locks. And they end when this process ends, even killed
    (processes.die_with_parent). A connection in a transaction cannot be closed:
    inside one, the rows are cleaned here.
    """
    cpus = WORKERS or os.cpu_count() or 1
    if (
        job.kind != ImportKind.CUSTOMERS
        or job.total_rows < PARALLEL_MIN_ROWS
        or (cpus < 2 and not WORKERS)
        or "fork" not in multiprocessing.get_all_start_methods()
        or any(c.in_atomic_block for c in connections.all(initialized_only=True))
    ):
        return None
    _close_connections()
    pool = ProcessPoolExecutor(
        cpus,
        mp_context=multiprocessing.get_context("fork"),
        initializer=processes.die_with_parent,
        initargs=(os.getpid(),),
    )
    # With fork, the first task forks every worker (none is forked later): now, while
    # no connection is open. The next query opens one again.
    pool.submit(int)
    return pool


def _close_connections() -> None:
    """Close this process's database connections, pooled ones included."""
    for database in connections.all(initialized_only=True):
        database.close()  # a pooled connection goes back to its pool, still open
        if database.vendor == "postgresql" and database.settings_dict["OPTIONS"].get("pool"):
            database.close_pool()  # type: ignore[attr-defined]


def _save_progress(job: ImportJob, outcome: Outcome) -> None:
    job.processed_rows = outcome.processed
    job.created_count = outcome.created
    job.updated_count = outcome.updated
    job.unchanged_count = outcome.unchanged
    job.error_count = outcome.rejected
    job.save(
        update_fields=[
            "processed_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "error_count",
        ]
    )


def _index_for_search(customer_ids: list[int]) -> None:
    index_customers(customer_ids)


def fail_if_abandoned(job: ImportJob) -> ImportJob:
    """Mark the job failed if it is recorded as running in a process of this host that
    has ended (killed, say): its page and the API then say why (`outcome_message`),
    and it can be run again. Returns the job, as it now is. A job running in a live
    process, or in one of another host (which cannot be checked from here), is left
    as it is; so is one that was changed meanwhile."""
    if job.status != ImportStatus.RUNNING or job.runner_pid is None:
        return job
    if job.runner_host != processes.host_name() or processes.is_alive(
        job.runner_pid, job.runner_started_at
    ):
        return job
    now = timezone.now()
    marked = ImportJob.objects.filter(
        pk=job.pk,
        status=ImportStatus.RUNNING,
        runner_pid=job.runner_pid,
        runner_host=job.runner_host,
        runner_started_at=job.runner_started_at,
    ).update(status=ImportStatus.FAILED, finished_at=now, abandoned_at=now)
    if not marked:
        job.refresh_from_db()
        return job
    job.status, job.finished_at, job.abandoned_at = ImportStatus.FAILED, now, now
    logger.warning(
        "Import %s was running in process %s on %s, which has ended: marked failed "
        "after %d of %d rows",
        job.pk,
        job.runner_pid,
        job.runner_host,
        job.processed_rows,
        job.total_rows,
    )
    return job


def fail_abandoned_jobs() -> int:
    """Mark failed every job recorded as running in a process of this host that has
    ended (see fail_if_abandoned); returns how many were."""
    running = ImportJob.objects.filter(
        status=ImportStatus.RUNNING, runner_host=processes.host_name()
    )
    return sum(fail_if_abandoned(job).abandoned_at is not None for job in running)


def start_run(by: User, job: ImportJob, *, dry_run: bool) -> ImportJob:
    """Queue the job to run (for real or as a dry run). Raises NotAllowed, UnusableFile,
    InvalidData if it is running or done already."""
    _check_can_import(by)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED, ImportStatus.FAILED):
        raise InvalidData(_("This import has already run."))
    problems = mapping_problems(job.kind, job.mapping)
    if problems:
        raise UnusableFile(" ".join(problems), {"mapping": problems})
    job.dry_run = dry_run
    job.status = ImportStatus.QUEUED
    job.save(update_fields=["dry_run", "status"])
    return job


def rate(job: ImportJob) -> float:
    """Rows per second so far."""
    if not job.started_at:
        return 0.0
    seconds = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
    return job.processed_rows / seconds if seconds > 0 else 0.0


def rejected_rows(job: ImportJob, leading: list[str]) -> Iterator[list[Any]]:
    """The rejected-rows report of `job`: a header (`leading`, the words for the row
    number and its errors, then the file's headers), then each rejected row with its
    number, its errors and its cells as they were read. Write it with
    tendero.core.spreadsheets (csv_lines, CsvWriter), which quotes what a spreadsheet
    would run."""
    yield [*leading, *job.headers]
    rejected = ImportRowError.objects.filter(job=job).order_by("row_number", "id")
    for error in rejected.iterator(chunk_size=2000):
        yield [
            error.row_number,
            format_errors(error.errors),
            *(error.values.get(h, "") for h in job.headers),
        ]


def format_errors(errors: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
