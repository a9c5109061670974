"""The demo data (Tendero Telecom) and the bulk seeding command for benchmarks."""

import itertools
import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Q
from django.test import Client, RequestFactory
from django.utils import timezone

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.customers import demo, demo_people, seeding, seeding_history
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
    RelationshipLevelChange,
    SearchToken,
)
from tendero.customers.validation import normalise_email, normalise_phone
from tendero.dialogue.models import Interaction
from tendero.knowledge import demo as demo_knowledge
from tendero.knowledge.models import FAMILY_RELATIONS, FactKind, PersonalFact
from tendero.stewardship.models import DuplicatePair

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
    # Lifetime value scored as of a year, six and three months ago, then yesterday:
    # each run's month keeps a snapshot for the scorecard.
    from tendero.insights.models import CustomerValue, ModelRun, ValueSnapshot

    assert ModelRun.objects.filter(trigger="demo", status="succeeded").count() == 4
    assert len(set(ValueSnapshot.objects.values_list("month", flat=True))) == 4
    assert CustomerValue.objects.count() > 500


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
    # Duplicates typed in a hurry may lack the tax id; every tax id present is right.
    for customer in Customer.objects.filter(country="ES").exclude(tax_id=""):
        if customer.is_organisation:
            assert customer.tax_id[0] in "AB"
            assert customer.tax_id == demo_people.spanish_cif(
                customer.tax_id[0], int(customer.tax_id[1:8])
            )
        else:
            assert customer.tax_id == demo_people.spanish_nif(int(customer.tax_id[:8]))
    for customer in Customer.objects.filter(country="CL").exclude(tax_id=""):
        number = int(customer.tax_id.split("-")[0].replace(".", ""))
        assert customer.tax_id == demo_people.chilean_rut(number)
    assert demo_people.chilean_rut(12_345_678) == "12.345.678-5"
    assert demo_people.spanish_nif(12_345_678) == "12345678Z"
    assert demo_people.spanish_cif("A", 5_881_850) == "A58818501"


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


# --- the demo customers as people: knowledge, important dates, duplicates ----------


def _next_occurrence_days(month_day: int, today: date) -> int:
    month, day = divmod(month_day, 100)
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February in a common year
            candidate = date(year, 2, 28)
        if candidate >= today:
            return (candidate - today).days
    raise AssertionError(month_day)  # pragma: no cover


