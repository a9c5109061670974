"""Duplicate detection: set-based pairs by email, phone, tax id and name key (similar
names on PostgreSQL), large groups skipped, dismissals kept, live candidates."""

from collections.abc import Callable

import pytest
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from tendero.accounts.models import User
from tendero.core.errors import NotAllowed
from tendero.customers.models import Customer, CustomerEmail, CustomerPhone
from tendero.customers.search import name_key
from tendero.stewardship.duplicates import (
    MAX_GROUP,
    detect_duplicates,
    dismiss_duplicate_pair,
    duplicates_of,
)
from tendero.stewardship.models import DuplicatePair

MakeCustomer = Callable[..., Customer]


def pair_of(a: Customer, b: Customer) -> DuplicatePair:
    first, second = sorted([a.pk, b.pk])
    return DuplicatePair.objects.get(first_id=first, second_id=second)


def test_same_email_in_any_case_makes_a_pair(make_customer: MakeCustomer) -> None:
    a = make_customer(display_name="Ana Ruiz", emails=["ana@example.com"])
    b = make_customer(display_name="A. Ruiz Gil", emails=["other@example.com", "ANA@Example.com"])
    make_customer(display_name="Nobody Else", emails=["nobody@example.com"])

    assert detect_duplicates() == 1
    pair = pair_of(a, b)
    assert pair.reasons == ["email"]
    assert pair.score == 40
    assert pair.dismissed_at is None


def test_same_phone_tax_id_and_name_make_pairs_with_every_reason(
    make_customer: MakeCustomer,
) -> None:
    a = make_customer(
        display_name="García López, José", tax_id="B-12.345.678", phones=["+34612345678"]
    )
    b = make_customer(
        display_name="jose garcia lopez", tax_id="b12345678", phones=["+34 612 345 678"]
    )

    assert detect_duplicates() == 1
    pair = pair_of(a, b)
    assert pair.reasons == ["tax_id", "phone", "name"]
    assert pair.score == 100


def test_name_key_groups_use_the_search_helpers_key(make_customer: MakeCustomer) -> None:
    a = make_customer(display_name="Núñez Peña, María")
    b = make_customer(display_name="maria nunez pena")
    assert a.name_key == b.name_key == name_key("María Núñez Peña")

    detect_duplicates()

    assert pair_of(a, b).reasons == ["name"]


def test_a_key_shared_by_a_crowd_is_not_a_reason(make_customer: MakeCustomer) -> None:
    crowd = [
        make_customer(display_name=f"Branch {i}", phones=["+34910000000"])
        for i in range(MAX_GROUP + 1)
    ]
    a = make_customer(display_name="Switchboard Left", emails=["same@example.com"])
    b = make_customer(display_name="Switchboard Right", emails=["same@example.com"])
    CustomerPhone.objects.create(customer=a, number="+34910000000", position=1)

    assert detect_duplicates() == 1
    assert pair_of(a, b).reasons == ["email"]
    assert not DuplicatePair.objects.filter(first=crowd[0]).exists()


def test_a_group_of_exactly_the_limit_is_still_paired(make_customer: MakeCustomer) -> None:
    for i in range(MAX_GROUP):
        make_customer(display_name=f"Family member {i}", phones=["+34910000001"])

    assert detect_duplicates() == MAX_GROUP * (MAX_GROUP - 1) // 2


def test_dismissed_pairs_are_never_brought_back(make_customer: MakeCustomer, manager: User) -> None:
    a = make_customer(display_name="Twin One", emails=["twins@example.com"])
    b = make_customer(display_name="Twin Two", emails=["twins@example.com"])
    detect_duplicates()
    dismiss_duplicate_pair(manager, pair_of(a, b))

    CustomerPhone.objects.create(customer=a, number="+34600000009")
    CustomerPhone.objects.create(customer=b, number="+34600000009")
    assert detect_duplicates() == 0
    pair = pair_of(a, b)
    assert pair.dismissed_at is not None
    assert pair.dismissed_by == manager
    assert DuplicatePair.objects.count() == 1


def test_pairs_follow_the_data_reasons_updated_and_removed(make_customer: MakeCustomer) -> None:
    a = make_customer(display_name="Pablo Soto", emails=["pablo@example.com"])
    b = make_customer(display_name="Pablo Soto", emails=["pablo@example.com"])
    detect_duplicates()
    assert pair_of(a, b).reasons == ["email", "name"]

    CustomerEmail.objects.filter(customer=b).update(address="soto@example.com")
    assert detect_duplicates() == 1
    assert pair_of(a, b).reasons == ["name"]
    assert pair_of(a, b).score == 20

    Customer.objects.filter(pk=b.pk).update(name_key="pablo sotomayor")
    assert detect_duplicates() == 0
    assert not DuplicatePair.objects.exists()


def test_detection_is_safe_to_run_twice(make_customer: MakeCustomer) -> None:
    make_customer(display_name="Eva Mora", emails=["eva@example.com"])
    make_customer(display_name="Eva Mora", emails=["eva@example.com"])
    assert detect_duplicates() == 1
    first = list(DuplicatePair.objects.values())
    assert detect_duplicates() == 1
    assert list(DuplicatePair.objects.values()) == first


