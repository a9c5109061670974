"""What the customers API accepts and answers, as ninja (pydantic) schemas.

Input schemas forbid unknown fields so that a typo answers 422 instead of being
silently ignored; string limits match the model columns. The services validate
meaning (emails, phone numbers, countries...) and answer with field errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import (
    StrictBool,
    StrictInt,
)

from tendero.core.schemas import (
    BodyId,
    Email,
    InputSchema,
    Moment,
    MultilineText,
    ObjectId,
    Page,
    PageParams,
    PatchSchema,
    Phone,
    TagName,
    Text,
    UserRef,
    Version,
)
from tendero.customers.models import (
    AccountExecutiveAssignment,
    AcquisitionSource,
    Contact,
    Customer,
    CustomerKind,
    LifecycleStage,
    RelationshipLevel,
    RelationshipLevelChange,
)

# Customers


CustomerOrdering = Literal["display_name", "-display_name", "created_at", "-created_at"]


class CustomerListParams(PageParams):
    q: Text | None = Field(
        None,
        max_length=200,
        description="Search as you type: every word must begin a word of the name or "
        "preferred name (accents and case ignored), or the email, phone or tax id.",
    )
    kind: CustomerKind | None = None
    lifecycle_stage: LifecycleStage | None = None
    relationship_level: RelationshipLevel | None = None
    account_executive: ObjectId | None = Field(None, description="A user id.")
    tag: TagName | None = Field(None, description="A tag name.")
    country: Text | None = Field(None, max_length=2, description="ISO 3166 code, e.g. ES.")
    created_after: Moment | None = None
    created_before: Moment | None = None
    ordering: CustomerOrdering = "display_name"


class CustomerOut(Schema):
    id: int
    kind: CustomerKind
    display_name: str
    preferred_name: str
    tax_id: str
    external_id: str
    emails: list[str]
    phones: list[str] = Field(description="E.164, e.g. +34612345678.")
    street: str
    city: str
    region: str
    postal_code: str
    country: str = Field(description="ISO 3166 code, or empty.")
    language: str
    currency: str
    acquisition_source: str
    lifecycle_stage: LifecycleStage
    relationship_level: int = Field(ge=1, le=4)
    relationship_level_label: str
    account_executive: UserRef | None
    account_executive_since: datetime | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_emails(obj: Customer) -> list[str]:
        return [email.address for email in obj.emails.all()]

    @staticmethod
    def resolve_phones(obj: Customer) -> list[str]:
        return [phone.number for phone in obj.phones.all()]

    @staticmethod
    def resolve_tags(obj: Customer) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_country(obj: Customer) -> str:
        # django-countries answers a Country object; its str() is the code.
        return str(obj.country or "")

    @staticmethod
    def resolve_relationship_level_label(obj: Customer) -> str:
        return str(RelationshipLevel(obj.relationship_level).label)

    @staticmethod
    def resolve_account_executive_since(obj: Customer) -> datetime | None:
        if obj.account_executive_id is None:
            return None
        # Annotated by the list and detail querysets; one query otherwise.
        since = getattr(obj, "account_executive_since", None)
        if since is None:
            current = obj.account_executive_assignments.filter(ended_at__isnull=True).first()
            since = current.started_at if current else None
        return since


class CustomerPage(Page):
    items: list[CustomerOut]


class CustomerIn(InputSchema):
    """A new customer. Emails, phones and tags are replaced as a whole."""

    kind: CustomerKind
    display_name: Text = Field(max_length=200)
    preferred_name: Text = Field("", max_length=100)
    tax_id: Text = Field("", max_length=40)
    external_id: Text = Field("", max_length=100)
    street: Text = Field("", max_length=200)
    city: Text = Field("", max_length=100)
    region: Text = Field("", max_length=100)
    postal_code: Text = Field("", max_length=20)
    country: Text = Field("", max_length=2, description="ISO 3166 code, e.g. ES.")
    language: Text = Field("", max_length=8, description="e.g. es, en, pt-BR.")
    currency: Text = Field("", max_length=3, description="ISO 4217 code, e.g. EUR.")
    acquisition_source: AcquisitionSource | Literal[""] = ""
    lifecycle_stage: LifecycleStage = LifecycleStage.PROSPECT
    emails: list[Email] = Field(default_factory=list, max_length=10)
    phones: list[Phone] = Field(
        default_factory=list, max_length=10, description="Normalised to E.164."
    )
    tags: list[TagName] = Field(default_factory=list, max_length=10)
    account_executive_id: BodyId | None = Field(
        None, description="A user id; by default the creator, if they work a portfolio."
    )


class CustomerPatch(PatchSchema):
    """Only the fields sent change; `version` is the one you read (409 if stale)."""

    version: Version
    kind: CustomerKind | None = Field(None)
    display_name: Text | None = Field(None, max_length=200)
    preferred_name: Text | None = Field(None, max_length=100)
    tax_id: Text | None = Field(None, max_length=40)
    external_id: Text | None = Field(None, max_length=100)
    street: Text | None = Field(None, max_length=200)
    city: Text | None = Field(None, max_length=100)
    region: Text | None = Field(None, max_length=100)
    postal_code: Text | None = Field(None, max_length=20)
    country: Text | None = Field(None, max_length=2)
    language: Text | None = Field(None, max_length=8)
    currency: Text | None = Field(None, max_length=3)
    acquisition_source: AcquisitionSource | Literal[""] | None = Field(None)
    lifecycle_stage: LifecycleStage | None = Field(None)
    emails: list[Email] | None = Field(None, max_length=10)
    phones: list[Phone] | None = Field(None, max_length=10)
    tags: list[TagName] | None = Field(None, max_length=10)


class RelationshipLevelIn(InputSchema):
    to_level: StrictInt = Field(ge=1, le=4, description="One rung up or down: 1 Product … 4 Trust.")
    reason: MultilineText = Field(min_length=1, max_length=2000)


class RelationshipLevelChangeOut(Schema):
    id: int
    from_level: int
    from_level_label: str
    to_level: int
    to_level_label: str
    changed_at: datetime
    changed_by: UserRef | None
    reason: str

    @staticmethod
    def resolve_from_level_label(obj: RelationshipLevelChange) -> str:
        return str(RelationshipLevel(obj.from_level).label)

    @staticmethod
    def resolve_to_level_label(obj: RelationshipLevelChange) -> str:
        return str(RelationshipLevel(obj.to_level).label)


class RelationshipLevelChangePage(Page):
    items: list[RelationshipLevelChangeOut]


class AccountExecutiveIn(InputSchema):
    user_id: BodyId | None = Field(description="The new account executive; null for nobody.")
    reason: Text = Field("", max_length=200)


class AssignmentOut(Schema):
    id: int
    user: UserRef
    started_at: datetime
    ended_at: datetime | None
    tenure_days: int
    assigned_by: UserRef | None
    reason: str

    @staticmethod
    def resolve_tenure_days(obj: AccountExecutiveAssignment) -> int:
        return obj.tenure_days()


class AssignmentPage(Page):
    items: list[AssignmentOut]


# Contacts


class ContactOut(Schema):
    id: int
    customer_id: int
    first_name: str
    last_name: str
    full_name: str
    preferred_name: str
    role: str
    email: str
    phone: str
    is_primary: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_full_name(obj: Contact) -> str:
        return obj.full_name


class ContactPage(Page):
    items: list[ContactOut]


class ContactListParams(PageParams):
    customer_id: ObjectId | None = None


class ContactIn(InputSchema):
    first_name: Text = Field(max_length=100)
    last_name: Text = Field("", max_length=100)
    preferred_name: Text = Field("", max_length=100)
    role: Text = Field("", max_length=100)
    email: Text = Field("", max_length=254)
    phone: Text = Field("", max_length=40)
    is_primary: StrictBool = False


class ContactPatch(PatchSchema):
    """Only the fields sent change; `version` is the one you read (409 if stale)."""

    version: Version
    first_name: Text | None = Field(None, max_length=100)
    last_name: Text | None = Field(None, max_length=100)
    preferred_name: Text | None = Field(None, max_length=100)
    role: Text | None = Field(None, max_length=100)
    email: Text | None = Field(None, max_length=254)
    phone: Text | None = Field(None, max_length=40)
    is_primary: StrictBool | None = Field(None)


# Tags


class TagOut(Schema):
    id: int
    name: str


class TagPage(Page):
    items: list[TagOut]


class TagListParams(PageParams):
    q: Text | None = Field(None, max_length=50, description="Part of the name.")
