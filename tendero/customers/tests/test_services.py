from datetime import timedelta

import pytest
from django.utils import timezone

from tendero.audit.models import AuditEntry
from tendero.core.errors import InvalidData, NotAllowed, VersionConflict
from tendero.customers import services
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    LifecycleStage,
    RelationshipLevel,
)


def test_creating_a_customer_normalises_phones_and_emails(manager):
    customer = services.create_customer(
        manager,
        {
            "kind": "person",
            "display_name": "  Begoña Núñez ",
            "preferred_name": "Bego",
            "emails": ["bego@Example.COM", "bego@example.com"],
            "phones": ["612 34 56 78", "+52 55 1234 5678"],
            "country": "es",
            "currency": "eur",
            "language": "es",
        },
    )
    assert customer.display_name == "Begoña Núñez"
    assert [e.address for e in customer.emails.all()] == ["bego@example.com"]
    assert [p.number for p in customer.phones.all()] == ["+34612345678", "+525512345678"]
    assert customer.country == "ES"
    assert customer.currency == "EUR"
    assert customer.address_name == "Bego"


def test_invalid_fields_are_all_reported_and_nothing_is_written(manager):
    with pytest.raises(InvalidData) as caught:
        services.create_customer(
            manager,
            {
                "kind": "robot",
                "display_name": "x" * 201,
                "emails": ["not-an-email"],
                "phones": ["12"],
                "country": "XX",
                "currency": "ZZZ",
                "nickname": "typo",
            },
        )
    errors = caught.value.field_errors
    assert set(errors) == {
        "kind",
        "display_name",
        "emails",
        "phones",
        "country",
        "currency",
        "nickname",
    }
    assert Customer.objects.count() == 0


def test_a_sales_rep_who_creates_a_customer_becomes_their_account_executive(sales):
    customer = services.create_customer(sales, {"kind": "person", "display_name": "Zoë O'Brien"})
    assert customer.account_executive == sales
    assert Customer.objects.visible_to(sales).filter(pk=customer.pk).exists()


def test_a_sales_rep_cannot_hand_a_new_customer_to_someone_else(sales, other_sales):
    with pytest.raises(NotAllowed):
        services.create_customer(
            sales, {"kind": "person", "display_name": "Ana"}, account_executive=other_sales
        )


def test_read_only_roles_cannot_create_or_change_customers(reader, marketer, make_customer):
    customer = make_customer()
    for user in (reader, marketer):
        with pytest.raises(NotAllowed):
            services.create_customer(user, {"kind": "person", "display_name": "Nadie"})
        with pytest.raises(NotAllowed):
            services.update_customer(user, customer, customer.version, {"city": "Cádiz"})
    customer.refresh_from_db()
    assert customer.city == ""


def test_sales_reps_see_only_their_own_portfolio(sales, other_sales, manager, make_customer):
    mine = make_customer(display_name="Mío", account_executive=sales)
    theirs = make_customer(display_name="Suyo", account_executive=other_sales)
    assert list(Customer.objects.visible_to(sales)) == [mine]
    assert set(Customer.objects.visible_to(manager)) == {mine, theirs}


def test_users_without_a_role_see_nothing(outsider, make_customer):
    make_customer()
    assert not Customer.objects.visible_to(outsider).exists()


def test_an_edit_based_on_a_stale_version_is_refused_and_overwrites_nothing(
    manager, sales, make_customer
):
    customer = make_customer(account_executive=sales)
    stale_version = customer.version
    services.update_customer(manager, customer, stale_version, {"city": "Sevilla"})
    with pytest.raises(VersionConflict) as caught:
        services.update_customer(sales, customer, stale_version, {"city": "Bilbao"})
    assert caught.value.current_version == stale_version + 1
    customer.refresh_from_db()
    assert customer.city == "Sevilla"