def test_detection_queries_do_not_grow_with_customers(
    make_customer: MakeCustomer, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for i in range(12):
        make_customer(display_name=f"Person {i % 4}", emails=[f"p{i % 6}@example.com"])
    with django_assert_max_num_queries(14):
        detect_duplicates()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm: PostgreSQL only")
def test_similar_names_pair_within_the_same_country_on_postgresql(
    make_customer: MakeCustomer,
) -> None:
    a = make_customer(display_name="José García López", country="ES")
    b = make_customer(display_name="Jose Garcia Lopes", country="ES")
    make_customer(display_name="Jose Garcia Lopes", country="PT")

    detect_duplicates()

    assert pair_of(a, b).reasons == ["similar_name"]
    assert pair_of(a, b).score == 10


# ---------------------------------------------------------------- live candidates


def test_duplicates_of_lists_live_candidates_strongest_first(
    make_customer: MakeCustomer,
    manager: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    me = make_customer(display_name="Lola Prieto", emails=["lola@example.com"], tax_id="X1234567L")
    by_email = make_customer(display_name="L. Prieto", emails=["LOLA@example.com"])
    by_tax = make_customer(display_name="Dolores P.", tax_id="x1234567l", phones=["+34600111222"])
    by_name = make_customer(display_name="Prieto, Lola")
    make_customer(display_name="Someone Else")
    me = Customer.objects.get(pk=me.pk)

    with django_assert_max_num_queries(4):
        candidates = duplicates_of(me, manager)

    assert [c.customer for c in candidates] == [by_tax, by_email, by_name]
    assert candidates[0].reasons == ["tax_id"]
    assert [str(label) for label in candidates[1].reason_labels] == ["Same email"]
    assert candidates[2].reasons == ["name"]


def test_duplicates_of_hides_what_the_user_cannot_see_and_dismissed_pairs(
    make_customer: MakeCustomer, sales: User, other_sales: User, manager: User
) -> None:
    me = make_customer(
        display_name="Iris Vega", account_executive=sales, emails=["iris@example.com"]
    )
    theirs = make_customer(
        display_name="Iris Vega", account_executive=other_sales, emails=["iris@example.com"]
    )
    mine = make_customer(display_name="Iris Vega", account_executive=sales)
    assert [c.customer for c in duplicates_of(me, sales)] == [mine]
    assert {c.customer for c in duplicates_of(me, manager)} == {theirs, mine}

    detect_duplicates()
    dismiss_duplicate_pair(manager, pair_of(me, mine))
    assert [c.customer for c in duplicates_of(me, manager)] == [theirs]


def test_duplicates_of_a_customer_with_nothing_in_common_is_empty(
    make_customer: MakeCustomer, manager: User
) -> None:
    alone = make_customer(display_name="Unique Name", emails=["unique@example.com"])
    assert duplicates_of(alone, manager) == []


# ---------------------------------------------------------------- dismissing


def test_reader_cannot_dismiss_a_pair(make_customer: MakeCustomer, reader: User) -> None:
    a = make_customer(display_name="Same", emails=["same@example.com"])
    b = make_customer(display_name="Same", emails=["same@example.com"])
    detect_duplicates()
    with pytest.raises(NotAllowed):
        dismiss_duplicate_pair(reader, pair_of(a, b))
    assert pair_of(a, b).dismissed_at is None


def test_dismissing_twice_keeps_the_first_dismissal(
    make_customer: MakeCustomer, manager: User, admin_user: User
) -> None:
    a = make_customer(display_name="Same", emails=["same@example.com"])
    b = make_customer(display_name="Same", emails=["same@example.com"])
    detect_duplicates()
    dismiss_duplicate_pair(manager, pair_of(a, b))
    dismiss_duplicate_pair(admin_user, pair_of(a, b))
    assert pair_of(a, b).dismissed_by == manager


def test_the_nightly_task_runs_detection(make_customer: MakeCustomer) -> None:
    from tendero.stewardship.tasks import detect_duplicate_customers

    make_customer(display_name="Night Owl", emails=["owl@example.com"])
    make_customer(display_name="Night Owl", emails=["owl@example.com"])
    assert detect_duplicate_customers.call_local() == 1
    assert DuplicatePair.objects.open().count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm: PostgreSQL only")
def test_live_candidates_include_similar_names_on_postgresql(
    make_customer: MakeCustomer,
    manager: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    me = make_customer(display_name="José García López", country="ES")
    similar = make_customer(display_name="Garcia Lopes, Jose", country="ES")
    make_customer(display_name="Jose Garcia Lopes", country="PT")
    make_customer(display_name="Ramón García Ortiz", country="ES")
    me = Customer.objects.get(pk=me.pk)

    with django_assert_max_num_queries(4):
        candidates = duplicates_of(me, manager)

    assert [(c.customer, c.reasons) for c in candidates] == [(similar, ["similar_name"])]
