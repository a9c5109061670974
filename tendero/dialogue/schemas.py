"""What the dialogue API accepts and answers. Inputs forbid unknown fields; the
services validate meaning (whose contact, active department, no voice on outbound,
nothing in the future)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import Strict

from tendero.core.schemas import (
    BodyId,
    Day,
    InputSchema,
    Moment,
    MultilineText,
    ObjectId,
    Page,
    PageParams,
    PatchSchema,
    Text,
    UserRef,
    Version,
)
from tendero.customers.models import Customer, RelationshipLevel
from tendero.dialogue.models import Channel, Direction, Interaction, Sentiment, Voice

VoiceOrBlank = Voice | Literal[""]
SentimentOrBlank = Sentiment | Literal[""]
RhythmDays = Annotated[int, Strict(), Field(ge=1, le=3650)]


class DepartmentRef(Schema):
    id: int
    name: str


class ContactRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.full_name)


class CustomerRef(Schema):
    id: int
    display_name: str


class InteractionOut(Schema):
    id: int
    customer: CustomerRef
    channel: Channel
    direction: Direction
    occurred_at: datetime
    subject: str
    notes: str
    contact: ContactRef | None
    department: DepartmentRef | None
    handled_by: UserRef | None
    voice: str = Field(description="feedback, complaint, idea, suggestion, or empty.")
    sentiment: str
    outcome: str
    follow_up_on: date | None
    follow_up_done_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class InteractionPage(Page):
    items: list[InteractionOut]


class InteractionIn(InputSchema):
    """A new interaction. `occurred_at` defaults to now (at most 5 minutes ahead);
    `handled_by_id` to you and `department_id` to your department."""

    channel: Channel
    direction: Direction
    subject: Text = Field(min_length=1, max_length=200)
    notes: MultilineText = Field("", max_length=10_000)
    occurred_at: Moment | None = None
    contact_id: BodyId | None = None
    department_id: BodyId | None = None
    handled_by_id: BodyId | None = None
    voice: VoiceOrBlank = Field("", description="Inbound only.")
    sentiment: SentimentOrBlank = ""
    outcome: Text = Field("", max_length=200)
    follow_up_on: Day | None = None


class InteractionPatch(PatchSchema):
    """Only the fields sent change; `version` is the one you read (409 if stale).
    `contact_id`, `department_id` and `follow_up_on` may be null (none)."""

    clearable = frozenset({"contact_id", "department_id", "follow_up_on"})

    version: Version
    channel: Channel | None = Field(None)
    direction: Direction | None = Field(None)
    subject: Text | None = Field(None, min_length=1, max_length=200)
    notes: MultilineText | None = Field(None, max_length=10_000)
    occurred_at: Moment | None = Field(None)
    contact_id: BodyId | Literal[0] | None = Field(None, description="0 or null for nobody.")
    department_id: BodyId | Literal[0] | None = Field(None, description="0 or null for none.")
    handled_by_id: BodyId | None = Field(None)
    voice: VoiceOrBlank | None = Field(None)
    sentiment: SentimentOrBlank | None = Field(None)
    outcome: Text | None = Field(None, max_length=200)
    follow_up_on: Day | Literal[""] | None = Field(None, description='"" or null for none.')


class InteractionListParams(PageParams):
    channel: Channel | None = None
    direction: Direction | None = None
    department_id: ObjectId | None = None
    voice: Voice | None = None
    voice_only: bool = Field(False, description="Only feedback, complaints, ideas, suggestions.")
    follow_up_open: bool = Field(
        False, description="Only interactions whose follow-up is still open, soonest due first."
    )
    since: Moment | None = None
    until: Moment | None = None


class VoiceListParams(PageParams):
    voice: Voice | None = None
    channel: Channel | None = None
    department_id: ObjectId | None = None
    sentiment: Sentiment | None = None
    since: Day | None = Field(None, description="From this day (inclusive).")
    until: Day | None = Field(None, description="Up to this day (inclusive).")


class GoingQuietParams(PageParams):
    account_executive_id: ObjectId | None = Field(
        None, description="Only this account executive's customers (if you see everyone's)."
    )


class GoingQuietOut(Schema):
    id: int
    display_name: str
    relationship_level: int
    relationship_level_label: str
    account_executive: UserRef | None
    contact_rhythm_days: int | None
    contact_rhythm_learned: bool
    last_interaction_at: datetime | None
    next_contact_due: date | None
    days_overdue: int = Field(description="Days since the next contact fell due.")

    @staticmethod
    def resolve_relationship_level_label(obj: Customer) -> str:
        return str(RelationshipLevel(obj.relationship_level).label)


class GoingQuietPage(Page):
    items: list[GoingQuietOut]


class ContactRhythmIn(InputSchema):
    days: RhythmDays | None = Field(description="Every N days (1-3650); null to learn it.")
    version: Version


class ContactRhythmOut(Schema):
    id: int
    contact_rhythm_days: int | None
    contact_rhythm_learned: bool
    last_interaction_at: datetime | None
    next_contact_due: date | None
    version: int


def interaction_for_display(interaction: Interaction) -> Interaction:
    return Interaction.objects.select_related(
        "customer", "contact", "department", "handled_by"
    ).get(pk=interaction.pk)