def test_updates_are_audited_with_actor_and_before_and_after(manager, make_customer):
    customer = make_customer(city="Lima")
    services.update_customer(
        manager, customer, customer.version, {"city": "Quito", "tags": ["VIP"]}
    )
    entries = AuditEntry.objects.for_customer(customer.pk)
    city_change = next(e for e in entries if e.changes and "city" in e.changes)
    assert city_change.actor == manager
    assert city_change.changes["city"] == ["Lima", "Quito"]
    assert any(e.changes and "tags" in e.changes for e in entries)


def test_a_deleted_customer_leaves_an_audit_entry(manager, make_customer):
    customer = make_customer()
    customer_id = customer.pk
    services.delete_customer(manager, customer)
    assert AuditEntry.objects.filter(
        customer_id=customer_id, action=AuditEntry.Action.DELETE
    ).exists()


def test_only_roles_with_delete_permission_can_delete(sales, service_agent, make_customer):
    customer = make_customer(account_executive=sales)
    for user in (sales, service_agent):
        with pytest.raises(NotAllowed):
            services.delete_customer(user, customer)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_relationship_level_moves_one_step_at_a_time_with_a_reason(manager, make_customer):
    customer = make_customer()
    with pytest.raises(InvalidData):
        services.change_relationship_level(
            manager, customer, RelationshipLevel.RELATIONSHIP, "Big deal"
        )
    with pytest.raises(InvalidData):
        services.change_relationship_level(manager, customer, RelationshipLevel.SOLUTIONS, "  ")
    change = services.change_relationship_level(
        manager, customer, RelationshipLevel.SOLUTIONS, "Needs documented and a solution delivered"
    )
    customer.refresh_from_db()
    assert customer.relationship_level == RelationshipLevel.SOLUTIONS
    assert change.changed_by == manager
    assert change.is_promotion
    services.change_relationship_level(
        manager, customer, RelationshipLevel.PRODUCT, "Promise broken"
    )
    assert list(customer.level_changes.values_list("to_level", flat=True)) == [1, 2]


def test_account_executive_history_keeps_every_period(manager, sales, other_sales, make_customer):
    customer = make_customer(account_executive=sales)
    services.assign_account_executive(manager, customer, other_sales, "Territory change")
    history = list(AccountExecutiveAssignment.objects.filter(customer=customer).order_by("id"))
    assert [a.user for a in history] == [sales, other_sales]
    assert history[0].ended_at is not None
    assert history[1].ended_at is None
    customer.refresh_from_db()
    assert customer.account_executive == other_sales
    assert history[0].tenure_days() == 0


def test_tenure_counts_days_since_the_assignment_started(manager, sales, make_customer):
    customer = make_customer(account_executive=sales)
    assignment = customer.account_executive_assignments.get()
    assignment.started_at = timezone.now() - timedelta(days=400)
    assert assignment.tenure_days() == 400


def test_sales_reps_cannot_reassign_customers(sales, other_sales, make_customer):
    customer = make_customer(account_executive=sales)
    with pytest.raises(NotAllowed):
        services.assign_account_executive(sales, customer, other_sales)


def test_a_user_without_customer_access_cannot_become_account_executive(
    manager, outsider, make_customer
):
    customer = make_customer()
    with pytest.raises(InvalidData):
        services.assign_account_executive(manager, customer, outsider)


def test_only_organisations_have_contacts(manager, make_customer):
    person = make_customer(kind="person")
    with pytest.raises(InvalidData):
        services.create_contact(manager, person, {"first_name": "Luis"})


def test_one_primary_contact_per_organisation(manager, make_customer):
    org = make_customer(kind="organisation", display_name="Ferretería Núñez SL", country="ES")
    first = services.create_contact(manager, org, {"first_name": "Luis", "is_primary": True})
    second = services.create_contact(
        manager, org, {"first_name": "Ana", "phone": "600 11 22 33", "is_primary": True}
    )
    first.refresh_from_db()
    assert not first.is_primary
    assert second.is_primary
    assert second.phone == "+34600112233"


def test_a_stale_contact_edit_is_refused(manager, make_customer):
    org = make_customer(kind="organisation", display_name="Acme Ltd")
    contact = services.create_contact(manager, org, {"first_name": "Jane"})
    services.update_contact(manager, contact, 1, {"role": "CFO"})
    with pytest.raises(VersionConflict):
        services.update_contact(manager, contact, 1, {"role": "CEO"})
    assert Contact.objects.get(pk=contact.pk).role == "CFO"


