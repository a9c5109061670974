"""The demo data (Tendero Telecom) and the bulk seeding command for benchmarks."""

import itertools
import random
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import Client, RequestFactory

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.customers import demo, seeding
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
    RelationshipLevelChange,
)
from tendero.customers.validation import normalise_email, normalise_phone

SMALL_DEMO = 300


@pytest.fixture
def demo_logins(db: None) -> list[tuple[str, str, str]]:
    return demo.create_demo_data(customers=SMALL_DEMO)


def _table_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "customers": Customer.objects.count(),
        "emails": CustomerEmail.objects.count(),
        "phones": CustomerPhone.objects.count(),
        "contacts": Contact.objects.count(),
        "assignments": AccountExecutiveAssignment.objects.count(),
        "level_changes": RelationshipLevelChange.objects.count(),
        "tags": Customer.tags.through.objects.count(),
    }


def _assert_account_executives_are_consistent() -> None:
    open_by_customer: dict[int, list[int]] = defaultdict(list)
    for customer_id, user_id in AccountExecutiveAssignment.objects.filter(
        ended_at__isnull=True
    ).values_list("customer_id", "user_id"):
        open_by_customer[customer_id].append(user_id)
    for customer_id, executive_id in Customer.objects.values_list("pk", "account_executive_id"):
        assert open_by_customer.get(customer_id, []) == ([executive_id] if executive_id else [])


def _assert_levels_climb_one_rung_at_a_time() -> None:
    changes = defaultdict(list)
    for change in RelationshipLevelChange.objects.order_by("changed_at", "id"):
        changes[change.customer_id].append(change)
    for customer_id, level in Customer.objects.values_list("pk", "relationship_level"):
        current = 1
        for change in changes.get(customer_id, []):
            assert change.from_level == current
            assert abs(change.to_level - change.from_level) == 1
            assert change.reason
            current = change.to_level
        assert level == current


def test_demo_data_has_a_user_of_every_role_who_can_log_in_with_the_printed_password(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    assert {role for _username, role, _password in demo_logins} == set(roles.ROLE_LABELS)
    assert sum(role == roles.SALES for _username, role, _password in demo_logins) == 4
    for username, role, password in demo_logins:
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=username, password=password)
        assert user is not None, username
        assert user.groups.filter(name=role).exists()
    assert demo.demo_logins() == demo_logins


def test_the_demo_login_page_accepts_a_demo_password(
    demo_logins: list[tuple[str, str, str]], client: Client
) -> None:
    username, _role, password = demo_logins[0]
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302


def test_demo_data_creates_about_two_thousand_realistic_customers(db: None) -> None:
    out = StringIO()
    demo.create_demo_data(stdout=out)
    assert Customer.objects.count() == 2000
    kinds = Counter(Customer.objects.values_list("kind", flat=True))
    assert 0.65 <= kinds["person"] / 2000 <= 0.75
    assert set(Customer.objects.values_list("country", flat=True)) == {"ES", "MX", "CL", "GB", "US"}
    assert set(Customer.objects.values_list("language", flat=True)) == {"es", "en"}
    assert set(Customer.objects.values_list("currency", flat=True)) == {
        "EUR", "MXN", "CLP", "GBP", "USD",
    }  # fmt: skip
    assert len(set(Customer.objects.values_list("lifecycle_stage", flat=True))) == 5
    assert set(Customer.objects.values_list("relationship_level", flat=True)) == {1, 2, 3, 4}
    names = " ".join(Customer.objects.values_list("display_name", flat=True))
    assert any(accented in names for accented in ("Núñez", "Begoña", "Ángela", "José"))
    assert "O'" in names
    assert Customer.objects.filter(display_name__endswith=" SL").exists()
    assert Customer.objects.filter(display_name__endswith="S.A. de C.V.").exists()
    assert "2,000 customers" in out.getvalue()


