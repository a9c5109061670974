"""The briefing "before you talk to them": what a shopkeeper would remember when
the customer walks in. One read, a fixed number of queries however long the
customer's history is. How to address them, their contacts, dates coming up and
what we know are the customers' own; the other apps add their sections
(tendero.core.registry.register_briefing_section): the dialogue its last
conversations and open follow-ups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from tendero.core import registry
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
)
from tendero.knowledge.models import PersonalFact
from tendero.knowledge.services import UpcomingDate, recent_and_upcoming

RECENT_FACTS = 5
DATES_AHEAD_DAYS = 30


@dataclass
class Section:
    """A registered briefing section with its data for this customer."""

    key: str
    template: str
    open_template: str
    data: Any

    @property
    def open_items(self) -> int:
        return int(getattr(self.data, "open_items", 0) or 0)


@dataclass
class Briefing:
    customer: Customer
    address_as: str
    contacts: list[Contact]
    primary_contact: Contact | None
    upcoming_dates: list[UpcomingDate]
    recent_facts: list[PersonalFact]
    tenure_days: int | None
    # What the other apps bring (tendero.core.registry.briefing_sections), in order.
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Any:
        """The data of the section registered under `key` (None: not installed)."""
        return next((s.data for s in self.sections if s.key == key), None)

    @property
    def has_anything_open(self) -> bool:
        return any(section.open_items for section in self.sections)


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


def build(customer: Customer, contacts: list[Contact], today: date | None = None) -> Briefing:
    """The briefing for `customer` (already fetched through `with_briefing_fields`
    and scoped to the reader); `contacts` are its contacts, already fetched."""
    now = timezone.now()
    today = today or timezone.localdate()
    facts, dates = recent_and_upcoming(customer, today, limit=RECENT_FACTS, days=DATES_AHEAD_DAYS)
    primary = next((c for c in contacts if c.is_primary), contacts[0] if contacts else None)
    assigned_since: datetime | None = getattr(customer, "assigned_since", None)
    return Briefing(
        customer=customer,
        address_as=customer.address_name,
        contacts=contacts,
        primary_contact=primary,
        upcoming_dates=dates,
        recent_facts=facts,
        tenure_days=max((now - assigned_since).days, 0) if assigned_since else None,
        sections=[
            Section(s.key, s.template, s.open_template, s.data(customer, today))
            for s in registry.briefing_sections
        ],
    )
