"""Import pages (upload, column mapping, dry-run preview, progress, rejected rows)
and the customer list's export. Views parse and authorize; the work is in
tendero.customers.importing and tendero.customers.exporting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tendero.accounts.access import signed_in_user
from tendero.accounts.models import User
from tendero.core.errors import DomainError
from tendero.core.htmx import htmx_details
from tendero.core.spreadsheets import csv_lines
from tendero.customers import exporting, import_files, importing
from tendero.customers.forms import CustomerFilterForm
from tendero.customers.models import Customer, ImportJob, ImportKind, ImportStatus
from tendero.customers.tasks import run_import_job

ERRORS_PER_PAGE = 50
JOBS_PER_PAGE = 25


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (UTF-8 or Windows-1252, comma or semicolon) or XLSX; the first row names "
            "the columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large (%(size)s); the limit is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


def _require_import(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not (user.has_perm("customers.import_data") and user.has_perm("customers.view_importjob")):
        raise PermissionDenied
    return user


def _job(request: HttpRequest, pk: int) -> ImportJob:
    """The job, checked: one left running by a process that has ended is failed."""
    _require_import(request)
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    return importing.fail_if_abandoned(job)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    """Recent imports, newest first (those left running by a process that has ended
    shown failed)."""
    _require_import(request)
    importing.fail_abandoned_jobs()
    page = Paginator(ImportJob.objects.select_related("created_by"), JOBS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "customers/imports/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def job_new(request: HttpRequest) -> HttpResponse:
    """Upload a file; the next step is the column mapping."""
    user = _require_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        path = importing.store_upload(upload.chunks(), upload.name)
        try:
            job = importing.create_job(user, form.cleaned_data["kind"], path, upload.name)
        except DomainError as exc:
            path.unlink(missing_ok=True)
            form.add_error("file", exc.message)
        else:
            return redirect("imports:map", job.pk)
    return render(request, "customers/imports/new.html", {"form": form})


def _mapping_rows(job: ImportJob) -> list[dict[str, Any]]:
    preview = importing.preview_rows(job)
    return [
        {
            "index": index,
            "header": header,
            "field": job.mapping.get(header, ""),
            "samples": [row[index] for row in preview[:3] if index < len(row)],
        }
        for index, header in enumerate(job.headers)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def job_map(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the field of each column, see the first rows, then preview or import."""
    user = _require_import(request)
    job = _job(request, pk)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED, ImportStatus.FAILED):
        return redirect("imports:detail", job.pk)
    problems: list[str] = []
    if request.method == "POST":
        mapping = {
            header: request.POST.get(f"column-{index}", "")
            for index, header in enumerate(job.headers)
        }
        try:
            importing.set_mapping(user, job, mapping)
            importing.start_run(user, job, dry_run=request.POST.get("action") != "import")
        except DomainError as exc:
            problems = exc.field_errors.get("mapping") or [str(exc.message)]
        else:
            run_import_job(job.pk, user.pk)
            return redirect("imports:detail", job.pk)
    context = {
        "job": job,
        "columns": _mapping_rows(job),
        "fields": list(import_files.FIELD_LABELS[job.kind].items()),
        "preview": importing.preview_rows(job),
        "problems": problems or import_files.mapping_problems(job.kind, job.mapping),
        "without_external_id": job.kind == ImportKind.CUSTOMERS
        and "external_id" not in job.mapping.values(),
    }
    return render(request, "customers/imports/map.html", context)


@login_required
@require_POST
def job_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Import for real a job that was previewed."""
    user = _require_import(request)
    job = _job(request, pk)
    try:
        importing.start_run(user, job, dry_run=False)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        run_import_job(job.pk, user.pk)
    return redirect("imports:detail", job.pk)


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress while it runs (htmx polls the progress fragment), then the outcome and
    the rejected rows."""
    job = _job(request, pk)
    running = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    errors = Paginator(job.row_errors.all(), ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "job": job,
        "running": running,
        "errors": errors,
        "headers": job.headers,
        "unknown_columns": importing.unknown_columns(job),
        "fields": import_files.FIELD_LABELS[job.kind],
    }
    if htmx_details(request) and request.GET.get("fragment") == "progress":
        if not running:
            # Finished: reload the whole page so the outcome and the rejected rows show.
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "customers/imports/_progress.html", context)
    return render(request, "customers/imports/detail.html", context)


@login_required
def job_errors_csv(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The rejected rows as CSV: row number, reasons, then the row as it was read."""
    job = _job(request, pk)

    response = StreamingHttpResponse(
        csv_lines(importing.rejected_rows(job, [_("row"), _("errors")])),
        content_type="text/csv; charset=utf-8",
    )
    name = Path(job.original_name).stem or "import"
    response["Content-Disposition"] = f'attachment; filename="rejected-{job.pk}-{_ascii(name)}.csv"'
    return response


def _ascii(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in text)[:60]


@login_required
def export_customers(request: HttpRequest) -> HttpResponseBase:
    """The customer list as CSV or XLSX: the list page's filters, what the user may see."""
    user = signed_in_user(request)
    if not user.has_perm("customers.export_customers"):
        raise PermissionDenied
    file_format = request.GET.get("format", "csv")
    if file_format not in exporting.FORMATS:
        file_format = "csv"
    form = CustomerFilterForm(
        request.GET, show_account_executive=user.has_perm("customers.view_all_customers")
    )
    queryset = exporting.export_queryset(user, form.filter(Customer.objects.all()))
    filters = {name: form.value(name) for name in form.fields}
    return exporting.export_response(user, queryset, filters, file_format)
