"""The demo company's dialogue: departments, three years of interactions with
rhythms, the customer's voice, follow-ups and relationships going quiet."""

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from tendero.accounts.models import User
from tendero.customers import demo
from tendero.customers.models import AccountExecutiveAssignment, Customer
from tendero.dialogue import demo as dialogue_demo
from tendero.dialogue.models import Direction, Interaction
from tendero.organization.models import Department

SMALL_DEMO = 300


@pytest.fixture
def demo_company(db: None) -> None:
    demo.create_demo_data(customers=SMALL_DEMO)


def test_demo_has_the_departments_and_every_demo_user_works_in_one(demo_company: None) -> None:
    assert set(Department.objects.values_list("code", flat=True)) >= {
        code for code, _name in dialogue_demo.DEPARTMENTS
    }
    assert Department.objects.get(code="customer-service").name == "Atención al cliente"
    usernames = [u.username for u in demo.DEMO_USERS] + [u[0] for u in demo.FORMER_SALES]
    users = User.objects.filter(username__in=usernames)
    assert users.count() == len(usernames)
    assert not users.filter(department__isnull=True).exists()
    departments = dict(users.values_list("username", "department__code"))
    assert departments["ana.sales"] == "sales"
    assert departments["sofia.service"] == "customer-service"


def test_demo_interactions_cover_three_years_at_twenty_five_per_customer(
    demo_company: None,
) -> None:
    interactions = Interaction.objects.all()
    assert interactions.count() == SMALL_DEMO * dialogue_demo.DEMO_INTERACTIONS_PER_CUSTOMER
    now = timezone.now()
    earliest = interactions.order_by("occurred_at").first()
    latest = interactions.order_by("-occurred_at").first()
    assert earliest is not None and latest is not None
    assert earliest.occurred_at >= now - timedelta(days=3 * 365 + 2)
    assert earliest.occurred_at < now - timedelta(days=2 * 365)
    assert latest.occurred_at < now
    assert timezone.is_aware(latest.occurred_at)
    # Nothing happened before the customer existed.
    for customer_id, created_at, first in Customer.objects.values_list(
        "pk", "created_at", "interactions__occurred_at"
    ).order_by("pk")[:2000]:
        if first is not None:
            assert first >= created_at, customer_id


def test_demo_interactions_mix_channels_directions_departments_and_the_customers_voice(
    demo_company: None,
) -> None:
    interactions = Interaction.objects.all()
    total = interactions.count()
    voice = interactions.exclude(voice="")
    assert 0.11 <= voice.count() / total <= 0.19
    assert set(voice.values_list("voice", flat=True)) == {
        "feedback",
        "complaint",
        "idea",
        "suggestion",
    }
    assert not voice.exclude(direction=Direction.INBOUND).exists()
    directions = Counter(interactions.values_list("direction", flat=True))
    assert 0.3 <= directions["inbound"] / total <= 0.7
    assert len(set(interactions.values_list("channel", flat=True))) >= 8
    departments = Counter(interactions.values_list("department__code", flat=True))
    assert set(departments) == {code for code, _name in dialogue_demo.DEPARTMENTS}
    assert departments["sales"] == max(departments.values())
    assert interactions.filter(sentiment="negative", voice="complaint").exists()
    assert interactions.exclude(notes="").count() == total
    assert not interactions.filter(notes__contains="{name}").exists()


def test_demo_sales_interactions_are_handled_by_the_account_executive_of_the_moment(
    demo_company: None,
) -> None:
    history = defaultdict(list)
    for assignment in AccountExecutiveAssignment.objects.order_by("started_at"):
        history[assignment.customer_id].append(assignment)
    checked = 0
    for interaction in Interaction.objects.filter(department__code="sales").order_by("pk")[:3000]:
        spans = history[interaction.customer_id]
        if not spans:
            continue
        holder = next(
            (
                a.user_id
                for a in spans
                if a.started_at <= interaction.occurred_at
                and (a.ended_at is None or interaction.occurred_at < a.ended_at)
            ),
            spans[-1].user_id,
        )
        assert interaction.handled_by_id == holder
        checked += 1
    assert checked > 1000
    billing = Interaction.objects.filter(department__code="billing")
    assert set(billing.values_list("handled_by__username", flat=True)) == {"rosa.readonly"}


def test_demo_follow_ups_are_mostly_done_with_some_still_open(demo_company: None) -> None:
    follow_ups = Interaction.objects.filter(follow_up_on__isnull=False)
    still_open = Interaction.objects.follow_ups_open()
    assert follow_ups.count() > 300
    assert 0 < still_open.count() < follow_ups.count() * 0.3
    for interaction in follow_ups.filter(follow_up_done_at__isnull=False)[:500]:
        assert interaction.follow_up_done_at is not None
        assert interaction.follow_up_done_at >= interaction.occurred_at


def test_demo_rhythms_are_learned_and_about_one_relationship_in_twenty_goes_quiet(
    demo_company: None,
) -> None:
    today = timezone.localdate()
    customers = Customer.objects.exclude(last_interaction_at__isnull=True)
    assert customers.count() == SMALL_DEMO  # everyone has a history
    with_rhythm = customers.exclude(contact_rhythm_days__isnull=True)
    assert with_rhythm.count() > SMALL_DEMO * 0.7
    rhythms = {days for days in with_rhythm.values_list("contact_rhythm_days", flat=True) if days}
    assert min(rhythms) <= 14 and max(rhythms) >= 60
    # A few top accounts had their rhythm set by hand (through the service, audited).
    assert customers.filter(
        contact_rhythm_learned=False, contact_rhythm_days__isnull=False
    ).exists()
    overdue = with_rhythm.filter(next_contact_due__lt=today - timedelta(days=14))
    assert 0.02 * SMALL_DEMO <= overdue.count() <= 0.12 * SMALL_DEMO


def test_demo_quiet_relationships_fell_silent_for_several_rhythms(db: None) -> None:
    demo.create_demo_data(customers=SMALL_DEMO)
    now = timezone.now()
    customers = list(Customer.objects.all())
    quiet = [
        c
        for c in customers
        if c.contact_rhythm_days
        and c.last_interaction_at is not None
        and (now - c.last_interaction_at).days > 3 * c.contact_rhythm_days
    ]
    assert 0.02 * SMALL_DEMO <= len(quiet) <= 0.1 * SMALL_DEMO


def test_demo_interactions_speak_the_customers_language(demo_company: None) -> None:
    spanish = {t.subject for s in dialogue_demo.SCENES for t in s.texts["es"]}
    english = {t.subject for s in dialogue_demo.SCENES for t in s.texts["en"]}
    for subject, language in Interaction.objects.values_list(
        "subject", "customer__language"
    ).order_by("pk")[:3000]:
        assert subject in (spanish if language == "es" else english)


def test_demo_interactions_are_the_same_every_time(demo_company: None) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        return list(
            Interaction.objects.order_by(
                "customer__external_id", "occurred_at", "subject"
            ).values_list("customer__external_id", "channel", "subject", "direction")[:2000]
        )

    first = snapshot()
    Customer.objects.all().delete()
    demo.create_demo_data(customers=SMALL_DEMO)
    assert snapshot() == first
