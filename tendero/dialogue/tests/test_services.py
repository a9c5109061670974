"""The dialogue services: logging interactions, their validation, the customer's last
interaction and next contact due, learned rhythms and the going-quiet list."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from tendero.audit.models import AuditEntry as LogEntry
from tendero.core.errors import InvalidData, NotAllowed, VersionConflict
from tendero.customers import services as customer_services
from tendero.customers.models import Customer
from tendero.dialogue import rhythm, services
from tendero.dialogue.models import Interaction
from tendero.organization.models import Department

CALL = {"channel": "phone", "direction": "inbound", "subject": "Asked about delivery"}


def at(days_ago: int, hour: int = 10) -> datetime:
    moment = timezone.localtime() - timedelta(days=days_ago)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana Ruiz", account_executive=sales)


@pytest.fixture
def sales_department(db):
    return Department.objects.create(code="sales", name="Sales")


def log(by, customer, **data: Any) -> Interaction:
    return services.record_interaction(by, customer, {**CALL, **data})


# Recording


def test_recording_defaults_to_now_the_author_and_their_department(
    sales, customer, sales_department
):
    sales.department = sales_department
    sales.save()
    interaction = log(sales, customer, notes="Wants it by Friday")
    assert interaction.handled_by == sales
    assert interaction.created_by == sales
    assert interaction.department == sales_department
    assert timezone.now() - interaction.occurred_at < timedelta(minutes=1)
    assert interaction.notes == "Wants it by Friday"


def test_recording_moves_last_interaction_without_a_customer_edit(sales, customer):
    version = customer.version
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_pk=str(customer.pk)
    ).count()
    interaction = log(sales, customer, occurred_at=at(3))
    customer.refresh_from_db()
    assert customer.last_interaction_at == interaction.occurred_at
    assert customer.version == version
    assert (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Customer), object_pk=str(customer.pk)
        ).count()
        == entries
    )
    assert LogEntry.objects.get_for_object(interaction).count() == 1


def test_an_older_interaction_does_not_move_last_interaction_back(sales, customer):
    recent = log(sales, customer, occurred_at=at(1))
    log(sales, customer, occurred_at=at(30))
    customer.refresh_from_db()
    assert customer.last_interaction_at == recent.occurred_at


def test_next_contact_due_follows_the_rhythm(sales, customer):
    Customer.objects.filter(pk=customer.pk).update(contact_rhythm_days=14)
    log(sales, customer, occurred_at=at(2))
    customer.refresh_from_db()
    assert customer.next_contact_due == timezone.localdate() - timedelta(days=2) + timedelta(14)


def test_without_a_rhythm_nothing_is_due(sales, customer):
    log(sales, customer)
    customer.refresh_from_db()
    assert customer.next_contact_due is None


def test_iso_strings_are_accepted(sales, customer):
    moment = at(5)
    interaction = log(sales, customer, occurred_at=moment.isoformat(), follow_up_on="2030-01-02")
    assert interaction.occurred_at == moment
    assert interaction.follow_up_on == date(2030, 1, 2)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"outcome": "x" * 201}, "outcome"),
        ({"channel": "pigeon"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"direction": "outbound", "voice": "complaint"}, "voice"),
        ({"voice": "rant"}, "voice"),
        ({"sentiment": "ecstatic"}, "sentiment"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"follow_up_on": "soon"}, "follow_up_on"),
        ({"handled_by_id": "abc"}, "handled_by_id"),
        ({"department_id": True}, "department_id"),
        ({"mood": "good"}, "mood"),
        ({"subject": "a\x00b"}, "subject"),
    ],
)
def test_invalid_data_is_refused_field_by_field(sales, customer, data, field):
    with pytest.raises(InvalidData) as caught:
        log(sales, customer, **data)
    assert field in caught.value.field_errors
    assert not Interaction.objects.exists()


def test_missing_required_fields_are_all_reported(sales, customer):
    with pytest.raises(InvalidData) as caught:
        services.record_interaction(sales, customer, {})
    assert set(caught.value.field_errors) == {"channel", "direction", "subject"}


def test_the_future_is_refused_beyond_five_minutes(sales, customer):
    with pytest.raises(InvalidData) as caught:
        log(sales, customer, occurred_at=timezone.now() + timedelta(minutes=10))
    assert "occurred_at" in caught.value.field_errors
    assert log(sales, customer, occurred_at=timezone.now() + timedelta(minutes=2))


def test_inbound_voice_is_kept(sales, customer):
    interaction = log(sales, customer, voice="idea", sentiment="positive")
    assert interaction.voice == "idea"
    assert Interaction.objects.voice().get() == interaction


def test_a_contact_of_another_customer_is_refused(manager, make_customer, sales, customer):
    other = make_customer(kind="organisation", display_name="Bodegas", account_executive=sales)
    stranger = customer_services.create_contact(manager, other, {"first_name": "Eva"})
    with pytest.raises(InvalidData) as caught:
        log(sales, customer, contact_id=stranger.pk)
    assert "contact_id" in caught.value.field_errors
    own = log(sales, other, contact_id=stranger.pk)
    assert own.contact == stranger


def test_an_inactive_department_is_refused(sales, customer):
    closed = Department.objects.create(code="old", name="Old", is_active=False)
    with pytest.raises(InvalidData) as caught:
        log(sales, customer, department_id=closed.pk)
    assert "department_id" in caught.value.field_errors


def test_an_inactive_user_cannot_have_handled_it(sales, other_sales, customer):
    other_sales.is_active = False
    other_sales.save()
    with pytest.raises(InvalidData) as caught:
        log(sales, customer, handled_by_id=other_sales.pk)
    assert "handled_by_id" in caught.value.field_errors


def test_someone_else_may_have_handled_it(sales, service_agent, customer):
    assert log(sales, customer, handled_by_id=service_agent.pk).handled_by == service_agent


def test_reader_cannot_record(reader, customer):
    with pytest.raises(NotAllowed):
        log(reader, customer)


def test_sales_cannot_record_on_another_reps_customer(other_sales, customer):
    with pytest.raises(NotAllowed):
        log(other_sales, customer)


# Changing, deleting, following up


def test_update_checks_the_version(sales, customer):
    interaction = log(sales, customer)
    services.update_interaction(sales, interaction, {"subject": "Delivery date"}, 1)
    assert interaction.subject == "Delivery date"
    assert interaction.version == 2
    with pytest.raises(VersionConflict):
        services.update_interaction(sales, interaction, {"subject": "Again"}, 1)
    interaction.refresh_from_db()
    assert interaction.subject == "Delivery date"


def test_update_refuses_a_voice_on_outbound(sales, customer):
    interaction = log(sales, customer, voice="complaint")
    with pytest.raises(InvalidData) as caught:
        services.update_interaction(sales, interaction, {"direction": "outbound"}, 1)
    assert "voice" in caught.value.field_errors
    services.update_interaction(sales, interaction, {"direction": "outbound", "voice": ""}, 1)
    assert interaction.direction == "outbound"


def test_moving_an_interaction_recomputes_the_last_one(sales, customer):
    interaction = log(sales, customer, occurred_at=at(1))
    services.update_interaction(sales, interaction, {"occurred_at": at(10)}, 1)
    customer.refresh_from_db()
    assert customer.last_interaction_at == at(10)


def test_deleting_recomputes_last_interaction_and_due_date(manager, sales, customer):
    Customer.objects.filter(pk=customer.pk).update(contact_rhythm_days=30)
    older = log(sales, customer, occurred_at=at(20))
    newer = log(sales, customer, occurred_at=at(2))
    services.delete_interaction(manager, newer)
    customer.refresh_from_db()
    assert customer.last_interaction_at == older.occurred_at
    assert customer.next_contact_due == timezone.localdate() + timedelta(days=10)
    services.delete_interaction(manager, older)
    customer.refresh_from_db()
    assert customer.last_interaction_at is None
    assert customer.next_contact_due is None


def test_sales_cannot_delete(sales, customer):
    interaction = log(sales, customer)
    with pytest.raises(NotAllowed):
        services.delete_interaction(sales, interaction)


def test_completing_a_follow_up(sales, customer):
    interaction = log(sales, customer, follow_up_on=timezone.localdate())
    assert Interaction.objects.follow_ups_open().count() == 1
    services.complete_follow_up(sales, interaction)
    done_at = interaction.follow_up_done_at
    assert done_at is not None
    assert not Interaction.objects.follow_ups_open().exists()
    services.complete_follow_up(sales, interaction)
    assert interaction.follow_up_done_at == done_at


def test_nothing_to_complete_without_a_follow_up(sales, customer):
    interaction = log(sales, customer)
    with pytest.raises(InvalidData):
        services.complete_follow_up(sales, interaction)


# Rhythms


def history(customer, days_ago: list[int]) -> None:
    for days in days_ago:
        Interaction.objects.create(
            customer=customer,
            channel="phone",
            direction="outbound",
            subject="Call",
            occurred_at=at(days),
        )


def test_a_rhythm_is_learned_from_the_customers_history(customer):
    history(customer, [90, 60, 30])
    assert rhythm.learned_rhythm_for(customer) == 30
    assert rhythm.refresh_contact_rhythms() == 1
    customer.refresh_from_db()
    assert customer.contact_rhythm_days == 30
    assert customer.contact_rhythm_learned is True
    assert customer.last_interaction_at == at(30)
    assert customer.next_contact_due == timezone.localdate()


def test_two_interactions_teach_nothing(customer):
    history(customer, [60, 30])
    assert rhythm.learned_rhythm_for(customer) is None
    rhythm.refresh_contact_rhythms()
    customer.refresh_from_db()
    assert customer.contact_rhythm_days is None
    assert customer.next_contact_due is None


def test_learned_rhythms_are_clamped(make_customer, sales):
    chatty = make_customer(display_name="Chatty", account_executive=sales)
    history(chatty, [3, 2, 1, 0])
    rare = make_customer(display_name="Rare", account_executive=sales)
    history(rare, [364, 1])
    Interaction.objects.create(
        customer=rare, channel="email", direction="inbound", subject="x", occurred_at=at(0, 9)
    )
    rhythm.refresh_contact_rhythms()
    chatty.refresh_from_db()
    rare.refresh_from_db()
    assert chatty.contact_rhythm_days == 7
    assert rare.contact_rhythm_days == 182


def test_a_rhythm_set_by_hand_is_not_relearned(manager, customer):
    history(customer, [90, 60, 30])
    rhythm.refresh_contact_rhythms()
    customer.refresh_from_db()
    rhythm.set_contact_rhythm(manager, customer, 10, customer.version)
    assert customer.contact_rhythm_learned is False
    assert customer.next_contact_due == timezone.localdate() - timedelta(days=20)
    rhythm.refresh_contact_rhythms()
    customer.refresh_from_db()
    assert customer.contact_rhythm_days == 10


def test_refresh_works_on_many_customers_at_once(
    make_customer, sales, django_assert_max_num_queries
):
    customers = [make_customer(display_name=f"C{i}", account_executive=sales) for i in range(5)]
    for position, customer in enumerate(customers):
        gap = 10 * (position + 1)
        history(customer, [3 * gap, 2 * gap, gap])
    # Per chunk: its ids, three UPDATEs (plus a savepoint and, on PostgreSQL, a SET).
    with django_assert_max_num_queries(9):
        assert rhythm.refresh_contact_rhythms() == 5
    rhythms = dict(Customer.objects.values_list("display_name", "contact_rhythm_days"))
    assert rhythms == {"C0": 10, "C1": 20, "C2": 30, "C3": 40, "C4": 50}
    assert rhythm.refresh_contact_rhythms([customers[0].pk]) == 1
    assert rhythm.refresh_contact_rhythms() == 5  # twice: same result
    assert dict(Customer.objects.values_list("display_name", "contact_rhythm_days")) == rhythms


def test_a_silent_customer_keeps_the_rhythm_learned_before(customer):
    history(customer, [400, 430, 460])
    Customer.objects.filter(pk=customer.pk).update(
        contact_rhythm_days=30, contact_rhythm_learned=True
    )
    rhythm.refresh_contact_rhythms()
    customer.refresh_from_db()
    assert customer.contact_rhythm_days == 30
    assert customer.next_contact_due == timezone.localdate() - timedelta(days=370)


def test_setting_a_rhythm_needs_the_right_and_the_version(reader, manager, customer):
    with pytest.raises(NotAllowed):
        rhythm.set_contact_rhythm(reader, customer, 10, customer.version)
    with pytest.raises(VersionConflict):
        rhythm.set_contact_rhythm(manager, customer, 10, customer.version + 1)
    for wrong in (0, 3651, True):
        with pytest.raises(InvalidData):
            rhythm.set_contact_rhythm(manager, customer, wrong, customer.version)


def test_back_to_learning(manager, customer):
    history(customer, [90, 60, 30])
    rhythm.set_contact_rhythm(manager, customer, 10, customer.version)
    rhythm.set_contact_rhythm(manager, customer, None, customer.version)
    assert customer.contact_rhythm_days == 30
    assert customer.contact_rhythm_learned is True
    entries = LogEntry.objects.get_for_object(customer)
    assert any("contact_rhythm_days" in (e.changes_dict or {}) for e in entries)


# Going quiet


def test_going_quiet_is_scoped_and_ordered(make_customer, sales, other_sales, manager):
    today = timezone.localdate()

    def quiet(name, level, rhythm_days, overdue_days, executive=sales):
        customer = make_customer(display_name=name, account_executive=executive)
        Customer.objects.filter(pk=customer.pk).update(
            relationship_level=level,
            contact_rhythm_days=rhythm_days,
            next_contact_due=today - timedelta(days=overdue_days),
        )
        return customer

    quiet("Weekly, 7 late", 2, 7, 7)
    quiet("Yearly, 30 late", 2, 365, 30)
    quiet("Trusted", 4, 90, 1)
    quiet("Not yet due", 4, 30, 0)
    quiet("Olga's", 3, 30, 10, executive=other_sales)
    mine = [c.display_name for c in rhythm.going_quiet(sales, today)]
    assert mine == ["Trusted", "Weekly, 7 late", "Yearly, 30 late"]
    everyone = [c.display_name for c in rhythm.going_quiet(manager, today)]
    assert everyone == ["Trusted", "Olga's", "Weekly, 7 late", "Yearly, 30 late"]


def test_refresh_goes_chunk_by_chunk(make_customer, sales, monkeypatch):
    monkeypatch.setattr(rhythm, "CHUNK", 2)
    customers = [make_customer(display_name=f"C{i}", account_executive=sales) for i in range(5)]
    for customer in customers:
        history(customer, [60, 40, 20])
    assert rhythm.refresh_contact_rhythms() == 5
    assert set(Customer.objects.values_list("contact_rhythm_days", flat=True)) == {20}
    assert rhythm.refresh_contact_rhythms([]) == 0
