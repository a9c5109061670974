"""Personal knowledge services: what may be written down, by whom, corrections and
retirements with their history, and the dates coming up."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.core.errors import InvalidData, NotAllowed, VersionConflict
from tendero.customers import services
from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import PersonalFact
from tendero.knowledge.services import (
    NO_YEAR,
    clean_fact_data,
    correct_fact,
    current_facts,
    next_occurrence,
    recent_and_upcoming,
    recent_facts,
    record_fact,
    retire_fact,
    upcoming_dates,
)

MakeCustomer = Callable[..., Customer]


@pytest.fixture
def customer(make_customer: MakeCustomer, sales: User) -> Customer:
    return make_customer(display_name="José Pérez", account_executive=sales)


@pytest.fixture
def company(make_customer: MakeCustomer, sales: User) -> Customer:
    return make_customer(kind="organisation", display_name="Bodegas Ruiz", account_executive=sales)


def interaction_with(customer: Customer) -> Interaction:
    return Interaction.objects.create(
        customer=customer, channel="phone", direction="inbound", subject="Call about the order"
    )


def errors_of(call: Callable[[], Any]) -> dict[str, list[str]]:
    with pytest.raises(InvalidData) as caught:
        call()
    return caught.value.field_errors


# ---------------------------------------------------------------- recording


def test_sales_rep_records_a_fact_about_their_customer(sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "interest", "text": "  Supports Real Betis "})
    assert fact.text == "Supports Real Betis"
    assert fact.learned_by == sales
    assert fact.contact is None
    assert fact.is_current
    assert fact.learned_at <= timezone.now()


def test_family_member_needs_a_family_relation_and_a_name(sales: User, customer: Customer) -> None:
    errors = errors_of(lambda: record_fact(sales, customer, {"kind": "family_member"}))
    assert set(errors) == {"relation", "related_name"}
    errors = errors_of(
        lambda: record_fact(
            sales, customer, {"kind": "family_member", "relation": "assistant", "related_name": "A"}
        )
    )
    assert set(errors) == {"relation"}
    fact = record_fact(
        sales,
        customer,
        {
            "kind": "family_member",
            "relation": "child",
            "related_name": "Lucía",
            "date": "2012-03-14",
            "recurs_yearly": True,
        },
    )
    assert fact.text == ""
    assert fact.date == date(2012, 3, 14)
    assert fact.month_day == 314


def test_a_relation_may_be_any_kind_of_relation(sales: User, company: Customer) -> None:
    fact = record_fact(
        sales, company, {"kind": "relation", "relation": "assistant", "related_name": "Pilar"}
    )
    assert fact.relation == "assistant"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"text": "no kind"}, "kind"),
        ({"kind": "hobby", "text": "x"}, "kind"),
        ({"kind": "interest"}, "text"),
        ({"kind": "interest", "text": "   "}, "text"),
        ({"kind": "interest", "text": "x" * 501}, "text"),
        ({"kind": "interest", "text": "nul\x00"}, "text"),
        ({"kind": "interest", "text": 42}, "text"),
        ({"kind": "relation", "relation": "boss", "related_name": "Ana"}, "relation"),
        ({"kind": "relation", "relation": "manager", "related_name": "x" * 201}, "related_name"),
        ({"kind": "interest", "text": "x", "relation": "child"}, "relation"),
        ({"kind": "interest", "text": "x", "related_name": "Ana"}, "related_name"),
        ({"kind": "note", "text": "x", "date": "14/03/2020"}, "date"),
        ({"kind": "note", "text": "x", "date": "2023-02-29"}, "date"),
        ({"kind": "note", "text": "x", "recurs_yearly": True}, "date"),
        ({"kind": "note", "text": "x", "recurs_yearly": "maybe"}, "recurs_yearly"),
        ({"kind": "important_date", "text": "Wedding"}, "date"),
        ({"kind": "note", "text": "x", "contact_id": "abc"}, "contact_id"),
        ({"kind": "note", "text": "x", "contact_id": True}, "contact_id"),
        ({"kind": "note", "text": "x", "contact_id": 2**70}, "contact_id"),
        ({"kind": "note", "text": "x", "source_interaction_id": 999999}, "source_interaction_id"),
        ({"kind": "note", "text": "x", "learned_at": "yesterday"}, "learned_at"),
        ({"kind": "note", "text": "x", "colour": "red"}, "colour"),
    ],
)
def test_invalid_facts_are_refused_with_a_field_error(
    sales: User, customer: Customer, data: dict[str, Any], field: str
) -> None:
    errors = errors_of(lambda: record_fact(sales, customer, data))
    assert field in errors
    assert all(messages for messages in errors.values())
    assert not PersonalFact.objects.exists()


def test_learned_at_cannot_be_in_the_future(sales: User, customer: Customer) -> None:
    tomorrow = timezone.now() + timedelta(days=1)
    errors = errors_of(
        lambda: record_fact(sales, customer, {"kind": "note", "text": "x", "learned_at": tomorrow})
    )
    assert "learned_at" in errors
    last_week = timezone.now() - timedelta(days=7)
    fact = record_fact(
        sales, customer, {"kind": "note", "text": "x", "learned_at": last_week.isoformat()}
    )
    assert fact.learned_at == last_week


def test_contacts_and_interactions_must_be_the_same_customers(
    sales: User, manager: User, company: Customer, make_customer: MakeCustomer
) -> None:
    other = make_customer(kind="organisation", display_name="Other SA", account_executive=sales)
    theirs = services.create_contact(manager, other, {"first_name": "Eva"})
    errors = errors_of(
        lambda: record_fact(
            sales,
            company,
            {
                "kind": "relation",
                "relation": "manager",
                "related_name": "Eva",
                "contact_id": theirs.pk,
                "related_contact_id": theirs.pk,
                "source_interaction_id": interaction_with(other).pk,
            },
        )
    )
    assert set(errors) == {"contact_id", "related_contact_id", "source_interaction_id"}


def test_a_fact_about_a_contact_learned_in_a_call(
    sales: User, manager: User, company: Customer
) -> None:
    ana = services.create_contact(manager, company, {"first_name": "Ana", "last_name": "Gil"})
    pilar = services.create_contact(manager, company, {"first_name": "Pilar"})
    call = interaction_with(company)
    fact = record_fact(
        sales,
        company,
        {
            "kind": "relation",
            "relation": "assistant",
            "related_name": "Pilar",
            "contact_id": str(ana.pk),
            "related_contact_id": pilar.pk,
            "source_interaction_id": call.pk,
        },
    )
    assert fact.contact == ana
    assert fact.related_contact == pilar
    assert fact.source_interaction == call
    errors = errors_of(
        lambda: record_fact(
            sales,
            company,
            {
                "kind": "relation",
                "relation": "colleague",
                "related_name": "Ana",
                "contact_id": ana.pk,
                "related_contact_id": ana.pk,
            },
        )
    )
    assert "related_contact_id" in errors


def test_clean_fact_data_is_pure_and_shared_with_the_importer(customer: Customer) -> None:
    clean = clean_fact_data(
        {"kind": "important_date", "text": "Wedding", "date": "1999-06-05", "recurs_yearly": "yes"},
        customer,
    )
    assert clean["month_day"] == 605
    assert clean["recurs_yearly"] is True
    assert clean["contact"] is None
    assert not PersonalFact.objects.exists()


def test_reader_and_outsiders_cannot_record(
    reader: User, other_sales: User, customer: Customer
) -> None:
    with pytest.raises(NotAllowed):
        record_fact(reader, customer, {"kind": "note", "text": "x"})
    # Another rep has the permission but not this customer.
    with pytest.raises(NotAllowed):
        record_fact(other_sales, customer, {"kind": "note", "text": "x"})
    assert not PersonalFact.objects.exists()


# ---------------------------------------------------------------- corrections and retirement


def test_correcting_keeps_what_is_not_sent_and_maintains_month_day(
    sales: User, customer: Customer
) -> None:
    fact = record_fact(
        sales,
        customer,
        {"kind": "important_date", "text": "Wedding", "date": "1999-06-05", "recurs_yearly": True},
    )
    corrected = correct_fact(sales, fact, {"date": date(1999, 7, 15)}, fact.version)
    assert corrected.text == "Wedding"
    assert corrected.month_day == 715
    assert corrected.version == 2
    corrected = correct_fact(sales, fact, {"recurs_yearly": False}, corrected.version)
    assert corrected.month_day is None
    assert PersonalFact.objects.get().month_day is None


def test_turning_a_note_into_a_family_member_needs_the_relation(
    sales: User, customer: Customer
) -> None:
    fact = record_fact(sales, customer, {"kind": "note", "text": "Has a daughter"})
    errors = errors_of(lambda: correct_fact(sales, fact, {"kind": "family_member"}, fact.version))
    assert set(errors) == {"relation", "related_name"}
    fact.refresh_from_db()
    assert fact.kind == "note" and fact.version == 1


def test_stale_correction_is_a_version_conflict(sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "preference", "text": "Calls after 5"})
    correct_fact(sales, fact, {"text": "Calls after 6"}, 1)
    with pytest.raises(VersionConflict) as caught:
        correct_fact(sales, fact, {"text": "Emails only"}, 1)
    assert caught.value.current_version == 2
    assert PersonalFact.objects.get().text == "Calls after 6"


def test_retiring_keeps_the_fact_and_twice_is_refused(sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "dislike", "text": "Cold calls"})
    retired = retire_fact(sales, fact, "Changed their mind", fact.version)
    assert retired.retired_at is not None
    assert retired.retired_by == sales
    assert retired.retired_reason == "Changed their mind"
    assert list(current_facts(customer)) == []
    with pytest.raises(InvalidData) as caught:
        retire_fact(sales, fact, "", fact.version)
    assert "already retired" in caught.value.message
    with pytest.raises(InvalidData):
        correct_fact(sales, fact, {"text": "x"}, fact.version)


def test_retire_reason_is_at_most_200_characters(sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "note", "text": "x"})
    errors = errors_of(lambda: retire_fact(sales, fact, "r" * 201, fact.version))
    assert "reason" in errors
    with pytest.raises(VersionConflict):
        retire_fact(sales, fact, "", fact.version + 5)
    assert PersonalFact.objects.get().is_current


def test_reader_cannot_correct_or_retire(reader: User, sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "note", "text": "x"})
    with pytest.raises(NotAllowed):
        correct_fact(reader, fact, {"text": "y"}, fact.version)
    with pytest.raises(NotAllowed):
        retire_fact(reader, fact, "", fact.version)


def test_every_change_is_in_the_customers_audit_trail(sales: User, customer: Customer) -> None:
    fact = record_fact(sales, customer, {"kind": "interest", "text": "Golf"})
    correct_fact(sales, fact, {"text": "Padel"}, fact.version)
    retire_fact(sales, fact, "Injured", fact.version)
    entries = AuditEntry.objects.filter(
        customer_id=customer.pk, content_type__model="personalfact"
    ).order_by("timestamp", "id")
    assert [e.action for e in entries] == [
        AuditEntry.Action.CREATE,
        AuditEntry.Action.UPDATE,
        AuditEntry.Action.UPDATE,
    ]
    assert all(e.actor == sales for e in entries)
    assert entries[1].changes["text"] == ["Golf", "Padel"]
    assert "retired_reason" in entries[2].changes


# ---------------------------------------------------------------- reads


def test_current_and_recent_facts_newest_first(sales: User, customer: Customer) -> None:
    now = timezone.now()
    for days, text in ((3, "old"), (1, "new"), (2, "middle")):
        record_fact(
            sales,
            customer,
            {"kind": "note", "text": text, "learned_at": now - timedelta(days=days)},
        )
    retire_fact(sales, PersonalFact.objects.get(text="middle"), "", 1)
    assert [f.text for f in current_facts(customer)] == ["new", "old"]
    assert [f.text for f in recent_facts(customer, limit=1)] == ["new"]


def _yearly(by: User, customer: Customer, day: date, name: str = "Lucía") -> PersonalFact:
    return record_fact(
        by,
        customer,
        {
            "kind": "family_member",
            "relation": "child",
            "related_name": name,
            "date": day,
            "recurs_yearly": True,
        },
    )


def test_upcoming_dates_wrap_from_december_into_january(sales: User, customer: Customer) -> None:
    _yearly(sales, customer, date(1986, 1, 10), "January")
    _yearly(sales, customer, date(1990, 12, 28), "December")
    _yearly(sales, customer, date(1990, 12, 1), "Past")
    _yearly(sales, customer, date(1990, 2, 10), "Too far")
    found = upcoming_dates(customer, date(2025, 12, 20), days=30)
    assert [(u.fact.related_name, u.on, u.days_away, u.years) for u in found] == [
        ("December", date(2025, 12, 28), 8, 35),
        ("January", date(2026, 1, 10), 21, 40),
    ]


def test_29_february_is_celebrated_on_28_february_in_common_years(
    sales: User, customer: Customer
) -> None:
    _yearly(sales, customer, date(2000, 2, 29), "Leap")
    found = upcoming_dates(customer, date(2025, 2, 1), days=27)  # window ends 28 Feb
    assert [(u.on, u.years) for u in found] == [(date(2025, 2, 28), 25)]
    found = upcoming_dates(customer, date(2028, 2, 1), days=28)
    assert [u.on for u in found] == [date(2028, 2, 29)]
    assert upcoming_dates(customer, date(2025, 3, 1), days=30) == []
    assert next_occurrence(date(2000, 2, 29), date(2025, 3, 1)) == date(2026, 2, 28)


def test_one_off_dates_count_and_unknown_years_give_no_age(sales: User, customer: Customer) -> None:
    today = date(2025, 5, 1)
    record_fact(
        sales, customer, {"kind": "important_date", "text": "Opening", "date": "2025-05-10"}
    )
    record_fact(sales, customer, {"kind": "important_date", "text": "Past", "date": "2025-04-10"})
    _yearly(sales, customer, date(NO_YEAR, 5, 2), "No year")
    found = upcoming_dates(customer, today)
    assert [(u.on, u.days_away, u.years) for u in found] == [
        (date(2025, 5, 2), 1, None),
        (date(2025, 5, 10), 9, None),
    ]


def test_retired_dates_are_not_upcoming(sales: User, customer: Customer) -> None:
    fact = _yearly(sales, customer, date(1990, 5, 2))
    retire_fact(sales, fact, "", fact.version)
    assert upcoming_dates(customer, date(2025, 5, 1)) == []


def test_reads_take_one_query_however_many_facts(
    sales: User, customer: Customer, django_assert_num_queries: Any
) -> None:
    for month in range(1, 13):
        _yearly(sales, customer, date(1990, month, 5), f"Kid {month}")
        record_fact(sales, customer, {"kind": "note", "text": f"Note {month}"})
    with django_assert_num_queries(1):
        found = upcoming_dates(customer, date(2025, 1, 1), days=366)
        assert len(found) == 12
        assert all(u.fact.contact is None and u.fact.learned_by for u in found)
    with django_assert_num_queries(1):
        facts = list(current_facts(customer))
        assert len(facts) == 24
        assert {str(f.learned_by) for f in facts} == {str(sales)}
    with django_assert_num_queries(1):
        assert len(recent_facts(customer)) == 5


def test_recent_and_upcoming_in_one_query_agree_with_each_read(
    sales: User, customer: Customer, django_assert_num_queries: Any
) -> None:
    # Old dated facts (learned long ago, coming up soon) and newer plain notes.
    for month in (1, 2, 12):
        fact = _yearly(sales, customer, date(1990, month, 5), f"Kid {month}")
        PersonalFact.objects.filter(pk=fact.pk).update(
            learned_at=timezone.now() - timedelta(days=400 + month)
        )
    for n in range(7):
        record_fact(sales, customer, {"kind": "note", "text": f"Note {n}"})
    retired = record_fact(sales, customer, {"kind": "note", "text": "Retired"})
    retire_fact(sales, retired, "", retired.version)
    today = date(2025, 12, 1)
    with django_assert_num_queries(1):
        recent, upcoming = recent_and_upcoming(customer, today, limit=5, days=40)
    assert [f.pk for f in recent] == [f.pk for f in recent_facts(customer, 5)]
    assert [(u.fact.pk, u.on) for u in upcoming] == [
        (u.fact.pk, u.on) for u in upcoming_dates(customer, today, 40)
    ]
    assert [u.fact.related_name for u in upcoming] == ["Kid 12", "Kid 1"]
    assert "Retired" not in {f.text for f in recent}