def test_demo_people_have_interests_preferences_families_and_dates_in_their_language(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    facts = PersonalFact.objects.all()
    kinds = Counter(facts.values_list("kind", flat=True))
    assert set(kinds) >= {
        FactKind.INTEREST,
        FactKind.PREFERENCE,
        FactKind.DISLIKE,
        FactKind.FAMILY_MEMBER,
        FactKind.IMPORTANT_DATE,
        FactKind.PROFESSIONAL_GOAL,
    }
    people = Customer.objects.filter(kind="person")
    known = people.filter(facts__isnull=False).distinct().count()
    assert known >= 0.75 * people.count()
    # Organisations: facts about their contacts, and the company's anniversary.
    assert facts.filter(contact__isnull=False).exists()
    assert facts.filter(
        contact__isnull=True, customer__kind="organisation", kind=FactKind.IMPORTANT_DATE
    ).exists()
    for fact in facts.filter(kind=FactKind.FAMILY_MEMBER):
        assert fact.related_name
        assert fact.relation in FAMILY_RELATIONS
    assert facts.filter(kind=FactKind.FAMILY_MEMBER, relation="child", date__isnull=False).exists()
    for fact in facts.filter(recurs_yearly=True):
        assert fact.date is not None
        assert fact.month_day == fact.date.month * 100 + fact.date.day
    recorded = {
        language: {str(data["text"]) for data in demo_knowledge.RECORDED_FACTS[language]}
        for language in ("es", "en")
    }
    spanish = set(demo_knowledge.INTERESTS["es"]) | recorded["es"]
    english = set(demo_knowledge.INTERESTS["en"]) | recorded["en"]
    for text, language in facts.filter(kind=FactKind.INTEREST).values_list(
        "text", "customer__language"
    ):
        assert text in (spanish if language == "es" else english)
    # Each was learned by someone, most of them in one of the customer's interactions.
    assert not facts.filter(learned_by__isnull=True).exists()
    learned_in = facts.filter(source_interaction__isnull=False)
    assert learned_in.count() > 0.5 * facts.count()
    for fact in learned_in.select_related("source_interaction")[:300]:
        assert fact.source_interaction is not None
        assert fact.source_interaction.customer_id == fact.customer_id
        assert fact.learned_at == fact.source_interaction.occurred_at


def test_about_one_customer_in_twenty_has_a_date_coming_up_in_the_next_30_days(
    db: None,
) -> None:
    demo.create_demo_data(customers=1000)
    today = timezone.now().date()
    soon = {
        customer_id
        for customer_id, month_day in PersonalFact.objects.filter(
            recurs_yearly=True, retired_at__isnull=True
        ).values_list("customer_id", "month_day")
        if month_day is not None and _next_occurrence_days(month_day, today) <= 30
    }
    assert 0.03 * 1000 <= len(soon) <= 0.08 * 1000


def test_demo_records_a_few_facts_through_the_services_so_the_audit_trail_shows_them(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    entries = AuditEntry.objects.get_for_model(PersonalFact)
    assert entries.count() >= 5
    for entry in entries:
        assert entry.actor is not None
        fact = PersonalFact.objects.get(pk=entry.object_pk)
        assert fact.learned_by_id == entry.actor_id
        assert fact.customer.account_executive_id == entry.actor_id


def test_demo_has_duplicates_that_duplicate_detection_finds(db: None) -> None:
    out = StringIO()
    demo.create_demo_data(stdout=out, customers=600)
    # 600 customers: up to one in twenty made a duplicate of another.
    assert "(15 of them duplicates of others)" in out.getvalue()
    lower_case = Customer.objects.filter(display_name__regex=r"^[a-z ]+$")
    assert lower_case.exists()
    surname_first = Customer.objects.filter(display_name__contains=", ")
    assert surname_first.exists()
    pairs = DuplicatePair.objects.all()
    assert pairs.count() >= 10
    reasons = {reason for pair in pairs for reason in pair.reasons}
    assert {"email", "phone", "tax_id"} <= reasons
    for customer in lower_case:
        assert pairs.filter(Q(first=customer) | Q(second=customer)).exists(), customer
    assert "possible duplicates to review" in out.getvalue()


def test_demo_customers_are_in_the_search_index(
    demo_logins: list[tuple[str, str, str]],
) -> None:
    from tendero.customers import search

    for customer in Customer.objects.prefetch_related("emails", "phones", "contacts")[:100]:
        stored = set(SearchToken.objects.filter(customer=customer).values_list("token", flat=True))
        assert stored == search.tokens_for(customer)
        assert customer.name_key == search.name_key(customer.display_name)


# --- seeding interactions, facts and search tokens ----------------------------------


def test_seeding_writes_exactly_the_interactions_asked_for_with_realistic_rhythms(
    db: None,
) -> None:
    result = seeding.seed_customers(1000, batch_size=300, interactions=20_000)
    assert result.interactions == 20_000
    interactions = Interaction.objects.all()
    assert interactions.count() == 20_000
    per_customer = Counter(interactions.values_list("customer_id", flat=True))
    # One customer has a very long history on purpose, and carries a tag saying so.
    long = Customer.objects.filter(tags__name=seeding.LONG_HISTORY_TAG)
    assert list(long.values_list("pk", flat=True)) == [result.first_id]
    assert per_customer[result.first_id] == seeding_history.LONG_HISTORY
    # About one in twenty has no history yet.
    without = 1000 - len(per_customer)
    assert 20 <= without <= 90
    others = [n for pk, n in per_customer.items() if pk != result.first_id]
    assert max(others) < 200 and min(others) >= 1
    now = timezone.now()
    assert not interactions.filter(occurred_at__gt=now).exists()
    assert not interactions.filter(occurred_at__lt=now - timedelta(days=3 * 365 + 1)).exists()
    total = interactions.count()
    voice = interactions.exclude(voice="")
    assert 0.1 <= voice.count() / total <= 0.2
    assert not voice.filter(direction="outbound").exists()
    assert len(set(interactions.values_list("channel", flat=True))) >= 8
    assert set(interactions.values_list("department__code", flat=True)) == {
        "sales",
        "customer-service",
        "technical-support",
        "billing",
        "logistics",
        "marketing",
    }
    # Sales interactions are the account executive's of the moment.
    sales_handlers = set(
        interactions.filter(department__code="sales").values_list("handled_by", flat=True)
    )
    assert sales_handlers <= set(
        User.objects.filter(username__in=seeding.SEED_SALES_USERS).values_list("pk", flat=True)
    )
    assert interactions.filter(follow_up_on__isnull=False, follow_up_done_at__isnull=True).exists()
    assert not interactions.filter(created_at__lt=F("customer__created_at")).exists()


def test_seeded_customers_know_their_last_interaction_and_rhythm(db: None) -> None:
    seeding.seed_customers(400, interactions=8000)
    latest = dict(
        Interaction.objects.values("customer_id")
        .annotate(latest=Max("occurred_at"))
        .values_list("customer_id", "latest")
    )
    for customer in Customer.objects.all():
        assert customer.last_interaction_at == latest.get(customer.pk)
        if customer.contact_rhythm_days is not None:
            assert customer.contact_rhythm_learned
            assert 7 <= customer.contact_rhythm_days <= 365
            assert customer.last_interaction_at is not None
            assert customer.next_contact_due == (
                customer.last_interaction_at.date() + timedelta(days=customer.contact_rhythm_days)
            )
    today = timezone.now().date()
    overdue = Customer.objects.filter(next_contact_due__lt=today - timedelta(days=7)).count()
    assert 4 <= overdue <= 60  # about one relationship in twenty is going quiet


def test_seeded_search_tokens_and_name_keys_match_the_search_index(db: None) -> None:
    from tendero.customers import search

    seeding.seed_customers(300, interactions=0)
    assert not Interaction.objects.exists()
    for customer in Customer.objects.prefetch_related("emails", "phones", "contacts"):
        stored = set(SearchToken.objects.filter(customer=customer).values_list("token", flat=True))
        assert stored == search.tokens_for(customer), customer.pk
        assert customer.name_key == search.name_key(customer.display_name)
    # Indexing again finds nothing to change.
    before = SearchToken.objects.count()
    search.index_customers()
    assert SearchToken.objects.count() == before


def test_seeded_phone_and_email_tokens_are_what_search_computes() -> None:
    from tendero.customers import search

    rng = random.Random(11)
    for country, *_fields, phone in seeding._COUNTRIES:
        for n in (0, 7, 10**8 - 1, *(rng.randrange(10**9) for _ in range(200))):
            assert seeding._phone_tokens(country, phone(n)) == search.phone_tokens(phone(n))
    for address in ("jose.garcia.12@example.com", "info.9@example.com", "dsouza.o.1@example.net"):
        assert seeding._email_tokens(address) == search.email_tokens(address)


def test_seeded_facts_are_about_people_with_yearly_dates_indexed(db: None) -> None:
    seeding.seed_customers(300, interactions=0)
    facts = PersonalFact.objects.all()
    assert facts.count() > 200
    assert not facts.filter(customer__kind="organisation").exists()
    for fact in facts.filter(recurs_yearly=True):
        assert fact.date is not None
        assert fact.month_day == fact.date.month * 100 + fact.date.day
    assert facts.filter(kind=FactKind.FAMILY_MEMBER).exclude(related_name="").exists()
    seeding.seed_customers(100, interactions=0, facts=False)
    assert PersonalFact.objects.count() == facts.count()


def test_seed_command_takes_interactions_and_no_facts(db: None) -> None:
    out = StringIO()
    call_command("seed", customers=200, interactions=3000, no_facts=True, stdout=out)
    assert Interaction.objects.count() == 3000
    assert not PersonalFact.objects.exists()
    assert "3,000 interactions" in out.getvalue()
    assert "interactions/s" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("seed", customers=10, interactions=-1, stdout=out)


def test_seeding_refuses_negative_interactions(db: None) -> None:
    with pytest.raises(ValueError):
        seeding.seed_customers(10, interactions=-5)


def test_seeding_a_big_load_builds_the_indexes_it_dropped_again(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Indexes are only dropped and built again on PostgreSQL.")

    def indexes() -> set[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                "('dialogue_interaction', 'customers_searchtoken', 'knowledge_personalfact')"
            )
            return set(cursor.fetchall())

    before = indexes()
    monkeypatch.setattr(seeding, "REBUILD_INDEXES_FROM_ROWS", 10)
    seeding.seed_customers(50, interactions=1000)
    assert indexes() == before
    assert Interaction.objects.count() == 1000
