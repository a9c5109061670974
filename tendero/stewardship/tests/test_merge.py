"""Merging a duplicate into its survivor: everything moves, nothing is lost, all audited."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.core.errors import InvalidData, NotAllowed, VersionConflict
from tendero.customers import services
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    RelationshipLevelChange,
    SearchToken,
)
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import PersonalFact
from tendero.stewardship.duplicates import detect_duplicates
from tendero.stewardship.merging import merge_customers
from tendero.stewardship.models import CustomerMerge, DuplicatePair

MakeCustomer = Callable[..., Customer]


def interact(customer: Customer, subject: str = "Call", **extra: object) -> Interaction:
    return Interaction.objects.create(
        customer=customer, channel="phone", direction="inbound", subject=subject, **extra
    )


def merge(by: User, survivor: Customer, duplicate: Customer, **kwargs: object) -> CustomerMerge:
    return merge_customers(
        by,
        survivor,
        duplicate,
        survivor_version=survivor.version,
        duplicate_version=duplicate.version,
        **kwargs,  # type: ignore[arg-type]
    )


def test_merge_moves_interactions_facts_contacts_and_level_changes(
    make_customer: MakeCustomer, manager: User
) -> None:
    survivor = make_customer(display_name="Acme S.L.", kind="organisation")
    duplicate = make_customer(display_name="ACME", kind="organisation")
    own = interact(survivor, "Survivor's call")
    moved = [interact(duplicate, f"Call {i}") for i in range(3)]
    contact = services.create_contact(manager, duplicate, {"first_name": "Rosa"})
    fact = PersonalFact.objects.create(customer=duplicate, kind="interest", text="Sailing")
    services.change_relationship_level(manager, duplicate, 2, "Bought twice")
    duplicate.refresh_from_db()

    record = merge(manager, survivor, duplicate)

    assert not Customer.objects.filter(pk=record.merged_customer_id).exists()
    assert set(Interaction.objects.filter(customer=survivor)) == {own, *moved}
    assert Contact.objects.get(pk=contact.pk).customer == survivor
    assert PersonalFact.objects.get(pk=fact.pk).customer == survivor
    assert RelationshipLevelChange.objects.filter(customer=survivor).count() == 1
    survivor.refresh_from_db()
    assert survivor.relationship_level == 1  # only the ladder moves the level
    assert record.survivor == survivor
    assert record.merged_by == manager
    assert record.merged_display_name == "ACME"
    assert record.snapshot["moved"]["dialogue.interaction.customer"] == 3


def test_merge_keeps_account_executive_history_with_one_current(
    make_customer: MakeCustomer, manager: User, sales: User, other_sales: User
) -> None:
    survivor = make_customer(display_name="Luis Mar", account_executive=sales)
    duplicate = make_customer(display_name="Luis Mar", account_executive=other_sales)

    merge(manager, survivor, duplicate)

    periods = list(AccountExecutiveAssignment.objects.filter(customer=survivor))
    assert len(periods) == 2
    current = [p for p in periods if p.ended_at is None]
    assert [p.user for p in current] == [sales]
    ended = next(p for p in periods if p.ended_at is not None)
    assert ended.user == other_sales
    survivor.refresh_from_db()
    assert survivor.account_executive == sales


def test_a_survivor_without_account_executive_takes_the_duplicates(
    make_customer: MakeCustomer, manager: User, sales: User
) -> None:
    survivor = make_customer(display_name="Nora Gil")
    duplicate = make_customer(display_name="Nora Gil", account_executive=sales)

    merge(manager, survivor, duplicate)

    survivor.refresh_from_db()
    assert survivor.account_executive == sales
    current = AccountExecutiveAssignment.objects.get(customer=survivor, ended_at__isnull=True)
    assert current.user == sales
    assert AccountExecutiveAssignment.objects.filter(customer=survivor).count() == 2


def test_merge_deduplicates_emails_and_phones_and_unites_tags(
    make_customer: MakeCustomer, manager: User
) -> None:
    survivor = make_customer(
        display_name="Marta Ríos",
        emails=["marta@example.com"],
        phones=["+34600000001"],
        tags=["vip"],
    )
    duplicate = make_customer(
        display_name="Marta Rios",
        emails=["other@example.com", "marta@example.com"],
        phones=["+34600000001", "+34600000002"],
        tags=["vip", "golf"],
    )

    merge(manager, survivor, duplicate)

    survivor = Customer.objects.get(pk=survivor.pk)
    assert [e.address for e in survivor.emails.all()] == ["marta@example.com", "other@example.com"]
    assert [p.number for p in survivor.phones.all()] == ["+34600000001", "+34600000002"]
    assert sorted(t.name for t in survivor.tags.all()) == ["golf", "vip"]
    assert survivor.primary_email == "marta@example.com"


def test_merge_snapshot_keeps_the_duplicate_as_it_was(
    make_customer: MakeCustomer, manager: User
) -> None:
    survivor = make_customer(display_name="Pedro Sanz")
    duplicate = make_customer(
        display_name="P. Sanz", emails=["pedro@example.com"], tags=["golf"], city="Soria"
    )

    record = merge(manager, survivor, duplicate)

    record.refresh_from_db()
    assert record.snapshot["fields"]["display_name"] == "P. Sanz"
    assert record.snapshot["fields"]["city"] == "Soria"
    assert record.snapshot["emails"] == ["pedro@example.com"]
    assert record.snapshot["tags"] == ["golf"]


def test_merge_applies_field_choices_and_keeps_the_rest(
    make_customer: MakeCustomer, manager: User
) -> None:
    survivor = make_customer(display_name="Old Name", city="Madrid", country="ES", tax_id="")
    duplicate = make_customer(display_name="Right Name", city="Toledo", country="ES", tax_id="X1")

    merge(
        manager,
        survivor,
        duplicate,
        field_choices={"display_name": "duplicate", "city": "survivor", "tax_id": "duplicate"},
    )

    survivor.refresh_from_db()
    assert survivor.display_name == "Right Name"
    assert survivor.city == "Madrid"
    assert survivor.tax_id == "X1"
    assert survivor.name_key == "name right"
    assert SearchToken.objects.filter(customer=survivor, token="right").exists()


def test_merge_keeps_the_later_last_interaction_and_an_external_id(
    make_customer: MakeCustomer, manager: User
) -> None:
    now = timezone.now()
    survivor = make_customer(display_name="Ana")
    duplicate = make_customer(display_name="Ana", external_id="ERP-1")
    Customer.objects.filter(pk=survivor.pk).update(last_interaction_at=now - timedelta(days=9))
    Customer.objects.filter(pk=duplicate.pk).update(last_interaction_at=now)
    survivor.refresh_from_db()
    duplicate.refresh_from_db()

    merge(manager, survivor, duplicate)

    survivor.refresh_from_db()
    assert survivor.last_interaction_at == now
    assert survivor.external_id == "ERP-1"


def test_merge_keeps_the_survivors_external_id(make_customer: MakeCustomer, manager: User) -> None:
    survivor = make_customer(display_name="Ana", external_id="ERP-1")
    duplicate = make_customer(display_name="Ana", external_id="ERP-2")
    record = merge(manager, survivor, duplicate)
    survivor.refresh_from_db()
    assert survivor.external_id == "ERP-1"
    assert record.snapshot["fields"]["external_id"] == "ERP-2"


def test_merge_repoints_the_history_and_writes_a_merge_entry(
    make_customer: MakeCustomer, manager: User
) -> None:
    survivor = make_customer(display_name="Carla")
    duplicate = make_customer(display_name="Carla D.", emails=["carla@example.com"])
    duplicate_id = duplicate.pk
    history = set(AuditEntry.objects.filter(customer_id=duplicate_id).values_list("pk", flat=True))
    assert history

    record = merge(manager, survivor, duplicate)

    assert not AuditEntry.objects.filter(customer_id=duplicate_id).exists()
    survivor_history = AuditEntry.objects.filter(customer_id=survivor.pk)
    assert history <= set(survivor_history.values_list("pk", flat=True))
    merge_entry = survivor_history.get(
        content_type__model="customermerge", object_id=record.pk, action=0
    )
    assert merge_entry.actor == manager
    deleted = survivor_history.get(content_type__model="customer", object_id=duplicate_id, action=2)
    assert deleted.actor == manager


def test_merge_removes_pairs_involving_the_duplicate(
    make_customer: MakeCustomer, manager: User
) -> None:
    survivor = make_customer(display_name="Same Person", emails=["same@example.com"])
    duplicate = make_customer(display_name="Same Person", emails=["same@example.com"])
    make_customer(display_name="Same Person")
    detect_duplicates()
    assert DuplicatePair.objects.count() == 3

    merge(manager, survivor, duplicate)

    assert DuplicatePair.objects.count() == 1
    assert detect_duplicates() == 1


def test_merge_queries_do_not_grow_with_the_history_moved(
    make_customer: MakeCustomer,
    manager: User,
) -> None:
    counts = []
    for size in (1, 12):
        survivor = make_customer(display_name="Survivor")
        duplicate = make_customer(display_name="Duplicate")
        for i in range(size):
            interact(duplicate, f"Call {i}")
            PersonalFact.objects.create(customer=duplicate, kind="note", text=f"Fact {i}")
        with CaptureQueriesContext(connection) as queries:
            merge(manager, survivor, duplicate)
        counts.append(len(queries))
        assert Interaction.objects.filter(customer=survivor).count() == size
    assert counts[0] == counts[1]


def test_stale_versions_are_refused_and_nothing_moves(
    make_customer: MakeCustomer, manager: User
) -> None:
    survivor = make_customer(display_name="Rosa")
    duplicate = make_customer(display_name="Rosa")
    call = interact(duplicate)
    services.update_customer(manager, duplicate, duplicate.version, {"city": "Lugo"})

    with pytest.raises(VersionConflict):
        merge_customers(
            manager,
            survivor,
            duplicate,
            survivor_version=survivor.version,
            duplicate_version=duplicate.version - 1,
        )

    assert Customer.objects.filter(pk=duplicate.pk).exists()
    assert Interaction.objects.get(pk=call.pk).customer_id == duplicate.pk
    assert Customer.objects.get(pk=survivor.pk).version == survivor.version
    assert not CustomerMerge.objects.exists()


def test_sales_rep_cannot_merge(make_customer: MakeCustomer, sales: User) -> None:
    survivor = make_customer(display_name="Mine", account_executive=sales)
    duplicate = make_customer(display_name="Mine too", account_executive=sales)
    with pytest.raises(NotAllowed):
        merge(sales, survivor, duplicate)
    assert Customer.objects.filter(pk=duplicate.pk).exists()


def test_merging_needs_both_customers_in_scope(
    make_customer: MakeCustomer, manager: User, sales: User
) -> None:
    # A manager-like user limited to a portfolio: merge permission without seeing all.
    from django.contrib.auth.models import Permission

    sales.user_permissions.add(Permission.objects.get(codename="merge_customers"))
    sales = User.objects.get(pk=sales.pk)
    mine = make_customer(display_name="Mine", account_executive=sales)
    not_mine = make_customer(display_name="Mine")
    with pytest.raises(NotAllowed):
        merge(sales, mine, not_mine)
    other = make_customer(display_name="Also mine", account_executive=sales)
    merge(sales, mine, other)
    assert not Customer.objects.filter(pk=other.pk).exists()


def test_a_customer_cannot_be_merged_with_itself(
    make_customer: MakeCustomer, manager: User
) -> None:
    customer = make_customer()
    with pytest.raises(InvalidData):
        merge(manager, customer, customer)


def test_unknown_field_choices_are_refused(make_customer: MakeCustomer, manager: User) -> None:
    survivor = make_customer()
    duplicate = make_customer()
    with pytest.raises(InvalidData) as error:
        merge(
            manager,
            survivor,
            duplicate,
            field_choices={"relationship_level": "duplicate", "city": "both"},
        )
    assert set(error.value.field_errors) == {
        "field_choices.relationship_level",
        "field_choices.city",
    }
    assert Customer.objects.filter(pk=duplicate.pk).exists()


def test_merge_keeps_one_primary_contact(make_customer: MakeCustomer, manager: User) -> None:
    survivor = make_customer(display_name="Acme", kind="organisation")
    duplicate = make_customer(display_name="ACME", kind="organisation")
    mine = services.create_contact(manager, survivor, {"first_name": "Ana", "is_primary": True})
    theirs = services.create_contact(manager, duplicate, {"first_name": "Bea", "is_primary": True})
    duplicate.refresh_from_db()

    merge(manager, survivor, duplicate)

    assert list(Contact.objects.filter(customer=survivor, is_primary=True)) == [mine]
    assert Contact.objects.get(pk=theirs.pk).customer == survivor
