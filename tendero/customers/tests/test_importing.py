"""The importer itself: reading files, recognising headers, validating and writing
rows in batches."""

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.core.bulk import insert_rows
from tendero.customers import import_customer_rows, import_files, importing
from tendero.customers.models import Contact, Customer, ImportJob, ImportRowError
from tendero.knowledge.models import PersonalFact


def _run(user: User, kind: str, path: Path, **options: Any) -> ImportJob:
    job = importing.create_job(user, kind, path, path.name, **options)
    return importing.run_import(job, user)


def test_header_synonyms_in_english_and_spanish() -> None:
    headers = [
        "Código", "Razón social", "E-mail", "Móvil", "País", "RUT", "Dirección", "Localidad",
        "Provincia", "C.P.", "Idioma", "Moneda", "Etapa", "Etiquetas", "Origen", "Apodo", "Tipo",
        "Otra cosa",
    ]  # fmt: skip

    mapping = import_files.recognise_headers(headers, "customers")

    assert mapping == {
        "Código": "external_id", "Razón social": "display_name", "E-mail": "emails",
        "Móvil": "phones", "País": "country", "RUT": "tax_id", "Dirección": "street",
        "Localidad": "city", "Provincia": "region", "C.P.": "postal_code",
        "Idioma": "language", "Moneda": "currency", "Etapa": "lifecycle_stage",
        "Etiquetas": "tags", "Origen": "acquisition_source", "Apodo": "preferred_name",
        "Tipo": "kind", "Otra cosa": "",
    }  # fmt: skip
    assert import_files.recognise_headers(["ID", "Name", "Phone", "VAT"], "customers") == {
        "ID": "external_id", "Name": "display_name", "Phone": "phones", "VAT": "tax_id",
    }  # fmt: skip
    # Tendero's own export: "id" is ours when there is an external_id column too.
    assert import_files.recognise_headers(["id", "external_id"], "customers") == {
        "id": "id", "external_id": "external_id",
    }  # fmt: skip


