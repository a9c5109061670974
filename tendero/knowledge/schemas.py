"""What the personal knowledge API accepts and answers (ninja schemas).

Inputs forbid unknown fields; lengths match the model. The knowledge services
check meaning (a family member needs a family relation and a name, contacts and
interactions must be the same customer's...) and answer with field errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import StrictBool

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
    QueryParams,
    Text,
    UserRef,
    Version,
)
from tendero.knowledge.models import FactKind, PersonalFact, RelationKind
from tendero.knowledge.services import NO_YEAR, REASON_MAX, RELATED_NAME_MAX, TEXT_MAX


class PersonRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.full_name)


class FactOut(Schema):
    id: int
    customer_id: int
    contact: PersonRef | None = Field(description="Whom it is about; null: the customer.")
    kind: FactKind
    kind_label: str
    text: str
    relation: str = Field(description="For family members and relations; empty otherwise.")
    relation_label: str
    related_name: str
    related_contact: PersonRef | None = Field(
        description="The related person, when they are also a contact of the customer."
    )
    date: dt.date | None
    recurs_yearly: bool
    year_known: bool = Field(description="False for a yearly date stored without its year.")
    learned_by: UserRef | None
    learned_at: dt.datetime
    source_interaction_id: int | None
    is_current: bool
    retired_at: dt.datetime | None
    retired_by: UserRef | None
    retired_reason: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_kind_label(obj: PersonalFact) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_relation_label(obj: PersonalFact) -> str:
        return str(obj.get_relation_display()) if obj.relation else ""

    @staticmethod
    def resolve_year_known(obj: PersonalFact) -> bool:
        return obj.date is not None and obj.date.year != NO_YEAR

    @staticmethod
    def resolve_is_current(obj: PersonalFact) -> bool:
        return obj.is_current


class FactPage(Page):
    items: list[FactOut]


class FactListParams(PageParams):
    include_retired: bool = Field(False, description="Also the facts no longer true.")
    kind: FactKind | None = None
    contact_id: ObjectId | None = Field(
        None, description="Only the facts about this contact of the customer."
    )


class FactIn(InputSchema):
    """A new fact. Family members and relations need `relation` and `related_name`;
    the others need `text`. Dates are YYYY-MM-DD; a yearly date whose year is not
    known is sent in year 1604."""

    kind: FactKind
    text: MultilineText = Field("", max_length=TEXT_MAX)
    contact_id: BodyId | None = Field(None, description="A contact of the customer; null: them.")
    relation: RelationKind | Literal[""] = ""
    related_name: Text = Field("", max_length=RELATED_NAME_MAX)
    related_contact_id: BodyId | None = None
    date: Day | None = None
    recurs_yearly: StrictBool = Field(False, description="Birthdays and anniversaries.")
    source_interaction_id: BodyId | None = Field(
        None, description="The interaction (with this customer) in which it was learned."
    )
    learned_at: Moment | None = Field(None, description="Default: now; never in the future.")


class FactPatch(PatchSchema):
    """Only the fields sent change; `version` is the one you read (409 if stale).
    `contact_id`, `related_contact_id`, `date` and `source_interaction_id` may be
    null (about the customer themself; no date...)."""

    clearable = frozenset({"contact_id", "related_contact_id", "date", "source_interaction_id"})

    version: Version
    kind: FactKind | None = None
    text: MultilineText | None = Field(None, max_length=TEXT_MAX)
    contact_id: BodyId | None = None
    relation: RelationKind | Literal[""] | None = None
    related_name: Text | None = Field(None, max_length=RELATED_NAME_MAX)
    related_contact_id: BodyId | None = None
    date: Day | None = None
    recurs_yearly: StrictBool | None = None
    source_interaction_id: BodyId | None = None
    learned_at: Moment | None = None


class RetireIn(InputSchema):
    reason: Text = Field("", max_length=REASON_MAX, description="Why it is no longer true.")
    version: Version


class ImportantDateParams(QueryParams):
    days: int = Field(30, ge=0, le=366, description="How many days ahead, today included.")


class ImportantDateOut(Schema):
    on: dt.date = Field(description="The day it falls on next.")
    days_away: int
    years: int | None = Field(
        description="Years it will be (a 40th birthday), when the first year is known."
    )
    fact: FactOut
