"""Search as you type: normalisation, the token index kept by the services, and
matching (prefixes, several words, accents, phones, emails, tax ids, scope)."""

import importlib
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from tendero.accounts.models import User
from tendero.customers import search, services
from tendero.customers.models import Customer, SearchToken
from tendero.customers.search import (
    index_customers,
    name_key,
    normalise,
    parse_query,
    prefix_upper_bound,
    search_customers,
    tokens_for,
    tokens_from,
    words,
)

MakeCustomer = Callable[..., Customer]


def tokens(customer: Customer) -> set[str]:
    return set(SearchToken.objects.filter(customer=customer).values_list("token", flat=True))


def names(results: list[Customer]) -> list[str]:
    return [customer.display_name for customer in results]


# ------------------------------------------------------------ normalisation


@pytest.mark.parametrize("text", ["José", "JOSÉ", "jose", "Jose\u0301", "\uff2a\uff2f\uff33\uff25"])
def test_accents_case_and_width_are_ignored(text: str) -> None:
    assert normalise(text) == "jose"


def test_spanish_and_german_letters_are_reduced() -> None:
    assert normalise("Muñoz Peña") == "munoz pena"
    assert normalise("Straße") == "strasse"
    assert words("Ángela Çelik-Øster, İpek") == ["angela", "celik", "øster", "ipek"]


def test_name_key_sorts_the_words_of_a_name() -> None:
    assert name_key("García López, José") == name_key("jose garcia lopez") == "garcia jose lopez"
    assert name_key("") == ""


def test_emails_give_the_whole_address_and_the_local_part() -> None:
    found = tokens_from(emails=["Jose.Perez@Example.com"])
    assert {"jose.perez@example.com", "jose.perez", "jose", "perez"} <= found
    assert "example" not in found  # every customer of a big provider would match


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+34612345678", {"34612345678", "612345678"}),
        ("+447700900123", {"447700900123", "7700900123", "07700900123"}),
    ],
)
def test_phones_give_international_and_national_digits(number: str, expected: set[str]) -> None:
    assert expected <= tokens_from(phones=[number])


@pytest.mark.parametrize("tax_id", ["B-12.345.678", "b 12345678", "B12345678"])
def test_tax_ids_lose_case_spaces_dots_and_dashes(tax_id: str) -> None:
    assert "b12345678" in tokens_from(tax_id=tax_id)


def test_names_joined_by_apostrophes_or_dashes_are_also_one_word() -> None:
    found = tokens_from(display_name="Seán O'Brien García-López")
    assert {"sean", "o", "brien", "obrien", "garcia", "lopez", "garcialopez"} <= found


def test_adjacent_words_of_a_name_are_also_a_pair_token() -> None:
    found = tokens_from(display_name="José García-López", preferred_name="Pepe Gil")
    assert {"jose garcia", "garcia lopez", "pepe gil"} <= found
    assert "lopez pepe" not in found  # never across two names
    assert not {t for t in tokens_from(emails=["ana.gil@example.com"]) if " " in t}
    assert search.pair_tokens("Ana") == set()


def test_tokens_are_cut_to_the_column_length() -> None:
    assert max(len(t) for t in tokens_from(display_name="x" * 150)) == 100


@pytest.mark.parametrize(
    ("query", "expected", "kind"),
    [
        ("JOSÉ per", ("jose", "per"), "words"),
        ("per josé", ("jose", "per"), "words"),  # the longest word drives the scan
        ("+34 (612) 345-678", ("34612345678",), "number"),
        ("612 34", ("61234",), "number"),
        ("B-12.345.678", ("b12345678",), "words"),
        ("12345678 Z", ("12345678z",), "words"),
        ("Jose.Perez@Ex", ("jose.perez@ex",), "email"),
        ("studio 54", ("studio", "54"), "words"),
        ("...", (), "words"),
        ("", (), "words"),
        ("  @  ", (), "email"),
        ("a\x00b", ("ab",), "words"),
    ],
)
def test_queries_are_reduced_like_tokens(query: str, expected: tuple[str, ...], kind: str) -> None:
    parsed = parse_query(query)
    assert parsed.words == expected
    if expected:
        assert parsed.kind == kind


