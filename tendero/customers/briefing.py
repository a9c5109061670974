"""The briefing "before you talk to them": what a shopkeeper would remember when
the customer walks in. One read, a fixed number of queries however long the
customer's history is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from tendero.customers.knowledge import UpcomingDate, recent_and_upcoming
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
    PersonalFact,
)
from tendero.dialogue.models import Interaction

RECENT_FACTS = 5
RECENT_INTERACTIONS = 3
DATES_AHEAD_DAYS = 30


@dataclass
class Briefing:
    customer: Customer
    address_as: str
    contacts: list[Contact]
    primary_contact: Contact | None
    upcoming_dates: list[UpcomingDate]
    recent_facts: list[PersonalFact]
    recent_interactions: list[Interaction]
    open_follow_ups: list[Interaction]
    days_since_last_contact: int | None
    overdue_days: int | None
    tenure_days: int | None

    @property
    def has_anything_open(self) -> bool:
        return bool(self.open_follow_ups or self.overdue_days)


def with_briefing_fields(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customer query of the 360 page: the account executive, the start of
    their current assignment (their tenure) and the primary email and phone
    (`first_email`, `first_phone`), all in the one row, so the header costs one query."""
    current_assignment = AccountExecutiveAssignment.objects.filter(
        customer_id=OuterRef("pk"), ended_at__isnull=True
    ).values("started_at")[:1]
    first_email = CustomerEmail.objects.filter(customer_id=OuterRef("pk")).values("address")[:1]
    first_phone = CustomerPhone.objects.filter(customer_id=OuterRef("pk")).values("number")[:1]
    return queryset.select_related("account_executive", "value").annotate(
        assigned_since=Subquery(current_assignment),
        first_email=Subquery(first_email),
        first_phone=Subquery(first_phone),
    )


def _interactions(customer: Customer) -> tuple[list[Interaction], list[Interaction]]:
    """The latest interactions and every open follow-up, in one query."""
    latest = (
        Interaction.objects.filter(customer_id=customer.pk)
        .order_by("-occurred_at", "-id")
        .values("id")[:RECENT_INTERACTIONS]
    )
    rows = list(
        Interaction.objects.filter(customer_id=customer.pk)
        .filter(
            Q(pk__in=Subquery(latest))
            | Q(follow_up_on__isnull=False, follow_up_done_at__isnull=True)
        )
        .select_related("handled_by", "contact", "department")
        .order_by("-occurred_at", "-id")
    )
    # Any row newer than the third latest interaction is one of the latest three.
    recent = rows[:RECENT_INTERACTIONS]
    open_ones = sorted(
        (row for row in rows if row.is_follow_up_open),
        key=lambda row: (row.follow_up_on or date.max, row.pk),
    )
    return recent, open_ones


def build(customer: Customer, contacts: list[Contact], today: date | None = None) -> Briefing:
    """The briefing for `customer` (already fetched through `with_briefing_fields`
    and scoped to the reader); `contacts` are its contacts, already fetched."""
    now = timezone.now()
    today = today or timezone.localdate()
    recent, open_ones = _interactions(customer)
    facts, dates = recent_and_upcoming(customer, today, limit=RECENT_FACTS, days=DATES_AHEAD_DAYS)
    primary = next((c for c in contacts if c.is_primary), contacts[0] if contacts else None)
    last: datetime | None = customer.last_interaction_at
    overdue = None
    if customer.next_contact_due and customer.next_contact_due < today:
        overdue = (today - customer.next_contact_due).days
    assigned_since: datetime | None = getattr(customer, "assigned_since", None)
    return Briefing(
        customer=customer,
        address_as=customer.address_name,
        contacts=contacts,
        primary_contact=primary,
        upcoming_dates=dates,
        recent_facts=facts,
        recent_interactions=recent,
        open_follow_ups=open_ones,
        days_since_last_contact=(now - last).days if last else None,
        overdue_days=overdue,
        tenure_days=max((now - assigned_since).days, 0) if assigned_since else None,
    )
