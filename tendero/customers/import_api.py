"""Import and export: REST endpoints.

POST /imports uploads a file (multipart) and records an import job with the
column mapping recognised from its headers (or the one sent); it runs at once as
a dry run (`dry_run=true`, the default) or for real. GET /imports/{id} shows
progress and counts, GET /imports/{id}/errors the rejected rows, POST
/imports/{id}/run imports a previewed job for real. GET /customers/export gives
the filtered list as CSV or XLSX.
"""

import json
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from tendero.accounts.api import request_user
from tendero.core.errors import InvalidData, NotAllowed
from tendero.core.schemas import (
    ErrorOut,
    Moment,
    ObjectId,
    Page,
    PageParams,
    QueryParams,
    TagName,
    Text,
    paginate,
)
from tendero.core.services import MAX_ID
from tendero.customers import exporting, importing
from tendero.customers.models import (
    Customer,
    CustomerKind,
    ImportJob,
    ImportKind,
    ImportRowError,
    LifecycleStage,
    RelationshipLevel,
)
from tendero.customers.tasks import run_import_job

router = Router(tags=["Import and export"])

ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str
    original_name: str
    file_format: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: dict[str, str] = Field(description='Header -> field ("": ignored).')
    unknown_columns: list[str]
    dry_run: bool
    total_rows: int
    processed_rows: int
    percent_done: int
    created_count: int
    updated_count: int
    unchanged_count: int
    error_count: int
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    runner_pid: int | None = Field(description="The process that runs (or ran) the import.")
    runner_host: str = Field(description="The host of that process.")
    runner_started_at: datetime | None = Field(description="When that process started.")

    @staticmethod
    def resolve_unknown_columns(obj: ImportJob) -> list[str]:
        return importing.unknown_columns(obj)

    @staticmethod
    def resolve_message(obj: ImportJob) -> str:
        return obj.outcome_message


class ImportRowErrorOut(Schema):
    row_number: int = Field(description="As a spreadsheet shows it: the header is row 1.")
    errors: dict[str, list[str]]
    values: dict[str, str]


class ImportRowErrorPage(Page):
    items: list[ImportRowErrorOut]


def _require_import(request: HttpRequest) -> None:
    user = request_user(request)
    if not (user.has_perm("customers.import_data") and user.has_perm("customers.view_importjob")):
        raise NotAllowed(_("You do not have permission to import data."))


def _get_job(request: HttpRequest, job_id: int) -> ImportJob:
    _require_import(request)
    job = ImportJob.objects.filter(pk=job_id).first() if 1 <= job_id <= MAX_ID else None
    if job is None:
        raise HttpError(404, _("No such import."))
    # One left running by a process that has ended is failed, and says why.
    return importing.fail_if_abandoned(job)


@router.post(
    "/imports",
    response={201: ImportJobOut, **ERRORS},
    summary="Upload a file to import",
    description="Multipart form: `file` (CSV or XLSX), `kind` (customers, contacts, facts or "
    "purchases), optional `mapping` (a JSON object header -> field; headers left out keep "
    'the recognised field, "" ignores a column) and `dry_run` (default true: validate '
    "and report only). Answers with the job, already run in tests; poll "
    "GET /imports/{id} for progress.",
)
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[ImportKind],
    mapping: Form[str] = "",
    dry_run: Form[bool] = True,
) -> Status:
    _require_import(request)
    user = request_user(request)
    size = file.size or 0
    if size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise InvalidData(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES),
            },
            {"file": [_("Too large.")]},
        )
    overrides: dict[str, str] = {}
    if mapping:
        try:
            parsed = json.loads(mapping)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
        ):
            raise InvalidData(
                _("Please correct the errors below."),
                {"mapping": [_("A JSON object of header: field.")]},
            )
        overrides = parsed
    name = file.name or "upload.csv"
    path = importing.store_upload(file.chunks(), name)
    try:
        job = importing.create_job(user, kind, path, name, overrides=overrides)
        importing.start_run(user, job, dry_run=dry_run)
    except Exception:
        path.unlink(missing_ok=True)
        ImportJob.objects.filter(stored_path=str(path)).delete()
        raise
    run_import_job(job.pk, user.pk)
    job.refresh_from_db()
    return Status(201, job)


@router.get("/imports/{job_id}", response={200: ImportJobOut, **ERRORS}, summary="An import")
def get_import(request: HttpRequest, job_id: int) -> ImportJob:
    return _get_job(request, job_id)


@router.get(
    "/imports/{job_id}/errors",
    response={200: ImportRowErrorPage, **ERRORS},
    summary="The rows an import rejected, and why",
)
def import_errors(request: HttpRequest, job_id: int, params: Query[PageParams]) -> dict[str, Any]:
    job = _get_job(request, job_id)
    return paginate(request, ImportRowError.objects.filter(job=job), params)


@router.post(
    "/imports/{job_id}/run",
    response={202: ImportJobOut, **ERRORS},
    summary="Import a previewed job for real",
)
def run_import(request: HttpRequest, job_id: int) -> Status:
    job = _get_job(request, job_id)
    user = request_user(request)
    importing.start_run(user, job, dry_run=False)
    run_import_job(job.pk, user.pk)
    job.refresh_from_db()
    return Status(202, job)


class ExportParams(QueryParams):
    format: Literal["csv", "xlsx"] = "csv"
    q: Text | None = Field(None, max_length=200, description="Name, tax id or exact email.")
    kind: CustomerKind | None = None
    lifecycle_stage: LifecycleStage | None = None
    relationship_level: RelationshipLevel | None = None
    account_executive: ObjectId | None = Field(None, description="A user id.")
    tag: TagName | None = Field(None, description="A tag name.")
    country: Text | None = Field(None, max_length=2, description="ISO 3166 code, e.g. ES.")
    created_after: Moment | None = None
    created_before: Moment | None = None


@router.get(
    "/customers/export",
    response={200: None, 403: ErrorOut, 422: ErrorOut},
    summary="Export customers as CSV or XLSX",
    description="The customers you may see, with the list's filters, as a file whose "
    "columns are the API's field names (importable again unchanged). CSV is UTF-8 with "
    'a BOM, comma-separated, lists joined with " | "; XLSX holds at most '
    f"{exporting.XLSX_MAX_ROWS:,} rows. Every export is audited.",
    openapi_extra={
        # 200 as a number, as in response=: a string key would be a second "200".
        "responses": {
            200: {
                "description": "The file.",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    },
                },
            }
        }
    },
)
def export_customers(request: HttpRequest, params: Query[ExportParams]) -> Any:
    user = request_user(request)
    filters: dict[str, Any] = {
        "q": params.q,
        "kind": params.kind,
        "lifecycle_stage": params.lifecycle_stage,
        "relationship_level": params.relationship_level,
        "account_executive_id": params.account_executive,
        "tag": params.tag,
        "country": params.country,
        "created_after": params.created_after,
        "created_before": params.created_before,
    }
    queryset = exporting.export_queryset(
        user, Customer.objects.matching(**filters).order_by("display_name", "id")
    )
    return exporting.export_response(user, queryset, filters, params.format)