def test_queries_keep_the_typed_order_for_pair_tokens() -> None:
    parsed = parse_query("per JOSÉ ortega")
    assert parsed.typed == ("per", "jose", "ortega")
    assert search.pair_prefix(parsed) == "jose ortega"
    assert search.pair_prefix(parse_query("josé")) is None
    assert search.pair_prefix(parse_query("Jose.Perez@Ex")) is None
    assert search.pair_prefix(parse_query("o'b")) == "o b"


def test_prefix_upper_bound_is_the_next_string_after_every_prefixed_one() -> None:
    assert prefix_upper_bound("jos") == "jot"
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff") is None
    assert prefix_upper_bound("\ud7ff") == "\ue000"


# ------------------------------------------------------------ the index


def test_creating_a_customer_indexes_it(make_customer: MakeCustomer) -> None:
    customer = make_customer(
        display_name="José Pérez",
        preferred_name="Pepe",
        tax_id="12345678-Z",
        emails=["jose@example.com"],
        phones=["+34612345678"],
    )
    assert {"jose", "perez", "pepe", "12345678z", "jose@example.com", "612345678"} <= tokens(
        customer
    )
    customer.refresh_from_db()
    assert customer.name_key == "jose perez"


def test_updating_a_customer_replaces_its_tokens(
    manager: User, make_customer: MakeCustomer
) -> None:
    customer = make_customer(display_name="José Pérez", emails=["jose@example.com"])
    services.update_customer(
        manager,
        customer,
        customer.version,
        {"display_name": "Josefa Ruiz", "emails": ["josefa@example.com"]},
    )
    assert "perez" not in tokens(customer)
    assert "jose@example.com" not in tokens(customer)
    assert {"josefa", "ruiz", "josefa@example.com"} <= tokens(customer)
    assert customer.name_key == "josefa ruiz"
    customer.refresh_from_db()
    assert customer.name_key == "josefa ruiz"


def test_deleting_a_customer_removes_its_tokens(manager: User, make_customer: MakeCustomer) -> None:
    customer = make_customer()
    customer_id = customer.pk
    services.delete_customer(manager, customer)
    assert not SearchToken.objects.filter(customer_id=customer_id).exists()


def test_contacts_find_their_organisation(manager: User, make_customer: MakeCustomer) -> None:
    firm = make_customer(display_name="Talleres Ruiz", kind="organisation")
    contact = services.create_contact(
        manager, firm, {"first_name": "Íñigo", "last_name": "Montoya", "preferred_name": "Iñi"}
    )
    assert {"inigo", "montoya", "ini"} <= tokens(firm)
    assert names(search_customers(manager, "inigo mont")) == ["Talleres Ruiz"]

    services.update_contact(manager, contact, contact.version, {"last_name": "Arana"})
    assert "montoya" not in tokens(firm)
    assert names(search_customers(manager, "arana")) == ["Talleres Ruiz"]

    services.delete_contact(manager, contact)
    assert not {"inigo", "arana", "ini"} & tokens(firm)
    assert search_customers(manager, "arana") == []


def test_index_customers_is_idempotent_and_repairs_the_index(
    make_customer: MakeCustomer,
) -> None:
    first = make_customer(display_name="Ana Gil", emails=["ana@example.com"])
    second = make_customer(display_name="Luis Mora")
    expected = {first.pk: tokens(first), second.pk: tokens(second)}
    SearchToken.objects.filter(customer=first).delete()
    SearchToken.objects.create(customer=second, token="stale")
    Customer.objects.filter(pk=first.pk).update(name_key="")

    assert index_customers() == 2
    assert index_customers([first.pk, second.pk]) == 2
    assert tokens(first) == expected[first.pk]
    assert tokens(second) == expected[second.pk]
    first.refresh_from_db()
    assert first.name_key == "ana gil"
    assert index_customers([]) == 0


