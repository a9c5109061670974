"""A sales rep learns nothing about other portfolios from the unique keys they can
set: a clash with another rep's customer or purchase answers exactly as a clash with
one of their own would, and a customer id they cannot see reads as an unknown one.
Nothing is duplicated either way."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from tendero.accounts.models import User
from tendero.conftest import api_client, login, send
from tendero.contracts import services as ledger
from tendero.contracts.models import Purchase
from tendero.customers import importing
from tendero.customers.models import Customer, ImportRowError

API = "/api/v1"
LEAKS = ("already has", "already recorded", "another purchase", "in use", "different customer")


def _answer(response: Any, key: str) -> tuple[int, str]:
    """The status and body with the key sent blanked out, to compare two clashes."""
    return response.status_code, response.content.decode().replace(key, "KEY")


def _says_nothing(text: str) -> None:
    assert not any(leak in text.lower() for leak in LEAKS), text


@pytest.fixture
def world(make_customer, sales, other_sales, manager):
    mine = make_customer(display_name="Ana", external_id="S-1", account_executive=sales)
    theirs = make_customer(display_name="Berta", external_id="O-1", account_executive=other_sales)
    ledger.record_purchase(manager, mine, {"amount": "10", "external_id": "P-MINE"})
    ledger.record_purchase(manager, theirs, {"amount": "10", "external_id": "P-THEIRS"})
    return {"mine": mine, "theirs": theirs}


def _can_import(user: User) -> User:
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["import_data", "view_importjob"])
    )
    return User.objects.get(pk=user.pk)


# Customers' external ids


def test_creating_a_customer_with_another_reps_external_id_answers_as_with_ones_own(sales, world):
    client = api_client(sales)
    body = {"kind": "person", "display_name": "Copia"}

    theirs = send(client, "post", f"{API}/customers", {**body, "external_id": "O-1"})
    mine = send(client, "post", f"{API}/customers", {**body, "external_id": "S-1"})

    assert theirs.status_code == 422
    assert _answer(theirs, "O-1") == _answer(mine, "S-1")
    _says_nothing(theirs.content.decode())
    assert Customer.objects.filter(display_name="Copia").count() == 0


def test_changing_the_external_id_to_another_reps_answers_as_to_ones_own(
    sales, make_customer, world
):
    second = make_customer(display_name="Carla", external_id="S-2", account_executive=sales)
    client = api_client(sales)
    url = f"{API}/customers/{second.pk}"

    theirs = send(client, "patch", url, {"version": second.version, "external_id": "O-1"})
    mine = send(client, "patch", url, {"version": second.version, "external_id": "S-1"})

    assert theirs.status_code == 422
    assert _answer(theirs, "O-1") == _answer(mine, "S-1")
    _says_nothing(theirs.content.decode())


def test_import_rows_with_another_reps_keys_say_nothing_about_them(
    sales, other_sales, world, tmp_path: Path
):
    sales = _can_import(sales)
    theirs = world["theirs"]
    unknown = theirs.pk + 1000
    path = tmp_path / "clientes.csv"
    # Tendero's own export: "id" is ours when there is an external_id column too.
    path.write_text(f"id,external_id,nombre\n,O-1,Robada\n{theirs.pk},,Robada\n{unknown},,Nadie\n")

    job = importing.run_import(importing.create_job(sales, "customers", path, path.name), sales)

    rows = {row.row_number: row.errors for row in ImportRowError.objects.filter(job=job)}
    assert job.error_count == 3
    _says_nothing(json.dumps(rows[2], ensure_ascii=False))
    assert rows[3] == rows[4]  # another rep's customer id reads as an unknown id
    theirs.refresh_from_db()
    assert theirs.display_name == "Berta"


# Purchases' references


def test_a_purchase_with_another_reps_reference_answers_as_with_ones_own(sales, world):
    client = api_client(sales)
    url = f"{API}/customers/{world['mine'].pk}/purchases"

    theirs = send(client, "post", url, {"amount": "99", "external_id": "P-THEIRS"})
    mine = send(client, "post", url, {"amount": "99", "external_id": "P-MINE"})

    assert theirs.status_code == 422
    assert _answer(theirs, "P-THEIRS") == _answer(mine, "P-MINE")
    _says_nothing(theirs.content.decode())
    assert Purchase.objects.filter(external_id="P-THEIRS").count() == 1


def test_replaying_another_reps_purchase_exactly_never_returns_it(sales, world):
    # Their purchase's very amount and reference, sent for one's own customer.
    client = api_client(sales)
    url = f"{API}/customers/{world['mine'].pk}/purchases"

    response = send(client, "post", url, {"amount": "10", "external_id": "P-THEIRS"})

    assert response.status_code == 422
    assert "Berta" not in response.content.decode()
    assert Purchase.objects.filter(external_id="P-THEIRS").get().customer == world["theirs"]


def test_a_batch_with_another_reps_reference_answers_as_with_ones_own(sales, world):
    client = api_client(sales)
    item = {"customer_id": world["mine"].pk, "amount": "99"}

    theirs = send(
        client, "post", f"{API}/purchases/batch", {"items": [{**item, "external_id": "P-THEIRS"}]}
    )
    mine = send(
        client, "post", f"{API}/purchases/batch", {"items": [{**item, "external_id": "P-MINE"}]}
    )

    assert theirs.status_code == 422
    assert _answer(theirs, "P-THEIRS") == _answer(mine, "P-MINE")
    _says_nothing(theirs.content.decode())


def test_correcting_a_reference_to_another_reps_answers_as_to_ones_own(sales, world):
    purchase = ledger.record_purchase(sales, world["mine"], {"amount": "5", "external_id": "P-2"})
    client = api_client(sales)
    url = f"{API}/purchases/{purchase.pk}"

    theirs = send(client, "patch", url, {"version": purchase.version, "external_id": "P-THEIRS"})
    mine = send(client, "patch", url, {"version": purchase.version, "external_id": "P-MINE"})

    assert theirs.status_code == 422
    assert _answer(theirs, "P-THEIRS") == _answer(mine, "P-MINE")
    _says_nothing(theirs.content.decode())


def test_the_purchase_form_says_nothing_about_another_reps_reference(client, sales, world):
    url = f"/customers/{world['mine'].pk}/purchases/"
    form = {"amount": "99", "currency": "EUR", "source": "manual"}
    login(client, sales)

    theirs = client.post(url, {**form, "external_id": "P-THEIRS"})
    mine = client.post(url, {**form, "external_id": "P-MINE"})

    assert theirs.status_code == mine.status_code == 422
    _says_nothing(theirs.content.decode())
    assert Purchase.objects.filter(amount=Decimal("99")).count() == 0


def test_importing_another_reps_reference_answers_as_ones_own(sales, world, tmp_path: Path):
    sales = _can_import(sales)
    path = tmp_path / "compras.csv"
    path.write_text(
        "Cliente;Fecha;Importe;Referencia\nS-1;2024-03-07;99;P-THEIRS\nS-1;2024-03-07;99;P-MINE\n"
    )

    job = importing.run_import(importing.create_job(sales, "purchases", path, path.name), sales)

    theirs, mine = (
        row.errors for row in ImportRowError.objects.filter(job=job).order_by("row_number")
    )
    assert theirs == mine
    _says_nothing(json.dumps(theirs, ensure_ascii=False))


# Tags


def test_tags_are_one_shared_vocabulary_that_every_rep_sees(sales, make_customer, other_sales):
    # Whether a tag exists is no secret of a portfolio: the list shows every tag to
    # every rep, so tagging with one (or being told a new one needs the right to
    # create tags) tells nothing about other reps' customers.
    make_customer(display_name="Berta", tags=["vip-olga"], account_executive=other_sales)

    names = [tag["name"] for tag in api_client(sales).get(f"{API}/tags").json()["items"]]

    assert "vip-olga" in names


@pytest.mark.parametrize("column", ["customer_external_id", "customer_id"])
def test_importing_contacts_for_another_reps_customer_reads_as_an_unknown_one(
    sales, world, tmp_path: Path, column
):
    sales = _can_import(sales)
    theirs = world["theirs"]
    key = "O-1" if column == "customer_external_id" else str(theirs.pk)
    unknown = "NOPE" if column == "customer_external_id" else str(theirs.pk + 1000)
    path = tmp_path / "contactos.csv"
    path.write_text(f"{column},first_name\n{key},Robada\n{unknown},Nadie\n")

    job = importing.run_import(importing.create_job(sales, "contacts", path, path.name), sales)

    theirs_row, unknown_row = (
        row.errors for row in ImportRowError.objects.filter(job=job).order_by("row_number")
    )
    assert theirs_row == unknown_row
    assert not theirs.contacts.exists()
