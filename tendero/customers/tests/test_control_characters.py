"""Control and invisible characters (bidi overrides, ESC sequences, BEL, line breaks
in one-line fields, C1 controls, zero-width characters, U+2028, noncharacters) are
refused in every text field with the same message whatever the way in: the API, the
pages' forms and imports. Multi-line notes keep their line breaks and tabs."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tendero.conftest import api_client, login, send
from tendero.contracts.models import Purchase
from tendero.core.text import clean_line
from tendero.customers import importing, services
from tendero.customers.models import Contact, Customer, ImportRowError, Tag
from tendero.customers.tests.test_views import customer_form_data
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import PersonalFact
from tendero.organization.models import Department

API = "/api/v1"
PERSON = {"kind": "person"}
BAD = {
    "bidi override": "Ana\u202eRuiz",
    "ESC sequence": "Ana\x1b[2JRuiz",
    "BEL": "Ana\x07Ruiz",
    "line feed": "Ana\nRuiz",
    "carriage return": "Ana\rRuiz",
    "C1 control": "Ana\x9bRuiz",
    "zero-width space": "Ana\u200bRuiz",
    "line separator": "Ana\u2028Ruiz",
    "noncharacter": "Ana\uffffRuiz",
    "isolate": "Ana\u2067Ruiz",
    "NUL": "Ana\x00Ruiz",
}


def _message(text: str) -> str:
    with pytest.raises(ValidationError) as error:
        clean_line(text)
    return error.value.messages[0]


@pytest.fixture
def customer(make_customer, sales) -> Customer:
    return make_customer(
        display_name="Ruiz SL", kind="organisation", external_id="C1", account_executive=sales
    )


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_the_api_refuses_them_in_one_line_fields_with_the_rule_s_message(sales, customer, text):
    client = api_client(sales)
    contact = services.create_contact(sales, customer, {"first_name": "Eva"})
    answers = {
        "display_name": send(client, "post", f"{API}/customers", {**PERSON, "display_name": text}),
        "city": send(
            client, "patch", f"{API}/customers/{customer.pk}", {"city": text, "version": 1}
        ),
        "first_name": send(
            client, "post", f"{API}/customers/{customer.pk}/contacts", {"first_name": text}
        ),
        "role": send(
            client, "patch", f"{API}/contacts/{contact.pk}", {"role": text, "version": 1}
        ),
        "tags.0": send(
            client, "post", f"{API}/customers", {**PERSON, "display_name": "Eva", "tags": [text]}
        ),
        "related_name": send(
            client, "post", f"{API}/customers/{customer.pk}/facts",
            {"kind": "family", "relation": "child", "related_name": text},
        ),
        "subject": send(
            client, "post", f"{API}/customers/{customer.pk}/interactions",
            {"channel": "phone", "direction": "outbound", "subject": text},
        ),
        "description": send(
            client, "post", f"{API}/customers/{customer.pk}/purchases",
            {"amount": "10", "description": text},
        ),
        "product": send(
            client, "post", f"{API}/customers/{customer.pk}/purchases",
            {"amount": "10", "product": text},
        ),
        "external_id": send(
            client, "post", f"{API}/customers/{customer.pk}/purchases",
            {"amount": "10", "external_id": text},
        ),
    }  # fmt: skip
    for field, response in answers.items():
        assert response.status_code == 422, (field, response.content)
        assert response.json()["errors"][field] == [_message(text)], field
    assert Customer.objects.count() == 1 and Customer.objects.get().city == ""
    assert Contact.objects.get().role == ""
    assert not Tag.objects.exists() and not PersonalFact.objects.exists()
    assert not Interaction.objects.exists() and not Purchase.objects.exists()


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_the_form_refuses_them_with_the_same_message(client, sales, text):
    login(client, sales)

    response = client.post(reverse("customers:create"), customer_form_data(display_name=text))

    assert response.status_code in (200, 400, 422)
    assert _message(text) in response.content.decode().replace("&#x27;", "'")
    assert not Customer.objects.exists()


def test_the_import_refuses_them_row_by_row_with_the_same_message(
    admin_user, tmp_path: Path, settings
):
    settings.UPLOADS_DIR = tmp_path / "uploads"
    path = tmp_path / "clientes.csv"
    # (A file with NUL bytes is not a text file at all: refused whole, see test_importing.)
    bad = {name: text for name, text in BAD.items() if name != "NUL"}
    rows = ["name,city", "Ana Ruiz,Madrid"]
    rows += [f'"{text}",Madrid' for text in bad.values()]
    rows += ['Eva,"Ma\u202edrid"']
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    job = importing.create_job(admin_user, "customers", path, path.name)

    job = importing.run_import(job, admin_user)

    assert list(Customer.objects.values_list("display_name", flat=True)) == ["Ana Ruiz"]
    errors = {e.row_number: e.errors for e in ImportRowError.objects.filter(job=job)}
    assert job.error_count == len(bad) + 1
    messages = [e.get("display_name") for n, e in sorted(errors.items())][: len(bad)]
    assert messages == [[_message(text)] for text in bad.values()]
    assert errors[max(errors)]["city"] == [_message("Ma\u202edrid")]


def test_notes_keep_line_breaks_and_tabs_but_refuse_the_rest(sales, customer):
    client = api_client(sales)
    url = f"{API}/customers/{customer.pk}/interactions"
    call = {"channel": "phone", "direction": "outbound", "subject": "Call"}

    good = send(client, "post", url, {**call, "notes": "Asked:\r\n\t- delivery\nOK"})
    bad = send(client, "post", url, {**call, "notes": "Asked\x1b[31m about it"})

    assert good.status_code == 201, good.content
    assert Interaction.objects.get().notes == "Asked:\n\t- delivery\nOK"
    assert bad.status_code == 422
    assert "U+001B" in bad.json()["errors"]["notes"][0]


def test_emoji_sequences_and_joiners_in_names_are_kept(sales, customer):
    name = "Lucía 👩\u200d💻"
    response = send(
        api_client(sales), "post", f"{API}/customers", {"kind": "person", "display_name": name}
    )
    assert response.status_code == 201, response.content
    assert Customer.objects.get(pk=response.json()["id"]).display_name == name


def test_a_department_refuses_them(db):
    department = Department(code="ventas", name="Ventas\u202e")
    with pytest.raises(ValidationError) as error:
        department.full_clean()
    assert error.value.message_dict["name"] == [_message("Ventas\u202e")]