def test_tokens_for_reads_prefetched_relations(
    make_customer: MakeCustomer, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    make_customer(display_name="Ana Gil", emails=["ana@example.com"], phones=["+34612345678"])
    customer = Customer.objects.prefetch_related("emails", "phones", "contacts").get()
    with django_assert_num_queries(0):
        found = tokens_for(customer)
    assert {"ana", "gil", "ana@example.com", "34612345678"} <= found


def test_backfill_migration_indexes_existing_customers(make_customer: MakeCustomer) -> None:
    customers = [make_customer(display_name=f"Cliente Número {n}") for n in range(3)]
    expected = {c.pk: tokens(c) for c in customers}
    SearchToken.objects.all().delete()
    Customer.objects.update(name_key="")
    migration = importlib.import_module("tendero.customers.migrations.0008_backfill_search_tokens")
    schema_editor = SimpleNamespace(connection=connection)
    migration.backfill_search_tokens(apps, schema_editor)
    migration.backfill_search_tokens(apps, schema_editor)  # twice: nothing doubles
    for n, customer in enumerate(customers):
        assert tokens(customer) == expected[customer.pk]
        customer.refresh_from_db()
        assert customer.name_key == f"{n} cliente numero"


def test_pair_token_migration_indexes_existing_customers(make_customer: MakeCustomer) -> None:
    customer = make_customer(display_name="José García López")
    SearchToken.objects.filter(token__contains=" ").delete()
    migration = importlib.import_module("tendero.customers.migrations.0009_search_pair_tokens")
    schema_editor = SimpleNamespace(connection=connection)
    migration.add_pair_tokens(apps, schema_editor)
    migration.add_pair_tokens(apps, schema_editor)
    assert {"jose garcia", "garcia lopez"} <= tokens(customer)
    assert tokens(customer) == tokens_for(customer)


# ------------------------------------------------------------ matching


@pytest.fixture
def people(make_customer: MakeCustomer, manager: User) -> dict[str, Customer]:
    return {
        "jose": make_customer(
            display_name="José Pérez",
            emails=["jose.perez@example.com"],
            phones=["+34612345678"],
            tax_id="12345678Z",
        ),
        "josefa": make_customer(display_name="Josefa Muñoz", preferred_name="Pepa"),
        "joseba": make_customer(display_name="Joseba Pérez", emails=["joseba@example.net"]),
        "maria": make_customer(
            display_name="María Jose Ortega", kind="organisation", tax_id="B-98.765.432"
        ),
        "strauss": make_customer(display_name="Straße GmbH", kind="organisation"),
    }


def test_a_prefix_lists_matches_alphabetically_by_the_word_that_matched(
    manager: User, people: dict[str, Customer]
) -> None:
    assert names(search_customers(manager, "jos")) == [
        "José Pérez",
        "María Jose Ortega",
        "Joseba Pérez",
        "Josefa Muñoz",
    ]


def test_exact_words_come_before_longer_ones(manager: User, people: dict[str, Customer]) -> None:
    assert names(search_customers(manager, "jose"))[:2] == ["José Pérez", "María Jose Ortega"]


@pytest.mark.parametrize("query", ["jose perez", "JOSÉ PÉR", "perez jose", "pér jos"])
def test_every_word_must_match(manager: User, people: dict[str, Customer], query: str) -> None:
    assert set(names(search_customers(manager, query))) == {"José Pérez", "Joseba Pérez"}


def test_accents_in_the_data_or_the_query_do_not_matter(
    manager: User, people: dict[str, Customer]
) -> None:
    assert names(search_customers(manager, "munoz")) == ["Josefa Muñoz"]
    assert names(search_customers(manager, "MUÑ")) == ["Josefa Muñoz"]
    assert names(search_customers(manager, "maría")) == ["María Jose Ortega"]
    assert names(search_customers(manager, "strasse")) == ["Straße GmbH"]
    assert names(search_customers(manager, "straß")) == ["Straße GmbH"]


@pytest.mark.parametrize(
    "query", ["+34 612 345 678", "612345", "34612", "(612) 34-56", "jose.perez@", "JOSE.PEREZ@EX"]
)
def test_phones_and_emails_are_found_by_their_beginning(
    manager: User, people: dict[str, Customer], query: str
) -> None:
    assert names(search_customers(manager, query)) == ["José Pérez"]


@pytest.mark.parametrize("query", ["12345678z", "12345678-Z", "1234"])
def test_tax_ids_are_found_however_they_are_written(
    manager: User, people: dict[str, Customer], query: str
) -> None:
    assert names(search_customers(manager, query)) == ["José Pérez"]


def test_a_formatted_tax_id_is_found(manager: User, people: dict[str, Customer]) -> None:
    assert names(search_customers(manager, "b98765432")) == ["María Jose Ortega"]
    assert names(search_customers(manager, "B-98.765")) == ["María Jose Ortega"]


def test_preferred_names_are_found(manager: User, people: dict[str, Customer]) -> None:
    assert names(search_customers(manager, "pepa")) == ["Josefa Muñoz"]


@pytest.mark.parametrize("query", ["", "   ", "...", "-", "@", "¿?", "\x00"])
def test_nothing_to_search_for_finds_nothing(
    manager: User, people: dict[str, Customer], query: str
) -> None:
    assert search_customers(manager, query) == []


def test_no_match_finds_nothing(manager: User, people: dict[str, Customer]) -> None:
    assert search_customers(manager, "zzz") == []
    assert search_customers(manager, "jose zzz") == []


def test_the_limit_is_kept_and_each_customer_comes_once(
    manager: User, make_customer: MakeCustomer
) -> None:
    for n in range(12):
        # Many tokens per customer starting with "jo": the result is still one per customer.
        make_customer(display_name=f"Jo{n:02} Joa Job Joc Jod Joe", preferred_name="Jolie")
    results = search_customers(manager, "jo", limit=5)
    assert len(results) == 5
    assert len({c.pk for c in results}) == 5
    everyone = search_customers(manager, "jo", limit=50)
    assert len(everyone) == 12
    assert search_customers(manager, "jo", limit=500) == everyone  # capped at 50
    assert len(search_customers(manager, "jo", limit=0)) == 1


def test_results_carry_what_a_result_shows(manager: User, people: dict[str, Customer]) -> None:
    [jose] = search_customers(manager, "jose per", limit=1)
    assert jose.primary_email_address == "jose.perez@example.com"  # type: ignore[attr-defined]
    assert jose.primary_phone_number == "+34612345678"  # type: ignore[attr-defined]
    assert jose.matched_token in {"jose", "perez", "jose perez"}  # type: ignore[attr-defined]


def test_search_runs_a_bounded_number_of_queries(
    manager: User,
    make_customer: MakeCustomer,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(30):
        make_customer(
            display_name=f"Cliente {n}", emails=[f"c{n}@example.com"], phones=["+34612345678"]
        )
    manager = User.objects.get(pk=manager.pk)
    manager.has_perm("customers.view_all_customers")  # permissions cached, as in a request
    with django_assert_max_num_queries(3):
        results = search_customers(manager, "cliente", limit=50)
    assert len(results) == 30
    with django_assert_max_num_queries(2):  # words in a name's order: one pair range
        assert len(search_customers(manager, "cliente 1", limit=10)) == 10
    # Out of order: the pair range, the count of each word, the intersection, the rows.
    with django_assert_max_num_queries(4):
        search_customers(manager, "cli 61234", limit=10)


# ------------------------------------------------------------ scope


def test_a_sales_rep_finds_only_their_portfolio(
    sales: User, other_sales: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Jose Mine", account_executive=sales)
    make_customer(display_name="Jose Theirs", account_executive=other_sales)
    make_customer(display_name="Jose Nobody's")
    assert names(search_customers(sales, "jose")) == ["Jose Mine"]
    assert names(search_customers(other_sales, "jose")) == ["Jose Theirs"]


def test_people_without_access_find_nothing(
    outsider: User, manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Jose")
    assert search_customers(outsider, "jose") == []
    assert names(search_customers(manager, "jose")) == ["Jose"]


def test_the_customer_list_filter_uses_the_tokens(
    manager: User, people: dict[str, Customer]
) -> None:
    def listed(q: str) -> set[str]:
        return {c.display_name for c in Customer.objects.visible_to(manager).search(q)}

    assert listed("jose perez") == {"José Pérez", "Joseba Pérez"}
    assert listed("munoz") == {"Josefa Muñoz"}
    assert listed("+34 612") == {"José Pérez"}
    assert listed("") == set(c.display_name for c in people.values())
    assert listed("...") == set()


@pytest.mark.parametrize("sample", [1, 2, 30_000])
def test_common_and_rare_words_match_alike(
    manager: User, people: dict[str, Customer], monkeypatch: pytest.MonkeyPatch, sample: int
) -> None:
    # Words with fewer tokens than the sample are hashed, the others checked per customer.
    monkeypatch.setattr(search, "RANGE_SAMPLE", sample)
    assert set(names(search_customers(manager, "jose per"))) == {"José Pérez", "Joseba Pérez"}
    assert names(search_customers(manager, "jos muñ")) == ["Josefa Muñoz"]
    assert search_customers(manager, "jos ortiz") == []
    assert names(search_customers(manager, "ort mar jos")) == ["María Jose Ortega"]


def test_words_in_a_names_order_list_those_names_first(
    manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="García José")  # both words, not in the typed order
    make_customer(display_name="José García")
    make_customer(display_name="Josefa Garcés")
    make_customer(display_name="José Ruiz", preferred_name="Garcilaso")
    found = names(search_customers(manager, "josé garc"))
    assert found[0] == "José García"  # the pair "jose garcia" first
    # then the intersection, each customer once
    assert sorted(found[1:]) == sorted(["García José", "José Ruiz", "Josefa Garcés"])
    assert names(search_customers(manager, "josé garc", limit=1)) == ["José García"]
    assert set(names(search_customers(manager, "garcía, josé"))) == {"García José", "José García"}
    assert len(search_customers(manager, "jos gar")) == 4


def test_three_words_use_the_last_pair_and_check_the_first_word(
    manager: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="María José García López")
    make_customer(display_name="Ana García López")
    assert names(search_customers(manager, "maría garcía lóp")) == ["María José García López"]
    assert names(search_customers(manager, "jose garcia lo")) == ["María José García López"]
    assert search_customers(manager, "pedro garcia lopez") == []


def test_pair_matches_keep_a_sales_reps_scope(
    sales: User, other_sales: User, make_customer: MakeCustomer
) -> None:
    make_customer(display_name="Jose Garcia", account_executive=sales)
    make_customer(display_name="Jose Garcia", account_executive=other_sales)
    make_customer(display_name="Garcia Jose", account_executive=other_sales)
    assert len(search_customers(sales, "jose garcia")) == 1
    assert len(search_customers(other_sales, "jose garcia")) == 2


@pytest.mark.parametrize(("candidate_rows", "max_in_list"), [(1, 10), (3, 10), (50, 1), (50, 10)])
def test_the_list_filter_matches_alike_through_ids_or_per_row(
    manager: User,
    sales: User,
    make_customer: MakeCustomer,
    monkeypatch: pytest.MonkeyPatch,
    candidate_rows: int,
    max_in_list: int,
) -> None:
    # Up to CANDIDATE_ROWS token rows, the list is narrowed to the matching ids; past
    # it, every row is checked on its own tokens. Both give the same customers.
    monkeypatch.setattr(search, "CANDIDATE_ROWS", candidate_rows)
    monkeypatch.setattr(search, "MAX_IN_LIST", max_in_list)
    make_customer(display_name="José García", account_executive=sales)
    make_customer(display_name="García José")
    make_customer(display_name="Josefa Ruiz", emails=["jgarcia@example.com"])
    make_customer(display_name="Ana López")

    def listed(user: User, q: str) -> list[str]:
        return sorted(
            Customer.objects.visible_to(user).search(q).values_list("display_name", flat=True)
        )

    assert listed(manager, "josé garcía") == sorted(["García José", "José García"])
    assert listed(manager, "jos") == sorted(["García José", "José García", "Josefa Ruiz"])
    assert listed(manager, "jgarcia") == ["Josefa Ruiz"]
    assert listed(sales, "garc") == ["José García"]
    assert listed(manager, "zzz") == []
    assert listed(manager, "ana zzz") == []
    assert Customer.objects.visible_to(manager).search("gar").count() == 2