def test_demo_customers_keep_the_invariants_the_services_enforce(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    assert Customer.objects.count() == SMALL_DEMO
    _assert_account_executives_are_consistent()
    _assert_levels_climb_one_rung_at_a_time()
    for number in CustomerPhone.objects.values_list("number", flat=True):
        assert normalise_phone(number) == number
    for number in Contact.objects.values_list("phone", flat=True):
        assert normalise_phone(number) == number
    for address in CustomerEmail.objects.values_list("address", flat=True):
        assert normalise_email(address) == address
    assert not Customer.objects.annotate(n=Count("emails")).filter(n=0).exists()


def test_demo_customers_have_account_executive_histories_in_the_past(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    sales_reps = set(User.objects.filter(groups__name=roles.SALES, is_active=True))
    by_customer = defaultdict(list)
    for assignment in AccountExecutiveAssignment.objects.select_related("user").order_by(
        "started_at"
    ):
        by_customer[assignment.customer_id].append(assignment)
    assert any(len(history) >= 2 for history in by_customer.values())
    for history in by_customer.values():
        for earlier, later in itertools.pairwise(history):
            assert earlier.ended_at == later.started_at
            assert earlier.user_id != later.user_id
        assert history[-1].ended_at is None
        assert history[-1].user in sales_reps


def test_demo_organisations_have_one_to_four_contacts_with_one_primary(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    organisations = Customer.objects.annotate(
        contacts_n=Count("contacts"),
        primary_n=Count("contacts", filter=Q(contacts__is_primary=True)),
    )
    for customer in organisations:
        if customer.is_organisation:
            assert 1 <= customer.contacts_n <= 4
            assert customer.primary_n == 1
        else:
            assert customer.contacts_n == 0
    assert Contact.objects.filter(role__in=["Gerente", "Director financiero"]).exists()


def test_demo_tax_ids_look_right_for_their_country(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    for customer in Customer.objects.filter(country="ES"):
        if customer.is_organisation:
            assert customer.tax_id[0] in "AB"
            assert customer.tax_id == demo.spanish_cif(
                customer.tax_id[0], int(customer.tax_id[1:8])
            )
        else:
            assert customer.tax_id == demo.spanish_nif(int(customer.tax_id[:8]))
    for customer in Customer.objects.filter(country="CL"):
        number = int(customer.tax_id.split("-")[0].replace(".", ""))
        assert customer.tax_id == demo.chilean_rut(number)
    assert demo.chilean_rut(12_345_678) == "12.345.678-5"
    assert demo.spanish_nif(12_345_678) == "12345678Z"
    assert demo.spanish_cif("A", 5_881_850) == "A58818501"


def test_loading_the_demo_data_twice_changes_nothing(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    before = _table_counts()
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    assert _table_counts() == before
    assert "already there" in out.getvalue()
    assert "tendero-admin-demo" in out.getvalue()


def test_demo_data_is_the_same_every_time(demo_logins: list[tuple[str, str, str]]) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        return list(
            Customer.objects.order_by("external_id").values_list(
                "external_id", "display_name", "tax_id", "relationship_level", "account_executive"
            )
        )

    first = snapshot()
    Customer.objects.all().delete()
    demo.create_demo_data(customers=SMALL_DEMO)
    assert snapshot() == first


def test_seed_adds_customers_with_emails_phones_and_account_executives(db: None) -> None:
    out = StringIO()
    call_command("seed", customers=500, batch_size=200, stdout=out)
    assert Customer.objects.count() == 500
    assert "rows/s" in out.getvalue()
    assert CustomerEmail.objects.values("customer").distinct().count() == 500
    assert CustomerPhone.objects.values("customer").distinct().count() == 500
    assert not Customer.objects.filter(account_executive__isnull=True).exists()
    assert User.objects.filter(username__in=seeding.SEED_SALES_USERS).count() == 8
    assert Customer.tags.through.objects.exists()
    _assert_account_executives_are_consistent()
    _assert_levels_climb_one_rung_at_a_time()
    for number in CustomerPhone.objects.values_list("number", flat=True):
        assert normalise_phone(number) == number
    for address in CustomerEmail.objects.values_list("address", flat=True):
        assert normalise_email(address) == address


def test_seeding_twice_appends_with_new_ids_and_external_ids(db: None) -> None:
    first = seeding.seed_customers(300, batch_size=1000)
    second = seeding.seed_customers(300, batch_size=1000)
    assert second.first_id > first.last_id
    assert Customer.objects.count() == 600
    assert Customer.objects.values("external_id").distinct().count() == 600
    # The id sequence was moved past the seeded ids: ordinary inserts still work.
    customer = Customer.objects.create(kind="person", display_name="Zoë O'Brien")
    assert customer.pk > second.last_id


def test_seeded_phone_patterns_are_valid_for_any_digits() -> None:
    rng = random.Random(7)
    samples = [
        0,
        1,
        7,
        10**7 - 1,
        10**8 - 1,
        10**9 + 3,
        *(rng.randrange(10**9) for _ in range(300)),
    ]
    for *_fields, phone in seeding._COUNTRIES:
        for n in samples:
            assert normalise_phone(phone(n)) == phone(n)


def test_seed_refuses_an_empty_run(db: None) -> None:
    with pytest.raises(ValueError):
        seeding.seed_customers(0)
