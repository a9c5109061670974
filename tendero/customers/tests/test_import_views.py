"""The import pages and the import API: upload, mapping, dry run, import, progress,
rejected rows, permissions."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.conftest import api_client, login
from tendero.customers.models import Customer, ImportJob, ImportRowError

FILES = Path(__file__).parent / "files"
SPANISH = FILES / "clientes_es_cp1252.csv"
API = "/api/v1"


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path: Path) -> Path:
    settings.UPLOADS_DIR = tmp_path / "uploads"
    return settings.UPLOADS_DIR


def _upload(client: Client, path: Path = SPANISH, kind: str = "customers") -> ImportJob:
    with path.open("rb") as handle:
        response = client.post(reverse("imports:new"), {"kind": kind, "file": handle})
    assert response.status_code == 302, response.content.decode()
    job = ImportJob.objects.latest("id")
    assert response["Location"] == reverse("imports:map", args=[job.pk])
    return job


def _mapping_post(job: ImportJob, action: str) -> dict[str, str]:
    data = {f"column-{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    data["action"] = action
    return data


def test_done_means_scenario_through_the_pages(client: Client, admin_user: User) -> None:
    login(client, admin_user)
    job = _upload(client)

    page = client.get(reverse("imports:map", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="external_id" selected>' in html
    assert "José Pérez Núñez" in html  # the preview, decoded from Windows-1252

    preview = client.post(reverse("imports:map", args=[job.pk]), _mapping_post(job, "preview"))
    assert preview.status_code == 302
    job.refresh_from_db()
    assert job.status == "previewed"
    assert (job.created_count, job.error_count) == (4, 4)
    assert not Customer.objects.exists()
    detail = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "Would be created" in detail
    assert "Atlántida" in detail

    run = client.post(reverse("imports:run", args=[job.pk]))
    assert run.status_code == 302
    job.refresh_from_db()
    assert job.status == "done"
    assert (job.created_count, job.updated_count, job.unchanged_count, job.error_count) == (
        4, 0, 0, 4,
    )  # fmt: skip
    assert Customer.objects.count() == 4
    assert ImportRowError.objects.filter(job=job).count() == 4

    audit = AuditEntry.objects.count()
    again = _upload(client)
    client.post(reverse("imports:map", args=[again.pk]), _mapping_post(again, "import"))
    again.refresh_from_db()
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 4)
    assert again.error_count == 4
    assert AuditEntry.objects.count() == audit


def test_mapping_step_changes_what_a_column_means(client: Client, admin_user: User) -> None:
    login(client, admin_user)
    job = _upload(client)
    data = _mapping_post(job, "import")
    data[f"column-{job.headers.index('Ciudad')}"] = ""  # ignore the city

    client.post(reverse("imports:map", args=[job.pk]), data)

    assert Customer.objects.get(external_id="C-001").city == ""


def test_mapping_without_a_name_is_refused_at_the_field(client: Client, admin_user: User) -> None:
    login(client, admin_user)
    job = _upload(client)
    data = {f"column-{i}": "" for i in range(len(job.headers))}
    data["action"] = "import"

    response = client.post(reverse("imports:map", args=[job.pk]), data)

    assert response.status_code == 200
    assert "No column is mapped" in response.content.decode()
    assert not Customer.objects.exists()


def test_progress_fragment_polls_while_running(client: Client, admin_user: User) -> None:
    login(client, admin_user)
    job = _upload(client)
    ImportJob.objects.filter(pk=job.pk).update(status="running", total_rows=10, processed_rows=4)

    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    fragment = client.get(
        reverse("imports:detail", args=[job.pk]) + "?fragment=progress",
        headers={"HX-Request": "true"},
    )

    assert 'hx-trigger="every 1s"' in page
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'value="40"' in fragment.content.decode()
    ImportJob.objects.filter(pk=job.pk).update(status="done")
    done = client.get(
        reverse("imports:detail", args=[job.pk]) + "?fragment=progress",
        headers={"HX-Request": "true"},
    )
    assert done["HX-Refresh"] == "true"


def test_rejected_rows_download_as_csv(client: Client, admin_user: User) -> None:
    login(client, admin_user)
    job = _upload(client)
    client.post(reverse("imports:map", args=[job.pk]), _mapping_post(job, "preview"))

    response = client.get(reverse("imports:errors_csv", args=[job.pk]))

    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert text.splitlines()[0].startswith("row,errors,Código")
    assert len(text.splitlines()) == 5


def test_oversized_upload_is_refused(client: Client, admin_user: User, settings) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    login(client, admin_user)

    with SPANISH.open("rb") as handle:
        response = client.post(reverse("imports:new"), {"kind": "customers", "file": handle})

    assert response.status_code == 200
    assert "too large" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_unusable_upload_is_refused_with_a_message(
    client: Client, admin_user: User, tmp_path: Path
) -> None:
    login(client, admin_user)
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0junk")

    with path.open("rb") as handle:
        response = client.post(reverse("imports:new"), {"kind": "customers", "file": handle})

    assert response.status_code == 200
    assert "XLSX or CSV" in response.content.decode()


def test_uploaded_files_get_random_names_under_uploads_dir(
    client: Client, admin_user: User, uploads: Path
) -> None:
    login(client, admin_user)
    job = _upload(client)

    stored = Path(job.stored_path)
    assert stored.parent == uploads
    assert "clientes" not in stored.name


def test_mapping_step_warns_without_external_id(
    client: Client, admin_user: User, tmp_path: Path
) -> None:
    login(client, admin_user)
    path = tmp_path / "x.csv"
    path.write_text("nombre,email\nAna,ana@example.es\n")
    job = _upload(client, path)

    html = client.get(reverse("imports:map", args=[job.pk])).content.decode()

    assert "No column is an external id" in html


def test_names_are_escaped(client: Client, admin_user: User, tmp_path: Path) -> None:
    login(client, admin_user)
    path = tmp_path / "x.csv"
    path.write_text("id,nombre,email\nS1,<script>alert(1)</script>,bad\n")
    job = _upload(client, path)

    html = client.get(reverse("imports:map", args=[job.pk])).content.decode()
    client.post(reverse("imports:map", args=[job.pk]), _mapping_post(job, "preview"))
    detail = client.get(reverse("imports:detail", args=[job.pk])).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" not in detail


@pytest.mark.parametrize("role", ["reader", "sales", "marketer", "outsider"])
def test_only_data_stewards_reach_the_import_pages(
    client: Client, request: pytest.FixtureRequest, role: str
) -> None:
    login(client, request.getfixturevalue(role))

    assert client.get(reverse("imports:list")).status_code == 403
    assert client.get(reverse("imports:new")).status_code == 403


def test_import_pages_need_login(client: Client, db: None) -> None:
    assert client.get(reverse("imports:list")).status_code == 302


def test_list_shows_jobs(client: Client, manager: User) -> None:
    login(client, manager)
    _upload(client)

    html = client.get(reverse("imports:list")).content.decode()

    assert "clientes_es_cp1252.csv" in html


# API


def test_api_done_means_scenario(admin_user: User) -> None:
    client = api_client(admin_user)
    with SPANISH.open("rb") as handle:
        response = client.post(f"{API}/imports", {"kind": "customers", "file": handle})

    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "previewed"
    assert (job["created_count"], job["error_count"]) == (4, 4)
    assert not Customer.objects.exists()

    errors = client.get(f"{API}/imports/{job['id']}/errors?limit=2").json()
    assert errors["count"] == 4
    assert errors["items"][0]["row_number"] == 4
    assert "emails" in errors["items"][0]["errors"]
    assert errors["next"]

    run = client.post(f"{API}/imports/{job['id']}/run")
    assert run.status_code == 202
    assert run.json()["status"] == "done"
    assert Customer.objects.count() == 4

    with SPANISH.open("rb") as handle:
        again = client.post(
            f"{API}/imports", {"kind": "customers", "file": handle, "dry_run": "false"}
        ).json()
    assert (again["created_count"], again["updated_count"], again["unchanged_count"]) == (0, 0, 4)
    assert client.get(f"{API}/imports/{again['id']}").json()["status"] == "done"


def test_api_mapping_overrides(admin_user: User, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Ref,Denominación\nR9,Lucía Vega\n")
    with path.open("rb") as handle:
        response = api_client(admin_user).post(
            f"{API}/imports",
            {
                "kind": "customers",
                "file": handle,
                "dry_run": "false",
                "mapping": '{"Ref": "external_id", "Denominación": "display_name"}',
            },
        )

    assert response.status_code == 201, response.content
    assert Customer.objects.get(external_id="R9").display_name == "Lucía Vega"


def test_api_bad_mapping_is_422(admin_user: User) -> None:
    with SPANISH.open("rb") as handle:
        response = api_client(admin_user).post(
            f"{API}/imports", {"kind": "customers", "file": handle, "mapping": '{"Nombre": "x"}'}
        )

    assert response.status_code == 422
    assert "Unknown field" in response.json()["detail"]
    assert not ImportJob.objects.exists()


def test_api_reader_cannot_import(reader: User, admin_user: User) -> None:
    with SPANISH.open("rb") as handle:
        response = api_client(reader).post(f"{API}/imports", {"kind": "customers", "file": handle})

    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_api_unknown_job_is_404(admin_user: User) -> None:
    assert api_client(admin_user).get(f"{API}/imports/999").status_code == 404
