"""Exporting customer lists: the page, the API and the command; permissions, filters,
formats, the audit entry, and the round trip through the importer."""

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tendero.accounts.models import User
from tendero.accounts.services import create_api_token
from tendero.audit.models import AuditEntry
from tendero.conftest import login
from tendero.customers.models import Customer

API = "/api/v1"


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _csv_rows(response: Any) -> list[dict[str, str]]:
    content = _content(response)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def customers(make_customer: Callable[..., Customer], sales: User, other_sales: User) -> dict:
    return {
        "jose": make_customer(
            display_name="José Pérez Núñez",
            external_id="E-1",
            emails=["jose@example.es", "jperez@example.es"],
            phones=["+34612345678"],
            country="ES",
            tags=["VIP", "pyme"],
            account_executive=sales,
        ),
        "acme": make_customer(
            display_name="Ferretería Muñoz",
            kind="organisation",
            country="ES",
            account_executive=other_sales,
        ),
        "zoe": make_customer(display_name="Zoë Smith", country="GB", lifecycle_stage="active"),
    }


def test_csv_export_of_the_filtered_list(client: Client, manager: User, customers: dict) -> None:
    login(client, manager)

    response = client.get(reverse("imports:export_customers") + "?country=ES&format=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert sorted(r["display_name"] for r in rows) == ["Ferretería Muñoz", "José Pérez Núñez"]
    jose = next(r for r in rows if r["external_id"] == "E-1")
    assert jose["emails"] == "jose@example.es | jperez@example.es"
    assert jose["tags"] == "VIP | pyme"
    assert jose["account_executive"] == "sergio"


def test_export_takes_the_list_page_filters(client: Client, manager: User, customers: dict) -> None:
    login(client, manager)

    response = client.get(reverse("imports:export_customers") + "?stage=active&q=Zo")

    assert [r["display_name"] for r in _csv_rows(response)] == ["Zoë Smith"]


def test_xlsx_export(client: Client, manager: User, customers: dict) -> None:
    login(client, manager)

    response = client.get(reverse("imports:export_customers") + "?format=xlsx")

    workbook = openpyxl.load_workbook(io.BytesIO(_content(response)))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "external_id", "display_name")
    assert {r[2] for r in rows[1:]} == {"José Pérez Núñez", "Ferretería Muñoz", "Zoë Smith"}


def test_export_is_audited(client: Client, manager: User, customers: dict) -> None:
    login(client, manager)

    _csv_rows(client.get(reverse("imports:export_customers") + "?country=ES"))

    entry = AuditEntry.objects.get(action=AuditEntry.Action.ACCESS)
    assert entry.actor == manager
    assert entry.additional_data["export"] == {
        "format": "csv",
        "filters": {"country": "ES"},
        "rows": 2,
    }


def test_reader_cannot_export(client: Client, reader: User, customers: dict) -> None:
    login(client, reader)

    assert client.get(reverse("imports:export_customers")).status_code == 403
    response = Client(headers={"Authorization": f"Bearer {create_api_token(reader, 't').raw}"}).get(
        f"{API}/customers/export"
    )
    assert response.status_code == 403


def test_sales_rep_exports_only_their_portfolio(
    client: Client, sales: User, customers: dict
) -> None:
    sales.user_permissions.add(Permission.objects.get(codename="export_customers"))
    sales = User.objects.get(pk=sales.pk)
    login(client, sales)

    rows = _csv_rows(client.get(reverse("imports:export_customers")))
    api_rows = _csv_rows(
        Client(headers={"Authorization": f"Bearer {create_api_token(sales, 't').raw}"}).get(
            f"{API}/customers/export"
        )
    )

    assert [r["display_name"] for r in rows] == ["José Pérez Núñez"]
    assert [r["display_name"] for r in api_rows] == ["José Pérez Núñez"]


def test_export_links_on_the_list_page(client: Client, manager: User, reader: User) -> None:
    login(client, manager)
    html = client.get(reverse("customers:list") + "?country=ES").content.decode()
    assert reverse("imports:export_customers") + "?country=ES&amp;format=xlsx" in html

    login(client, reader)
    assert (
        reverse("imports:export_customers")
        not in client.get(reverse("customers:list")).content.decode()
    )


def test_api_export_with_filters(manager: User, customers: dict) -> None:
    client = Client(headers={"Authorization": f"Bearer {create_api_token(manager, 't').raw}"})

    rows = _csv_rows(client.get(f"{API}/customers/export?country=GB"))
    xlsx = client.get(f"{API}/customers/export?format=xlsx&kind=organisation")
    bad = client.get(f"{API}/customers/export?format=pdf")

    assert [r["display_name"] for r in rows] == ["Zoë Smith"]
    sheet = openpyxl.load_workbook(io.BytesIO(_content(xlsx))).worksheets[0]
    assert [r[2] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["Ferretería Muñoz"]
    assert bad.status_code == 422


def test_export_then_import_changes_nothing(
    client: Client, admin_user: User, customers: dict, tmp_path: Path
) -> None:
    login(client, admin_user)
    for file_format in ("csv", "xlsx"):
        response = client.get(reverse("imports:export_customers") + f"?format={file_format}")
        path = tmp_path / f"export.{file_format}"
        path.write_bytes(_content(response))
        audit = AuditEntry.objects.exclude(action=AuditEntry.Action.ACCESS).count()
        versions = dict(Customer.objects.values_list("pk", "version"))
        out = io.StringIO()

        call_command(
            "import", "customers", str(path), "--user", admin_user.username, stdout=out,
            stderr=io.StringIO(),
        )  # fmt: skip

        assert "0 created, 0 updated, 3 unchanged, 0 rejected" in out.getvalue()
        assert AuditEntry.objects.exclude(action=AuditEntry.Action.ACCESS).count() == audit
        assert dict(Customer.objects.values_list("pk", "version")) == versions


def test_export_command_writes_a_file(admin_user: User, customers: dict, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"

    call_command(
        "export", "customers", "--output", str(target), "--country", "ES", stderr=io.StringIO()
    )

    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2


def test_export_queries_do_not_grow_with_rows(
    client: Client,
    manager: User,
    make_customer: Callable[..., Customer],
    django_assert_max_num_queries,
) -> None:
    for n in range(30):
        make_customer(display_name=f"Cliente {n}", emails=[f"c{n}@example.es"], tags=["t"])
    login(client, manager)

    with django_assert_max_num_queries(15):
        _csv_rows(client.get(reverse("imports:export_customers")))
