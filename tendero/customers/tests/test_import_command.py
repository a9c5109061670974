"""`tendero import`: the command line import, its report, exit status and idempotency."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.customers.models import Customer, ImportJob, ImportRowError

FILES = Path(__file__).parent / "files"
SPANISH = FILES / "clientes_es_cp1252.csv"
ENGLISH = FILES / "customers_en_utf8_bom.csv"


def _import(*args: str, user: User) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import", *args, "--user", user.username, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_semicolon_windows_1252_file_imports_good_rows_and_reports_bad_ones(
    admin_user: User,
) -> None:
    out, err = _import("customers", str(SPANISH), user=admin_user)

    assert "4 created, 0 updated, 0 unchanged, 4 rejected" in out
    jose = Customer.objects.get(external_id="C-001")
    assert jose.display_name == "José Pérez Núñez"
    assert str(jose.country) == "ES"
    assert [e.address for e in jose.emails.all()] == ["jose.perez@example.es"]
    assert [p.number for p in jose.phones.all()] == ["+34612345678"]
    assert sorted(t.name for t in jose.tags.all()) == ["VIP", "pyme"]
    assert Customer.objects.get(external_id="C-002").kind == "organisation"
    assert str(Customer.objects.get(external_id="C-006").country) == "MX"
    assert Customer.objects.get(external_id="C-007").city == "Valparaíso"
    errors = {e.row_number: e.errors for e in ImportRowError.objects.all()}
    assert set(errors) == {4, 5, 6, 7}
    assert "emails" in errors[4]
    assert "country" in errors[5]
    assert "display_name" in errors[6]
    assert "external_id" in errors[7]
    assert "row 5: country" in out
    assert ImportRowError.objects.get(row_number=6).values["Correo electrónico"] == (
        "sin.nombre@example.com"
    )
    assert "rows/s" in err
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, actor=admin_user).count() >= 4


def test_importing_the_same_file_again_changes_nothing(admin_user: User) -> None:
    _import("customers", str(SPANISH), user=admin_user)
    audit_before = AuditEntry.objects.count()
    versions = dict(Customer.objects.values_list("external_id", "version"))

    out, _err = _import("customers", str(SPANISH), user=admin_user)

    assert "0 created, 0 updated, 4 unchanged, 4 rejected" in out
    assert AuditEntry.objects.count() == audit_before
    assert dict(Customer.objects.values_list("external_id", "version")) == versions


def test_a_changed_row_updates_only_that_customer(admin_user: User, tmp_path: Path) -> None:
    _import("customers", str(ENGLISH), user=admin_user)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        ENGLISH.read_text(encoding="utf-8-sig").replace("Paris", "Lyon"), encoding="utf-8"
    )

    out, _err = _import("customers", str(changed), user=admin_user)

    assert "0 created, 1 updated, 2 unchanged, 0 rejected" in out
    renee = Customer.objects.get(external_id="X-3")
    assert renee.city == "Lyon"
    assert renee.version == 2
    entry = AuditEntry.objects.filter(customer_id=renee.pk, action=AuditEntry.Action.UPDATE).get()
    assert entry.changes == {"city": ["Paris", "Lyon"]}
    assert entry.actor == admin_user


def test_utf8_bom_comma_file(admin_user: User) -> None:
    out, _err = _import("customers", str(ENGLISH), user=admin_user)

    assert "3 created" in out
    assert Customer.objects.get(external_id="X-1").display_name == "Zoë Smith"
    assert Customer.objects.get(external_id="X-2").display_name == "Acme, Inc."
    assert str(Customer.objects.get(external_id="X-3").country) == "FR"


def test_dry_run_writes_nothing(admin_user: User) -> None:
    out, _err = _import("customers", str(SPANISH), "--dry-run", user=admin_user)

    assert "4 would be created" in out
    assert "nothing was written" in out
    assert not Customer.objects.exists()
    assert ImportRowError.objects.count() == 4
    assert ImportJob.objects.get().status == "previewed"


def test_map_option_names_unrecognised_columns(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        "Ref cliente interno,Denominación social,Mail\nR1,Lucía Vega,lucia@example.es\n"
    )

    out, _err = _import(
        "customers",
        str(path),
        "--map",
        "Ref cliente interno=external_id",
        "--map",
        "Denominación social=display_name",
        "--map",
        "Mail=email",
        user=admin_user,
    )

    assert "1 created" in out
    lucia = Customer.objects.get(external_id="R1")
    assert lucia.display_name == "Lucía Vega"
    assert lucia.primary_email == "lucia@example.es"


def test_unknown_columns_are_reported_and_ignored(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("id,nombre,Color favorito\nA1,Pilar Ruiz,azul\n")

    _out, err = _import("customers", str(path), user=admin_user)

    assert "Color favorito" in err
    assert Customer.objects.get(external_id="A1").display_name == "Pilar Ruiz"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", "not a CSV or XLSX"),
        (b"", "no header"),
        (b"Color;Sabor\nazul;dulce\n", "No column is mapped"),
    ],
)
def test_unusable_input_exits_with_status_2(
    admin_user: User, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError) as raised:
        _import("customers", str(path), user=admin_user)

    assert raised.value.returncode == 2
    assert message in str(raised.value)


def test_unknown_field_in_map_is_unusable(admin_user: User) -> None:
    with pytest.raises(CommandError) as raised:
        _import("customers", str(ENGLISH), "--map", "City=town", user=admin_user)

    assert raised.value.returncode == 2
    assert "Unknown field" in str(raised.value)


def test_errors_option_writes_rejected_rows_as_csv(admin_user: User, tmp_path: Path) -> None:
    errors = tmp_path / "rejected.csv"

    _import("customers", str(SPANISH), "--errors", str(errors), user=admin_user)

    text = errors.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("row,errors,Código,Nombre")
    assert "Atlántida" in text
    assert len(text.splitlines()) == 5


def test_default_user_is_an_administrator(admin_user: User) -> None:
    from io import StringIO

    call_command("import", "customers", str(ENGLISH), stdout=StringIO(), stderr=StringIO())

    assert ImportJob.objects.get().created_by == admin_user


def test_reader_cannot_import(reader: User) -> None:
    with pytest.raises(CommandError):
        _import("customers", str(ENGLISH), user=reader)
    assert not Customer.objects.exists()
