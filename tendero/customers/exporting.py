"""Exporting customer lists to CSV and XLSX.

The columns are the API's field names, so an exported file imports back
unchanged (`tendero import customers FILE` matches rows by external id, or by
`id` for customers without one). CSV is UTF-8 with a BOM (so that Excel shows
accents) and comma-separated; lists (emails, phones, tags) are joined with
" | ". Rows are streamed from the database in chunks; XLSX is written with
openpyxl's write-only mode and capped at what a sheet holds (XLSX_MAX_ROWS). Both
are written through tendero.core.spreadsheets, so no cell is a live formula (a name
such as =HYPERLINK(...) comes out quoted, '=HYPERLINK(...), and the importer takes
the quote off again).
Every export leaves an audit entry (who, which filters, how many rows) and a log
line.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.core.errors import NotAllowed
from tendero.core.spreadsheets import XlsxSheet, csv_lines, xlsx_workbook
from tendero.customers.models import Customer

logger = logging.getLogger(__name__)

EXPORT_COLUMNS = [
    "id",
    "external_id",
    "display_name",
    "preferred_name",
    "kind",
    "tax_id",
    "emails",
    "phones",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "language",
    "currency",
    "acquisition_source",
    "lifecycle_stage",
    "tags",
    "relationship_level",
    "account_executive",
    "created_at",
]
FORMATS = ("csv", "xlsx")
# An XLSX sheet has 1,048,576 rows; one is the header.
XLSX_MAX_ROWS = 1_048_575
CHUNK = 2_000
LIST_SEPARATOR = " | "


def check_can_export(by: User) -> None:
    """Raises NotAllowed unless `by` may export customer lists."""
    if not by.has_perm("customers.export_customers"):
        raise NotAllowed(_("You do not have permission to export customers."))


def export_queryset(by: User, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """`queryset` limited to what `by` may see, with what the rows show fetched in bulk."""
    check_can_export(by)
    visible = queryset & Customer.objects.visible_to(by)
    return visible.select_related("account_executive").prefetch_related("emails", "phones", "tags")


def customer_row(customer: Customer) -> list[Any]:
    executive = customer.account_executive
    return [
        customer.pk,
        customer.external_id,
        customer.display_name,
        customer.preferred_name,
        customer.kind,
        customer.tax_id,
        LIST_SEPARATOR.join(e.address for e in customer.emails.all()),
        LIST_SEPARATOR.join(p.number for p in customer.phones.all()),
        customer.street,
        customer.city,
        customer.region,
        customer.postal_code,
        str(customer.country or ""),
        customer.language,
        customer.currency,
        customer.acquisition_source,
        customer.lifecycle_stage,
        LIST_SEPARATOR.join(sorted(t.name for t in customer.tags.all())),
        customer.relationship_level,
        executive.username if executive else "",
        timezone.localtime(customer.created_at).isoformat(timespec="seconds"),
    ]


def iter_rows(queryset: QuerySet[Customer], limit: int | None = None) -> Iterator[list[Any]]:
    rows = queryset.iterator(chunk_size=CHUNK)
    for count, customer in enumerate(rows):
        if limit is not None and count >= limit:
            return
        yield customer_row(customer)


def csv_chunks(by: User, queryset: QuerySet[Customer], filters: Mapping[str, Any]) -> Iterator[str]:
    """The CSV file, piece by piece, for a streaming response; audited when finished."""
    count = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal count
        yield EXPORT_COLUMNS
        for row in iter_rows(queryset):
            count += 1
            yield row

    try:
        yield from csv_lines(rows())
    finally:
        record_export(by, "csv", filters, count)


def write_xlsx(
    by: User, queryset: QuerySet[Customer], filters: Mapping[str, Any]
) -> tuple[IO[bytes], int]:
    """The XLSX file (in a temporary file, at its start) and how many rows it has."""
    workbook = xlsx_workbook()
    sheet = XlsxSheet(workbook, _("Customers"))
    sheet.append(EXPORT_COLUMNS)
    count = 0
    for row in iter_rows(queryset, limit=XLSX_MAX_ROWS):
        sheet.append(row)
        count += 1
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    workbook.save(handle)
    handle.seek(0)
    record_export(by, "xlsx", filters, count)
    return handle, count


def record_export(by: User, file_format: str, filters: Mapping[str, Any], count: int) -> None:
    """Leave an audit entry (action "access" on customers) and a log line for an export."""
    clean_filters = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Customer),
        object_pk="export",
        object_repr=_("Customer export"),
        action=AuditEntry.Action.ACCESS,
        changes={"export": [file_format, count]},
        changes_text="",
        actor=by,
        actor_email=by.email or "",
        timestamp=timezone.now(),
        additional_data={
            "export": {"format": file_format, "filters": clean_filters, "rows": count}
        },
    )
    logger.info(
        "Customer export by %s: %s, %d rows, filters %s", by.username, file_format, count,
        clean_filters,
    )  # fmt: skip


def filename(file_format: str) -> str:
    return f"customers-{timezone.localdate().isoformat()}.{file_format}"


def export_response(
    by: User, queryset: QuerySet[Customer], filters: Mapping[str, Any], file_format: str
) -> HttpResponse | StreamingHttpResponse | FileResponse:
    """The file download of `queryset` (already scoped to `by`) for the page and
    the API alike: XLSX from a temporary file, CSV streamed as it is written."""
    name = filename(file_format)
    if file_format == "xlsx":
        handle, _count = write_xlsx(by, queryset, filters)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=name,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        csv_chunks(by, queryset, filters), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
