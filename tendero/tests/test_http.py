"""Requests too big, with too many fields or files, to an unknown address, with a
wrong method or content type: a clear 4xx, JSON on the API and a page in HTML,
never a 500."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tendero.conftest import api_client, login

API = "/api/v1"
# One MiB over settings.DATA_UPLOAD_MAX_MEMORY_SIZE (5 MiB).
SIX_MIB = 6 * 1024 * 1024
MANY_FIELDS = "&".join(f"f{i}=1" for i in range(10_000))


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# Too big


def test_a_json_body_over_the_limit_is_413_on_the_api(manager):
    body = json.dumps({"kind": "person", "display_name": "x" * SIX_MIB})
    response = api_client(manager).post(f"{API}/customers", body, content_type="application/json")
    assert "too large" in assert_json_error(response, 413)["detail"]


def test_a_json_body_over_the_limit_is_413_even_in_debug(manager, settings):
    # ninja answers an unhandled exception with a 500 traceback when DEBUG is on.
    settings.DEBUG = True
    body = json.dumps({"kind": "person", "display_name": "x" * SIX_MIB})
    response = api_client(manager).post(f"{API}/customers", body, content_type="application/json")
    assert_json_error(response, 413)


def test_a_signed_in_browser_posting_too_much_to_the_api_gets_413(manager):
    # Session authentication checks the CSRF token, which reads the form first.
    client = login(Client(enforce_csrf_checks=True), manager)
    client.get("/customers/")  # the CSRF cookie
    response = client.post(f"{API}/customers", {"display_name": "x" * SIX_MIB})
    assert_json_error(response, 413)


def test_form_fields_over_the_limit_in_an_upload_are_413(manager):
    upload = SimpleUploadedFile("c.csv", b"name\nAna\n", content_type="text/csv")
    response = api_client(manager).post(
        f"{API}/imports", {"file": upload, "kind": "customers", "mapping": "x" * SIX_MIB}
    )
    assert_json_error(response, 413)


def test_a_form_over_the_limit_is_a_413_page(manager):
    response = login(Client(), manager).post("/customers/new/", {"display_name": "x" * SIX_MIB})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "too large" in page
    assert 'class="sidebar"' in page  # the site's layout, not a bare error page


def test_a_form_over_the_limit_is_a_413_page_when_the_csrf_check_reads_it(manager):
    client = login(Client(enforce_csrf_checks=True), manager)
    client.get("/customers/")  # the CSRF cookie
    response = client.post("/customers/new/", {"display_name": "x" * SIX_MIB})
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_the_413_page_speaks_spanish(manager):
    manager.language = "es"
    manager.save(update_fields=["language"])
    response = login(Client(), manager).post("/customers/new/", {"display_name": "x" * SIX_MIB})
    assert response.status_code == 413
    assert "demasiado grande" in response.content.decode()


# Too many fields or files


def test_ten_thousand_query_parameters_are_400_on_the_api(manager):
    response = api_client(manager).get(f"{API}/customers?{MANY_FIELDS}")
    assert "parameters" in assert_json_error(response, 400)["detail"]


def test_ten_thousand_query_parameters_are_a_400_page(manager):
    response = login(Client(), manager).get(f"/customers/?{MANY_FIELDS}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Too many parameters" in page
    assert 'class="sidebar"' in page


def test_too_many_files_are_400_on_the_api(manager):
    files = [SimpleUploadedFile(f"{i}.csv", b"a\n1\n") for i in range(101)]
    response = api_client(manager).post(f"{API}/imports", {"file": files, "kind": "customers"})
    assert "files" in assert_json_error(response, 400)["detail"]


# Unknown addresses and methods


def test_an_unknown_api_path_is_a_json_404(manager):
    assert_json_error(api_client(manager).get(f"{API}/no-such-thing"), 404)


def test_an_unknown_api_path_is_a_json_404_without_signing_in(db):
    assert_json_error(Client().get(f"{API}/no/such/thing"), 404)


def test_an_unknown_page_is_still_an_html_404(manager):
    response = login(Client(), manager).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_on_the_api_is_a_json_405(manager):
    response = api_client(manager).delete(f"{API}/customers")
    assert_json_error(response, 405)
    assert "GET" in response["Allow"]


# Content types


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"version": 1, "city": "Lugo"}', "text/plain"),
        (b"version=1&city=Lugo", "application/x-www-form-urlencoded"),
        (b'{"version": 1, "city": "Lugo"}', "application/xml"),
        (b'{"version": 1, "city": "Lugo"}', ""),
    ],
)
def test_a_json_body_needs_a_json_content_type(manager, make_customer, body, content_type):
    customer = make_customer()
    response = api_client(manager).generic(
        "PATCH", f"{API}/customers/{customer.pk}", body, content_type=content_type
    )
    assert "application/json" in assert_json_error(response, 415)["detail"]
    customer.refresh_from_db()
    assert customer.city == ""


def test_a_multipart_body_to_a_json_endpoint_is_415(manager):
    response = api_client(manager).post(f"{API}/customers", {"display_name": "Ana"})
    assert_json_error(response, 415)


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json"]
)
def test_json_content_types_are_accepted(manager, make_customer, content_type):
    customer = make_customer()
    response = api_client(manager).generic(
        "PATCH",
        f"{API}/customers/{customer.pk}",
        b'{"version": 1, "city": "Lugo"}',
        content_type=content_type,
    )
    assert response.status_code == 200
    assert response.json()["city"] == "Lugo"


def test_the_import_upload_still_takes_a_multipart_form(manager):
    upload = SimpleUploadedFile("c.csv", b"display_name\nAna Ruiz\n", content_type="text/csv")
    response = api_client(manager).post(f"{API}/imports", {"file": upload, "kind": "customers"})
    assert response.status_code == 201, response.content


# Server errors


@pytest.fixture
def failing_view(settings):
    settings.ROOT_URLCONF = "tendero.tests.failing_urls"


def test_a_server_error_on_a_page_is_a_500_page(manager, failing_view):
    client = login(Client(raise_request_exception=False), manager)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Something went wrong" in response.content.decode()


def test_a_server_error_on_the_api_is_json(manager, failing_view):
    client = login(Client(raise_request_exception=False), manager)
    assert_json_error(client.get(f"{API}/boom"), 500)


def test_an_error_page_whose_layout_fails_is_still_a_page(manager, monkeypatch):
    # The layout needs the session and the user: with the database gone it cannot render.
    def layout_fails(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr("tendero.core.http.render", layout_fails)
    response = login(Client(), manager).post("/customers/new/", {"display_name": "x" * SIX_MIB})
    assert response.status_code == 413
    assert "Request too large" in response.content.decode()


def test_a_multipart_upload_without_a_boundary_is_a_400_without_a_traceback(manager, caplog):
    # Found by make fuzz: Django logged MultiPartParserError as an unhandled error.
    response = api_client(manager).post(
        f"{API}/imports", b"kind=customers", content_type="multipart/form-data"
    )
    assert "boundary" in assert_json_error(response, 400)["detail"]
    assert not [r for r in caplog.records if r.exc_info]
