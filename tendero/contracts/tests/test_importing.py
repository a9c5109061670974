"""Importing purchases: Spanish and English headers, per-row errors, idempotent by
reference, scoped to the customers the importing user may see, dry runs, the
command and the upload page."""

from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.conftest import login
from tendero.contracts.models import Purchase
from tendero.core.errors import NotAllowed
from tendero.customers import import_files, importing
from tendero.customers.models import ImportJob, ImportRowError

SPANISH = (
    "Cliente;Fecha;Importe;Moneda;Referencia;Descripción\n"
    "C1;05/03/2024;1.234,56;EUR;F-1;Caldera\n"
    "C1;2024-03-06 10:30;-20,00;;F-2;Devolución parcial\n"
    "C2;2024-03-07;15;USD;F-3;Filtros\n"
    "NOPE;2024-03-07;15;EUR;F-4;Cliente desconocido\n"
    "C1;2024-13-45;15;EUR;F-5;Fecha mala\n"
    "C1;2024-03-08;quince;EUR;F-6;Importe malo\n"
    "C1;2024-03-08;15;EUR;F-1;Referencia repetida\n"
)


def _run(user: User, path: Path, **options: Any) -> ImportJob:
    job = importing.create_job(user, "purchases", path, path.name, **options)
    return importing.run_import(job, user)


@pytest.fixture
def customers(make_customer, sales, other_sales):
    return (
        make_customer(display_name="Ana", external_id="C1", account_executive=sales),
        make_customer(display_name="Berta", external_id="C2", account_executive=other_sales),
    )


@pytest.fixture
def spanish_file(tmp_path: Path) -> Path:
    path = tmp_path / "compras.csv"
    path.write_text(SPANISH, encoding="utf-8")
    return path


def test_headers_in_spanish_and_english() -> None:
    spanish = ["Cliente", "Fecha", "Importe", "Moneda", "Referencia", "Descripción", "Otra"]
    english = ["Customer", "Date", "Amount", "Currency", "External id", "Description"]
    assert import_files.recognise_headers(spanish, "purchases") == {
        "Cliente": "customer_external_id", "Fecha": "occurred_at", "Importe": "amount",
        "Moneda": "currency", "Referencia": "external_id", "Descripción": "description",
        "Otra": "",
    }  # fmt: skip
    assert import_files.recognise_headers(english, "purchases") == {
        "Customer": "customer_external_id", "Date": "occurred_at", "Amount": "amount",
        "Currency": "currency", "External id": "external_id", "Description": "description",
    }  # fmt: skip


def test_good_rows_are_recorded_and_bad_rows_reported(admin_user, customers, spanish_file):
    job = _run(admin_user, spanish_file)

    assert (job.status, job.created_count, job.error_count) == ("done", 3, 4)
    boiler = Purchase.objects.get(external_id="F-1")
    assert (boiler.amount, boiler.currency, boiler.source) == (Decimal("1234.56"), "EUR", "import")
    assert boiler.customer == customers[0]
    refund = Purchase.objects.get(external_id="F-2")
    assert refund.amount == Decimal("-20.00") and refund.currency == "EUR"
    errors = {e.row_number: set(e.errors) for e in ImportRowError.objects.filter(job=job)}
    assert errors == {
        5: {"customer"}, 6: {"occurred_at"}, 7: {"amount"}, 8: {"external_id"},
    }  # fmt: skip
    assert (
        AuditEntry.objects.for_customer(customers[0].pk)
        .filter(content_type__model="purchase")
        .count()
        == 2
    )


def test_importing_again_changes_nothing(admin_user, customers, spanish_file, tmp_path):
    _run(admin_user, spanish_file)
    again = _run(admin_user, spanish_file)
    assert (again.created_count, again.unchanged_count, again.error_count) == (0, 3, 4)
    assert Purchase.objects.count() == 3

    changed = tmp_path / "cambiado.csv"
    changed.write_text("Cliente,Fecha,Importe,Referencia\nC1,2024-03-05,99,F-1\n", "utf-8")
    job = _run(admin_user, changed)
    assert (job.created_count, job.error_count) == (0, 1)
    assert Purchase.objects.get(external_id="F-1").amount == Decimal("1234.56")


