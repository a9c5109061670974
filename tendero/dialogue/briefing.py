"""The dialogue's part of the briefing: the last conversations, the open follow-ups
due soonest and whether contact is overdue, in one query whatever the length of
the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, Subquery
from django.utils import timezone

from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction

RECENT_INTERACTIONS = 3
# The open follow-ups shown, soonest due first; the rest are counted and listed on
# their own page, so the page costs the same for a customer with thousands of them.
OPEN_FOLLOW_UPS_SHOWN = 5


@dataclass
class Conversations:
    recent: list[Interaction]
    open_follow_ups: list[Interaction]
    open_follow_ups_total: int
    days_since_last_contact: int | None
    overdue_days: int | None

    @property
    def open_items(self) -> int:
        return len(self.open_follow_ups) + (1 if self.overdue_days else 0)


def conversations(customer: Customer, today: date) -> Conversations:
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
    last = customer.last_interaction_at
    overdue = None
    if customer.next_contact_due and customer.next_contact_due < today:
        overdue = (today - customer.next_contact_due).days
    return Conversations(
        recent=recent,
        open_follow_ups=due,
        open_follow_ups_total=total,
        days_since_last_contact=(timezone.now() - last).days if last else None,
        overdue_days=overdue,
    )