def test_xlsx_file_is_read_by_content(admin_user: User, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Nombre", "Correo electrónico", "Teléfono", "País", "NIF", "Referencia"])
    sheet.append(["Íñigo Martínez", "inigo@example.es", 612345678, "España", "12345678Z", 1001])
    sheet.append(["Sin correo válido", "no-es-correo", None, "ES", None, 1002])
    path = tmp_path / "clientes.bin"  # no telling extension: the zip signature tells
    workbook.save(path)

    job = _run(admin_user, "customers", path)

    assert job.file_format == "xlsx"
    assert (job.created_count, job.error_count) == (1, 1)
    inigo = Customer.objects.get(external_id="1001")
    assert inigo.primary_phone == "+34612345678"
    assert inigo.tax_id == "12345678Z"
    assert ImportRowError.objects.get().row_number == 3


def test_kind_stage_and_source_accept_spanish_words(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "id;nombre;tipo;etapa;origen;idioma\n"
        "K1;Construcciones Díaz;Empresa;Activo;Recomendación;Español\n",
        encoding="utf-8",
    )

    job = _run(admin_user, "customers", path)

    assert job.error_count == 0, list(ImportRowError.objects.values_list("errors", flat=True))
    customer = Customer.objects.get(external_id="K1")
    assert (customer.kind, customer.lifecycle_stage) == ("organisation", "active")
    assert (customer.acquisition_source, customer.language) == ("referral", "es")


def test_blank_cells_leave_fields_as_they_are(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,nombre,ciudad\nB1,Ana Ríos,Bilbao\n")
    _run(admin_user, "customers", path)
    path.write_text("id,nombre,ciudad\nB1,Ana Ríos,\n")

    job = _run(admin_user, "customers", path)

    assert job.unchanged_count == 1
    assert Customer.objects.get(external_id="B1").city == "Bilbao"


def test_rows_without_external_id_warn_that_they_are_created_again(
    admin_user: User, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("nombre\nAna\nLuis\n")

    job = _run(admin_user, "customers", path)

    assert job.created_count == 2
    assert "again" in job.message


def test_queries_per_batch_do_not_grow_with_rows(
    admin_user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH_SIZE", 200)

    def write(path: Path, rows: int, offset: int = 0) -> None:
        lines = ["id,nombre,email,telefono,etiquetas"]
        lines += [
            f"Q{n},Cliente {n + offset},c{n}@example.es,+3461{n:07d},vip|n{n % 3}"
            for n in range(rows)
        ]
        path.write_text("\n".join(lines) + "\n")

    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write(small, 20)
    write(large, 200)
    counts = []
    for path in (small, large):
        Customer.objects.all().delete()
        job = importing.create_job(admin_user, "customers", path, path.name)
        with CaptureQueriesContext(connection) as queries:
            importing.run_import(job, admin_user)
        counts.append(len(queries))
    assert Customer.objects.count() == 200
    # A fixed number of statements per batch; SQLite splits big inserts (at most 999
    # parameters a statement), so allow a few more there, far from one per row.
    assert counts[1] <= counts[0] + 10

    write(large, 200, offset=1)  # every name changes: one batch of updates
    job = importing.create_job(admin_user, "customers", large, large.name)
    with CaptureQueriesContext(connection) as queries:
        importing.run_import(job, admin_user)
    assert job.updated_count == 200
    assert len(queries) <= 30, "\n".join(q["sql"][:150] for q in queries.captured_queries)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).count() == 200


def test_batches_are_all_or_nothing_and_a_rerun_completes(
    admin_user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    path = tmp_path / "x.csv"
    path.write_text("id,nombre\nR1,Uno\nR2,Dos\nR3,Tres\nR4,Cuatro\n")
    original = import_customer_rows._write_customers
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(import_customer_rows, "_write_customers", failing)
    job = importing.create_job(admin_user, "customers", path, path.name)
    with pytest.raises(RuntimeError):
        importing.run_import(job, admin_user)

    job.refresh_from_db()
    assert job.status == "failed"
    assert "disk full" in job.message
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["R1", "R2"]

    monkeypatch.setattr(import_customer_rows, "_write_customers", original)
    again = _run(admin_user, "customers", path)
    assert (again.created_count, again.unchanged_count) == (2, 2)


def test_contacts_import_is_idempotent(admin_user: User, make_customer, tmp_path: Path) -> None:
    make_customer(display_name="Ferretería Muñoz", kind="organisation", external_id="F1")
    make_customer(display_name="Ana Persona", external_id="P1")
    path = tmp_path / "contactos.csv"
    path.write_text(
        "Código cliente;Nombre;Apellidos;Cargo;Correo;Principal\n"
        "F1;Lucía;Muñoz;Gerente;lucia@ferreteria.es;sí\n"
        "F1;Pedro;;;mal-correo;\n"
        "P1;Juan;;;;\n"
        "ZZ;Nadie;;;;\n",
        encoding="cp1252",
    )

    job = _run(admin_user, "contacts", path)
    again = _run(admin_user, "contacts", path)

    assert (job.created_count, job.error_count) == (1, 3)
    lucia = Contact.objects.get()
    assert (lucia.first_name, lucia.last_name, lucia.role, lucia.is_primary) == (
        "Lucía", "Muñoz", "Gerente", True,
    )  # fmt: skip
    assert (again.created_count, again.unchanged_count, again.error_count) == (0, 1, 3)
    reasons = {e.row_number: e.errors for e in ImportRowError.objects.filter(job=job)}
    assert "email" in reasons[3]
    assert "customer" in reasons[4] and "customer" in reasons[5]


def test_facts_import_accepts_spanish_kinds_and_is_idempotent(
    admin_user: User, make_customer, tmp_path: Path
) -> None:
    make_customer(display_name="José Pérez", external_id="J1")
    path = tmp_path / "datos.csv"
    path.write_text(
        "Cliente,Tipo,Texto,Relación,Nombre,Fecha,Anual\n"
        "J1,Interés,Juega al fútbol los domingos,,,,\n"
        "J1,Familiar,,Hija,Lucía,2015-06-01,sí\n"
        "J1,Familiar,,,Sin relación,,\n"
        "J1,Inventado,algo,,,,\n",
        encoding="utf-8",
    )

    job = _run(admin_user, "facts", path)
    again = _run(admin_user, "facts", path)

    assert (job.created_count, job.error_count) == (2, 2)
    assert PersonalFact.objects.count() == 2
    daughter = PersonalFact.objects.get(kind="family_member")
    assert (daughter.relation, daughter.related_name, daughter.recurs_yearly) == (
        "child", "Lucía", True,
    )  # fmt: skip
    assert (again.created_count, again.unchanged_count) == (0, 2)


def test_sales_rep_with_import_rights_cannot_touch_others_customers(
    sales: User, other_sales: User, make_customer, tmp_path: Path
) -> None:
    from django.contrib.auth.models import Permission

    sales.user_permissions.add(
        *Permission.objects.filter(codename__in=["import_data", "view_importjob"])
    )
    sales = User.objects.get(pk=sales.pk)
    make_customer(display_name="De Olga", external_id="O1", account_executive=other_sales)
    path = tmp_path / "x.csv"
    path.write_text("id,nombre\nO1,Robado\nS1,Nuevo mío\n")

    job = _run(sales, "customers", path)

    assert (job.created_count, job.error_count) == (1, 1)
    assert Customer.objects.get(external_id="O1").display_name == "De Olga"
    mine = Customer.objects.get(external_id="S1")
    assert mine.account_executive == sales
    assert mine.account_executive_assignments.count() == 1


def test_unknown_tags_need_the_right_to_create_tags(service_agent: User, tmp_path: Path) -> None:
    assert not service_agent.has_perm("customers.add_tag")
    from django.contrib.auth.models import Permission

    service_agent.user_permissions.add(
        *Permission.objects.filter(codename__in=["import_data", "view_importjob", "add_customer"])
    )
    agent = User.objects.get(pk=service_agent.pk)
    path = tmp_path / "x.csv"
    path.write_text("id,nombre,etiquetas\nT1,Con etiqueta,nueva\n")

    job = _run(agent, "customers", path)

    assert job.error_count == 1
    assert "tags" in ImportRowError.objects.get().errors


def test_created_customers_are_searchable(admin_user: User, tmp_path: Path) -> None:
    from tendero.customers.models import SearchToken

    path = tmp_path / "x.csv"
    path.write_text("id,nombre\nS1,Begoña Larrañaga\n")

    _run(admin_user, "customers", path)

    customer = Customer.objects.get(external_id="S1")
    assert customer.name_key == "begona larranaga"
    assert SearchToken.objects.filter(customer_id=customer.pk).exists()


def test_nul_characters_reject_the_row_not_the_import(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        b"id,nombre,telefono\n" + b"a" * 70_000 + b",x,1\nN1,Nu\x00l,6\x0012\nN2,Bien,\n"
    )

    job = _run(admin_user, "customers", path)

    assert job.status == "done"
    assert Customer.objects.filter(external_id="N2").exists()
    assert not Customer.objects.filter(external_id="N1").exists()


def test_delimiter_and_encoding_can_be_given(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes("id|nombre\nD1|Señora Ñúñez\n".encode("latin-1"))

    job = _run(admin_user, "customers", path, encoding="latin-1", delimiter="|")

    assert (job.encoding, job.delimiter) == ("latin-1", "|")
    assert Customer.objects.get(external_id="D1").display_name == "Señora Ñúñez"


def _customers_file(path: Path, rows: int, *, renamed: frozenset[int] = frozenset()) -> None:
    lines = ["codigo;nombre;tipo;email;telefono;pais;etiquetas;nif"]
    for n in range(rows):
        name = f"Cliente Número {n}" + (" bis" if n in renamed else "")
        phone = f"+34 612 {n:03d} {n % 100:02d}{n % 10}"
        if n % 11 == 5:
            phone = "12"  # not a phone number
        if n % 13 == 7:
            name = ""  # no name
        code = f"P{n}" if n % 17 != 9 else "P1"  # a key seen before
        lines.append(
            f"{code};{name};{'empresa' if n % 2 else 'persona'};c{n}@Example.ES;{phone};"
            f"España;vip|grupo {n % 3};B{n:08d}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")


def _imported_state() -> dict[str, Any]:
    from tendero.customers.models import SearchToken

    customers = {
        c.external_id: (
            c.display_name,
            c.kind,
            c.country,
            c.tax_id,
            c.name_key,
            [e.address for e in c.emails.all()],
            [p.number for p in c.phones.all()],
            sorted(t.name for t in c.tags.all()),
            sorted(SearchToken.objects.filter(customer=c).values_list("token", flat=True)),
            sorted(
                (e.action, e.object_repr, str(e.changes))
                for e in AuditEntry.objects.filter(customer_id=c.pk)
            ),
        )
        for c in Customer.objects.prefetch_related("emails", "phones", "tags")
    }
    return {"customers": customers, "audit": AuditEntry.objects.count()}


def _errors(job: ImportJob) -> list[tuple[int, Any]]:
    return list(
        ImportRowError.objects.filter(job=job)
        .order_by("row_number")
        .values_list("row_number", "errors")
    )


# Worker processes are forked only outside a transaction (see importing._worker_pool).
@pytest.mark.django_db(transaction=True)
def test_parallel_import_gives_what_a_serial_one_does(
    admin_user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny batches and chunks so that several batches are cleaned in worker processes
    # while the one before them is written.
    monkeypatch.setattr(importing, "BATCH_SIZE", 9)
    monkeypatch.setattr(import_customer_rows, "CLEAN_CHUNK", 2)
    monkeypatch.setattr(importing, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(importing, "WORKERS", 2)
    pools: list[Any] = []
    original_pool = importing._worker_pool

    def recording_pool(job: ImportJob) -> Any:
        pool = original_pool(job)
        pools.append(pool)
        return pool

    monkeypatch.setattr(importing, "_worker_pool", recording_pool)
    path = tmp_path / "clientes.csv"
    _customers_file(path, 60)

    def run(parallel: bool) -> ImportJob:
        job = importing.create_job(admin_user, "customers", path, path.name)
        return importing.run_import(job, admin_user, parallel=parallel)

    serial = run(False)
    serial_state, serial_errors = _imported_state(), _errors(serial)
    Customer.objects.all().delete()
    AuditEntry.objects.all().delete()

    parallel = run(True)

    assert pools and all(pool is not None for pool in pools)
    counts = (parallel.created_count, parallel.updated_count, parallel.error_count)
    assert counts == (serial.created_count, serial.updated_count, serial.error_count)
    assert parallel.created_count > 30 and parallel.error_count > 5
    assert _errors(parallel) == serial_errors
    state = _imported_state()
    assert state["customers"].keys() == serial_state["customers"].keys()
    for key, values in state["customers"].items():
        assert values == serial_state["customers"][key], key
    assert state["audit"] == serial_state["audit"] == parallel.created_count

    again = run(True)  # all unchanged: nothing written, no audit entries
    assert (again.created_count, again.updated_count) == (0, 0)
    assert again.unchanged_count == parallel.created_count
    assert _imported_state() == state

    _customers_file(path, 60, renamed=frozenset({0, 10, 21, 45}))
    changed = run(True)
    assert (changed.created_count, changed.updated_count) == (0, 4)
    assert Customer.objects.get(external_id="P10").display_name == "Cliente Número 10 bis"
    assert Customer.objects.get(external_id="P10").name_key == "10 bis cliente numero"
    assert AuditEntry.objects.count() == state["audit"] + 4


@pytest.mark.django_db(transaction=True)
def test_parallel_import_with_mixed_new_and_known_rows(
    admin_user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH_SIZE", 10)
    monkeypatch.setattr(import_customer_rows, "CLEAN_CHUNK", 2)
    monkeypatch.setattr(importing, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(importing, "WORKERS", 2)
    path = tmp_path / "clientes.csv"
    _customers_file(path, 20)
    first = importing.run_import(
        importing.create_job(admin_user, "customers", path, path.name), admin_user
    )
    _customers_file(path, 50, renamed=frozenset({3}))

    job = importing.run_import(
        importing.create_job(admin_user, "customers", path, path.name), admin_user, parallel=True
    )

    assert job.updated_count == 1
    assert job.unchanged_count == first.created_count - 1
    assert job.created_count == Customer.objects.count() - first.created_count
    from tendero.customers.models import SearchToken

    customer = Customer.objects.get(external_id="P40")
    tokens = set(SearchToken.objects.filter(customer=customer).values_list("token", flat=True))
    assert {"cliente", "numero", "40", "b00000040"} <= tokens


def test_plain_rows_are_written_as_they_are(make_customer) -> None:
    from tendero.customers.models import CustomerEmail

    customer = make_customer()
    tricky = ["a\\b@x.es", "tab\there@x.es", "line\nbreak@x.es", "cr\rx@x.es", "\\N", "ñ€@x.es"]
    rows = [(customer.pk, text, i) for i, text in enumerate(tricky)]

    insert_rows(CustomerEmail, ["customer_id", "address", "position"], rows)

    stored = CustomerEmail.objects.filter(customer=customer).order_by("position")
    assert [e.address for e in stored] == tricky


def test_awkward_text_is_stored_as_it_is(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "raro.csv"
    path.write_text(
        # (A real tab is refused in a name: tendero.core.text; a backslash and t is not.)
        'codigo,nombre,calle,etiquetas\nX\\1,"Tab\\tbed \\N Ñandú",'
        '"C/ Barra \\ invertida\\\\, 3",a\\b|c\n',
        encoding="utf-8",
    )

    job = _run(admin_user, "customers", path)

    assert job.created_count == 1, list(ImportRowError.objects.values_list("errors", flat=True))
    customer = Customer.objects.get()
    assert customer.external_id == "X\\1"
    assert customer.display_name == "Tab\\tbed \\N Ñandú"
    assert customer.street == "C/ Barra \\ invertida\\\\, 3"
    assert sorted(t.name for t in customer.tags.all()) == ["a\\b", "c"]
    assert (customer.version, customer.kind, customer.lifecycle_stage) == (1, "person", "prospect")
    assert customer.created_at == customer.updated_at
    assert job.started_at is not None and job.finished_at is not None
    assert job.started_at <= customer.created_at <= job.finished_at
    assert customer.name_key == "n nandu tab tbed"
    entry = AuditEntry.objects.get(customer_id=customer.pk)
    assert entry.object_repr == "Tab\\tbed \\N Ñandú"
    assert entry.changes["street"] == ["None", "C/ Barra \\ invertida\\\\, 3"]
    assert entry.additional_data == {"customer_id": customer.pk, "import_job": job.pk}
    assert entry.actor == admin_user