def test_a_dry_run_writes_nothing(admin_user, customers, spanish_file):
    job = _run(admin_user, spanish_file, dry_run=True)
    assert (job.status, job.created_count, job.error_count) == ("previewed", 3, 4)
    assert not Purchase.objects.exists()


def test_a_sales_rep_imports_only_into_their_portfolio(sales, customers, spanish_file):
    sales.user_permissions.add(
        *Permission.objects.filter(codename__in=["import_data", "view_importjob"])
    )
    rep = User.objects.get(pk=sales.pk)
    job = _run(rep, spanish_file)
    assert job.created_count == 2  # C2 is someone else's customer: "no such customer"
    assert not Purchase.objects.filter(customer=customers[1]).exists()


def test_who_may_not_import_cannot(sales, spanish_file):
    with pytest.raises(NotAllowed):
        importing.create_job(sales, "purchases", spanish_file, "compras.csv")


def test_without_a_reference_column_the_job_warns(admin_user, customers, tmp_path):
    path = tmp_path / "sin_ref.csv"
    path.write_text("Customer,Date,Amount\nC1,2024-01-02,10\n", "utf-8")
    job = _run(admin_user, path)
    assert job.created_count == 1 and "reference" in job.message


def test_the_command_imports_purchases(admin_user, customers, spanish_file):
    out = StringIO()
    call_command(
        "import", "purchases", str(spanish_file), "--user", admin_user.username, stdout=out
    )
    assert Purchase.objects.count() == 3


def test_the_upload_page_offers_purchases(client, admin_user):
    html = login(client, admin_user).get(reverse("imports:new")).text
    assert 'value="purchases"' in html


