"""The briefing "before you talk to them": what a shopkeeper would remember when
the customer walks in. One read, a fixed number of queries however long the
customer's history is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
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
# The open follow-ups shown, soonest due first; the rest are counted and listed on
# their own page, so the page costs the same for a customer with thousands of them.
OPEN_FOLLOW_UPS_SHOWN = 5
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
    open_follow_ups_total: int
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


def _interactions(customer: Customer) -> tuple[list[Interaction], list[Interaction], int]:
    """The latest interactions, the open follow-ups due soonest and how many follow-ups
    are open in all, in one query whatever the length of the history."""
    mine = Interaction.objects.filter(customer_id=customer.pk)
    latest = mine.order_by("-occurred_at", "-id").values("id")[:RECENT_INTERACTIONS]
    open_ones = mine.follow_ups_open()
    soonest = open_ones.order_by("follow_up_on", "id").values("id")[:OPEN_FOLLOW_UPS_SHOWN]
    # The count is a subquery that does not depend on the row: computed once.
    open_total = open_ones.values("customer_id").annotate(total=Count("id")).values("total")
    rows: list[Interaction] = list(
        mine.filter(Q(pk__in=Subquery(latest)) | Q(pk__in=Subquery(soonest)))
        .annotate(open_total=Subquery(open_total))
        # Who handled it is all the briefing shows of the related rows.
        .select_related("handled_by")
        .order_by("-occurred_at", "-id")
    )
    # Any row newer than the third latest interaction is one of the latest three.
    recent = rows[:RECENT_INTERACTIONS]
    due = sorted(
        (row for row in rows if row.is_follow_up_open),
        key=lambda row: (row.follow_up_on or date.max, row.pk),
    )[:OPEN_FOLLOW_UPS_SHOWN]
    total = int(getattr(rows[0], "open_total", 0) or 0) if rows else 0
    return recent, due, total


def build(customer: Customer, contacts: list[Contact], today: date | None = None) -> Briefing:
    """The briefing for `customer` (already fetched through `with_briefing_fields`
    and scoped to the reader); `contacts` are its contacts, already fetched."""
    now = timezone.now()
    today = today or timezone.localdate()
    recent, open_ones, open_total = _interactions(customer)
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
        open_follow_ups_total=open_total,
        days_since_last_contact=(now - last).days if last else None,
        overdue_days=overdue,
        tenure_days=max((now - assigned_since).days, 0) if assigned_since else None,
    )