def test_duplicate_external_ids_are_refused(manager, make_customer):
    make_customer(external_id="crm-1")
    with pytest.raises(InvalidData) as caught:
        make_customer(external_id="crm-1")
    assert "external_id" in caught.value.field_errors


def test_only_tag_managers_create_new_tags(sales, manager, make_customer):
    customer = make_customer(account_executive=sales, tags=["VIP"])
    with pytest.raises(InvalidData):
        services.update_customer(sales, customer, customer.version, {"tags": ["brand-new"]})
    services.update_customer(sales, customer, customer.version, {"tags": ["vip"]})
    assert [t.name for t in customer.tags.all()] == ["VIP"]


def test_lifecycle_stage_must_be_a_known_stage(manager, make_customer):
    customer = make_customer()
    with pytest.raises(InvalidData):
        services.update_customer(manager, customer, customer.version, {"lifecycle_stage": "zombie"})
    services.update_customer(manager, customer, customer.version, {"lifecycle_stage": "at_risk"})
    customer.refresh_from_db()
    assert customer.lifecycle_stage == LifecycleStage.AT_RISK


def test_a_customers_language_is_named_in_the_readers_language(make_customer):
    from django.utils import translation

    customer = make_customer(language="en")
    with translation.override("es"):
        assert customer.language_name == "Inglés"
    with translation.override("en"):
        assert customer.language_name == "English"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_edits_of_one_version_cannot_both_win(manager, admin_user, make_customer):
    import threading

    from django.db import connections

    customer = make_customer(city="Lima")
    version = customer.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(user, city):
        try:
            mine = Customer.objects.get(pk=customer.pk)
            barrier.wait(timeout=10)
            services.update_customer(user, mine, version, {"city": city})
            outcomes.append(f"saved {city}")
        except VersionConflict:
            outcomes.append("conflict")
        except Exception as exc:
            outcomes.append(f"error {exc!r}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=edit, args=(manager, "Quito")),
        threading.Thread(target=edit, args=(admin_user, "Cusco")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(o.split()[0] for o in outcomes) == ["conflict", "saved"]
    customer.refresh_from_db()
    assert customer.version == version + 1
    assert f"saved {customer.city}" in outcomes


def test_nul_characters_are_refused_whoever_calls(manager):
    with pytest.raises(InvalidData) as caught:
        services.create_customer(manager, {"kind": "person", "display_name": "Ana\x00"})
    assert "display_name" in caught.value.field_errors


def test_the_account_executive_choices_follow_the_same_rule_as_the_service(
    manager, sales, reader, outsider
):
    from tendero.customers.forms import account_executive_candidates

    outsider.is_superuser = True
    outsider.save()
    candidates = set(account_executive_candidates())
    assert {manager, sales, reader, outsider} <= candidates
    inactive = sales
    inactive.is_active = False
    inactive.save()
    assert inactive not in set(account_executive_candidates())


def test_a_reassignment_is_in_the_audit_trail_with_the_end_of_the_previous_period(
    manager, sales, other_sales, make_customer
):
    customer = make_customer(account_executive=sales)
    services.assign_account_executive(manager, customer, other_sales, "Territory change")
    changed = {
        (entry.content_type.model, field)
        for entry in AuditEntry.objects.for_customer(customer.pk).filter(
            action=AuditEntry.Action.UPDATE, actor=manager
        )
        for field in (entry.changes or {})
    }
    assert ("accountexecutiveassignment", "ended_at") in changed
    assert ("customer", "account_executive") in changed


def test_an_overlong_reassignment_reason_is_refused_not_cut(manager, other_sales, make_customer):
    customer = make_customer()
    with pytest.raises(InvalidData) as caught:
        services.assign_account_executive(manager, customer, other_sales, "x" * 201)
    assert "reason" in caught.value.field_errors
    customer.refresh_from_db()
    assert customer.account_executive is None