def test_through_the_pages_upload_map_preview_import(
    client, admin_user, customers, spanish_file, settings, tmp_path
):
    settings.UPLOADS_DIR = tmp_path / "uploads"
    login(client, admin_user)
    with spanish_file.open("rb") as handle:
        response = client.post(reverse("imports:new"), {"kind": "purchases", "file": handle})
    job = ImportJob.objects.latest("id")
    assert response.status_code == 302 and job.kind == "purchases"

    html = client.get(reverse("imports:map", args=[job.pk])).text
    assert '<option value="amount" selected>' in html and "Caldera" in html
    data = {f"column-{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    client.post(reverse("imports:map", args=[job.pk]), {**data, "action": "preview"})
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("previewed", 3, 4)
    assert not Purchase.objects.exists()

    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and Purchase.objects.count() == 3


# Products and quantities

WITH_PRODUCTS = (
    "Nº factura;Cliente;Fecha;Artículo;Unidades;Precio;Importe\n"
    "P-1;C1;2024-03-05;Router Wi-Fi 6;2;29,90;59,80\n"
    "P-2;C1;2024-03-06;Fibra 600;1,5;35,00;52,50\n"
    "P-3;C1;2024-03-07;Bono 5 GB;;5,00;5,00\n"
    "P-4;C1;2024-03-08;Router Wi-Fi 6;-1;29,90;-29,90\n"
    "P-5;C1;2024-03-09;;;;12,00\n"
    "P-6;C1;2024-03-10;Funda;muchas;9,95;19,90\n"
    "P-7;C1;2024-03-10;Funda;1.000;9,95;9,95\n"
    "P-8;C1;2024-03-10;Funda;-2;9,95;19,90\n"
    "P-9;C1;2024-03-10;Funda;3;9,95;-29,85\n"
)


@pytest.fixture
def products_file(tmp_path: Path) -> Path:
    path = tmp_path / "ventas.csv"
    path.write_text(WITH_PRODUCTS, encoding="utf-8")
    return path


def test_product_and_quantity_headers_in_spanish_and_english() -> None:
    spanish = ["Nº factura", "Cliente", "Fecha", "Artículo", "Unidades", "Precio", "Importe"]
    assert import_files.recognise_headers(spanish, "purchases") == {
        "Nº factura": "external_id", "Cliente": "customer_external_id", "Fecha": "occurred_at",
        "Artículo": "product", "Unidades": "quantity",
        "Precio": "",  # a unit price beside the amount: not the amount
        "Importe": "amount",
    }  # fmt: skip
    other = ["Cliente", "Fecha", "Producto", "Cantidad", "Total"]
    assert import_files.recognise_headers(other, "purchases")["Producto"] == "product"
    assert import_files.recognise_headers(other, "purchases")["Cantidad"] == "quantity"
    english = ["Customer", "Date", "SKU", "Qty", "Price"]
    assert import_files.recognise_headers(english, "purchases") == {
        "Customer": "customer_external_id", "Date": "occurred_at", "SKU": "product",
        "Qty": "quantity", "Price": "amount",  # the only money column: the amount
    }  # fmt: skip
    assert import_files.recognise_headers(["Product", "Units", "Amount"], "purchases") == {
        "Product": "product", "Units": "quantity", "Amount": "amount",
    }  # fmt: skip


def test_products_and_units_are_imported_and_bad_quantities_rejected_with_reasons(
    admin_user, customers, products_file
):
    job = _run(admin_user, products_file)

    assert (job.status, job.created_count, job.error_count) == ("done", 5, 4)
    rows = {
        p.external_id: (p.product, p.quantity, p.amount)
        for p in Purchase.objects.filter(customer=customers[0])
    }
    assert rows == {
        "P-1": ("Router Wi-Fi 6", Decimal("2"), Decimal("59.80")),
        "P-2": ("Fibra 600", Decimal("1.5"), Decimal("52.50")),
        "P-3": ("Bono 5 GB", Decimal("1"), Decimal("5.00")),  # no quantity: one unit
        "P-4": ("Router Wi-Fi 6", Decimal("-1"), Decimal("-29.90")),  # a unit returned
        "P-5": ("", Decimal("1"), Decimal("12.00")),
    }
    errors = {e.row_number: e.errors for e in ImportRowError.objects.filter(job=job)}
    assert set(errors) == {7, 8, 9, 10}
    assert all(set(found) == {"quantity"} for found in errors.values())
    assert "Enter a quantity" in errors[7]["quantity"][0]
    assert "can be read two ways" in errors[8]["quantity"][0]
    assert "A sale sells something" in errors[9]["quantity"][0]
    assert "A refund takes units back" in errors[10]["quantity"][0]
    entry = AuditEntry.objects.get_for_object(Purchase.objects.get(external_id="P-2")).get()
    assert entry.changes["product"] == ["None", "Fibra 600"]
    assert entry.changes["quantity"] == ["None", "1.500"]


def test_importing_products_again_changes_nothing(admin_user, customers, products_file):
    _run(admin_user, products_file)
    before = list(Purchase.objects.order_by("pk").values())
    audit = AuditEntry.objects.count()

    again = _run(admin_user, products_file)

    assert (again.created_count, again.unchanged_count, again.error_count) == (0, 5, 4)
    assert list(Purchase.objects.order_by("pk").values()) == before
    assert AuditEntry.objects.count() == audit


def test_a_spreadsheets_number_cells_are_read_as_numbers(admin_user, customers, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Customer", "Date", "Product", "Quantity", "Amount", "Reference"])
    sheet.append(["C1", "2024-03-05", "Cable (m)", 1.125, 9.0, "X-1"])  # not 1125 metres
    sheet.append(["C1", "2024-03-05", "Cable (m)", "1.000", 9.0, "X-2"])  # typed text
    path = tmp_path / "ventas.xlsx"
    workbook.save(path)

    job = _run(admin_user, path)

    assert (job.created_count, job.error_count) == (1, 1)
    assert Purchase.objects.get(external_id="X-1").quantity == Decimal("1.125")
    (error,) = ImportRowError.objects.filter(job=job)
    assert error.row_number == 3 and "quantity" in error.errors
