"""A customer's timeline and briefing: /api/v1/customers/{id}/timeline and /briefing.

The timeline is a feed of entries of several kinds (interactions, personal facts,
relationship-level changes, account-executive changes, merges; later quotes,
cases, promises, purchases), newest first, paged with an opaque cursor so that
a page costs the same however long the history is."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from tendero.core import timeline
from tendero.core.schemas import ErrorOut, QueryParams
from tendero.customers import briefing
from tendero.customers.api import get_visible_customer
from tendero.customers.models import Customer
from tendero.dialogue.models import Channel, Direction

router = Router(tags=["Timeline"])


class TimelineParams(QueryParams):
    cursor: str | None = Field(
        None, max_length=200, description="`next_cursor` of the previous page."
    )
    size: int = Field(timeline.PAGE_SIZE, ge=1, le=timeline.MAX_PAGE_SIZE)
    group: Literal["dialogue", "knowledge", "history"] | None = Field(
        None, description="Only entries of this group."
    )
    channel: Channel | None = None
    direction: Direction | None = None
    department_id: int | None = Field(None, ge=1, le=2**31 - 1)
    voice_only: bool = Field(False, description="Only the customer's own voice.")


class TimelineEntryOut(Schema):
    kind: str = Field(
        description="interaction, fact, level_change, assignment or merge (more to come)."
    )
    id: int = Field(description="The id of the entry's own record (e.g. the interaction).")
    occurred_at: datetime
    title: str
    body: str
    channel: str = Field(description="Interactions: channel. Facts: the fact kind.")
    direction: str = Field(description="Interactions: direction. Facts: the relation.")
    voice: str
    sentiment: str
    outcome: str
    department: str
    actor: str = Field(description="Who handled, learned or changed it.")
    extra: str = Field(description="Interactions: the contact spoken with.")


class TimelinePageOut(Schema):
    entries: list[TimelineEntryOut]
    next_cursor: str | None


@router.get(
    "/customers/{customer_id}/timeline",
    response={200: TimelinePageOut, 404: ErrorOut, 422: ErrorOut},
    summary="A customer's timeline",
    description="Everything that happened with the customer, newest first. Pass the "
    "`next_cursor` of a page as `cursor` to get the next one; it is null on the last page.",
)
def customer_timeline(
    request: HttpRequest, customer_id: int, params: Query[TimelineParams]
) -> dict[str, Any]:
    customer = get_visible_customer(request, customer_id)
    cursor = None
    if params.cursor:
        cursor = timeline.Cursor.decode(params.cursor)
        if cursor is None:
            raise HttpError(422, _("This cursor is not valid; start again without one."))
    filters = timeline.TimelineFilters(
        groups=frozenset([params.group]) if params.group else frozenset(),
        channel=params.channel or "",
        direction=params.direction or "",
        department_id=params.department_id,
        voice_only=params.voice_only,
    )
    page = timeline.page([customer.pk], filters=filters, cursor=cursor, size=params.size)
    return {
        "entries": [
            {
                "kind": entry.kind,
                "id": entry.object_id,
                "occurred_at": entry.occurred_at,
                "title": entry.title,
                "body": entry.body,
                "channel": entry.channel,
                "direction": entry.direction,
                "voice": entry.voice,
                "sentiment": entry.sentiment,
                "outcome": entry.outcome,
                "department": entry.department,
                "actor": entry.actor,
                "extra": entry.extra,
            }
            for entry in page.entries
        ],
        "next_cursor": page.next_cursor,
    }


class UpcomingDateOut(Schema):
    fact_id: int
    on: date
    days_away: int
    years: int | None
    kind: str
    text: str
    relation: str
    related_name: str
    about_contact_id: int | None


class FactBriefOut(Schema):
    id: int
    kind: str
    text: str
    relation: str
    related_name: str
    about_contact_id: int | None
    learned_at: datetime


class InteractionBriefOut(Schema):
    id: int
    occurred_at: datetime
    channel: str
    direction: str
    subject: str
    outcome: str
    follow_up_on: date | None


class BriefingOut(Schema):
    address_as: str
    language: str
    upcoming_dates: list[UpcomingDateOut]
    recent_facts: list[FactBriefOut]
    recent_interactions: list[InteractionBriefOut]
    open_follow_ups: list[InteractionBriefOut] = Field(
        description="The open follow-ups due soonest (at most 5); "
        "GET /customers/{id}/interactions?follow_up_open=true lists them all."
    )
    open_follow_ups_total: int = Field(description="How many follow-ups are open in all.")
    last_interaction_at: datetime | None
    next_contact_due: date | None
    overdue_days: int | None


@router.get(
    "/customers/{customer_id}/briefing",
    response={200: BriefingOut, 404: ErrorOut},
    summary="What to know before talking to a customer",
    description="How to address them, important dates in the next 30 days, the latest "
    "personal facts and conversations, and what is open.",
)
def customer_briefing(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    visible = get_visible_customer(request, customer_id)
    customer = briefing.with_briefing_fields(Customer.objects.filter(pk=visible.pk)).get()
    contacts = list(customer.contacts.all()) if customer.is_organisation else []
    brief = briefing.build(customer, contacts)
    talks = brief.section("dialogue.conversations")

    def interaction(row: Any) -> dict[str, Any]:
        return {
            "id": row.pk,
            "occurred_at": row.occurred_at,
            "channel": row.channel,
            "direction": row.direction,
            "subject": row.subject,
            "outcome": row.outcome,
            "follow_up_on": row.follow_up_on,
        }

    return {
        "address_as": brief.address_as,
        "language": customer.language,
        "upcoming_dates": [
            {
                "fact_id": item.fact.pk,
                "on": item.on,
                "days_away": item.days_away,
                "years": item.years,
                "kind": item.fact.kind,
                "text": item.fact.text,
                "relation": item.fact.relation,
                "related_name": item.fact.related_name,
                "about_contact_id": item.fact.contact_id,
            }
            for item in brief.upcoming_dates
        ],
        "recent_facts": [
            {
                "id": fact.pk,
                "kind": fact.kind,
                "text": fact.text,
                "relation": fact.relation,
                "related_name": fact.related_name,
                "about_contact_id": fact.contact_id,
                "learned_at": fact.learned_at,
            }
            for fact in brief.recent_facts
        ],
        "recent_interactions": [interaction(row) for row in talks.recent],
        "open_follow_ups": [interaction(row) for row in talks.open_follow_ups],
        "open_follow_ups_total": talks.open_follow_ups_total,
        "last_interaction_at": customer.last_interaction_at,
        "next_contact_due": customer.next_contact_due,
        "overdue_days": talks.overdue_days,
    }
