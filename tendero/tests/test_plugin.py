"""An app plugs into Tendero by registering from its `ready()`: tendero/tests/plugin,
installed by the test settings only, brings a timeline source, an API router, its
pages, a sidebar entry, a role grant, a demo step and a section of the 360 page's
briefing and "what is open" without any edit to another app."""

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.conftest import api_client, login
from tendero.core import registry
from tendero.customers import demo
from tendero.tests.plugin.models import FieldNote

SOURCE = Path(__file__).resolve().parents[1]


@pytest.fixture
def note_reader(sales: User) -> User:
    """An account executive: the plugin grants the sales role its permission."""
    return sales


@pytest.fixture
def note(make_customer, sales: User) -> FieldNote:
    customer = make_customer(display_name="Bodegas Ruiz", account_executive=sales)
    return FieldNote.objects.create(
        customer=customer, noted_at=datetime(2026, 3, 2, 10, tzinfo=UTC), text="Nueva nave"
    )


def test_its_role_grant_reaches_the_role_and_no_other(sales, reader):
    assert sales.has_perm("plugin.view_fieldnote")
    assert not reader.has_perm("plugin.view_fieldnote")
    holders = Group.objects.filter(permissions__codename="view_fieldnote")
    assert list(holders.values_list("name", flat=True)) == [roles.SALES]


def test_nothing_outside_the_plugin_names_it_but_the_settings():
    naming = {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        if "tests/plugin" not in path.as_posix()
        and path.name != "test_plugin.py"
        and "tendero.tests.plugin" in path.read_text(encoding="utf-8")
    }
    assert naming == {"settings.py"}


def test_its_router_is_mounted_under_the_api_with_its_permission(note, note_reader, outsider):
    answered = api_client(note_reader).get("/api/v1/field-notes")
    assert answered.status_code == 200
    expected = {"id": note.pk, "customer_id": note.customer_id, "text": "Nueva nave"}
    assert answered.json() == [expected]
    assert api_client(outsider).get("/api/v1/field-notes").status_code == 403
    assert Client().get("/api/v1/field-notes").status_code == 401


def test_its_operation_is_in_the_openapi_document(admin_user):
    document = login(Client(), admin_user).get("/api/v1/openapi.json").json()
    assert "/api/v1/field-notes" in document["paths"]


def test_its_rows_are_on_the_customer_timeline(note, note_reader):
    page = api_client(note_reader).get(f"/api/v1/customers/{note.customer_id}/timeline").json()
    entries = [(entry["kind"], entry["title"]) for entry in page["entries"]]
    assert ("field_note", "Nueva nave") in entries
    html = login(Client(), note_reader).get(f"/customers/{note.customer_id}/").content.decode()
    assert f'id="field_note-{note.pk}"' in html


def test_its_page_is_served_and_its_entry_is_in_the_sidebar(note, note_reader):
    client = login(Client(), note_reader)
    page = client.get("/field-notes/")
    assert page.status_code == 200
    assert '<a href="/field-notes/" aria-current="page">Field notes</a>' in page.content.decode()
    elsewhere = client.get("/customers/").content.decode()
    assert '<a href="/field-notes/">Field notes</a>' in elsewhere


def test_people_without_its_permission_neither_see_nor_open_it(note, reader):
    client = login(Client(), reader)
    assert "Field notes" not in client.get("/customers/").content.decode()
    assert client.get("/field-notes/").status_code == 403


def test_its_demo_step_runs_with_the_demo_after_the_others(db):
    out = StringIO()
    demo.create_demo_data(stdout=out, customers=100)
    assert list(registry.demo_steps)[-1].key == "plugin.field_notes"
    assert FieldNote.objects.count() == 3
    assert out.getvalue().rstrip().endswith("3 field notes.")


def test_its_section_is_in_the_briefing_and_in_what_is_open(note, note_reader):
    html = login(Client(), note_reader).get(f"/customers/{note.customer_id}/").content.decode()
    briefing = html[html.index('class="card briefing"') : html.index('class="c360-main"')]
    assert '<li class="field-note">Nueva nave</li>' in briefing
    assert '<li class="open-note">To type up: Nueva nave</li>' in html
    assert "Nothing open" not in html
