"""What the customers API accepts and answers, as ninja (pydantic) schemas.

Input schemas forbid unknown fields so that a typo answers 422 instead of being
silently ignored; string limits match the model columns. The services validate
meaning (emails, phone numbers, countries...) and answer with field errors.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Strict,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tendero.core.text import check_text
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
from tendero.pagination import COUNT_LIMIT, fetch_window

# Database integer limits: anything outside them cannot be a row, so it never
# reaches a query (SQLite and PostgreSQL would fail on it rather than answer "none").
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1
MAX_OFFSET = 1_000_000_000


def _one_line(value: str) -> str:
    # tendero.core.text's rule, with its message, on the text the service will keep
    # (stripped: surrounding whitespace is not an error).
    try:
        check_text(value.strip())
    except ValidationError as error:
        raise PydanticCustomError(str(error.code), error.messages[0]) from None
    return value


def _multiline(value: str) -> str:
    try:
        check_text(value.replace("\r\n", "\n").replace("\r", "\n").strip(), multiline=True)
    except ValidationError as error:
        raise PydanticCustomError(str(error.code), error.messages[0]) from None
    return value


def _storable_moment(value: datetime) -> datetime:
    # Naive means the server's time zone; the database compares in UTC, which
    # must stay within year 1..9999.
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_range", _("Date out of range.")) from None


def _iso_8601(value: Any) -> Any:
    # pydantic reads a number, or text of one, as a Unix timestamp: `until=0.5` would
    # be a moment of 1970. Dates and moments are ISO 8601 text (or Python's own).
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        raise PydanticCustomError(
            "iso_date", _("Must be an ISO 8601 date, e.g. 2024-03-15 or 2024-03-15T10:30:00Z.")
        )
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Every text field: one line (names, cities, subjects...) or several (notes, reasons).
Text = Annotated[str, AfterValidator(_one_line)]
MultilineText = Annotated[str, AfterValidator(_multiline)]
Moment = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_storable_moment)]
Day = Annotated[date, BeforeValidator(_iso_8601)]
Email = Annotated[Text, Field(max_length=254)]
Phone = Annotated[Text, Field(max_length=40)]
TagName = Annotated[Text, Field(max_length=50)]
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
# In JSON bodies numbers must be numbers: true or "2" are mistakes, not versions.
BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Version = Annotated[
    int,
    Strict(),
    Field(ge=1, le=MAX_VERSION, description="The version you read; see 409 Conflict."),
]


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


def _only_clearable_fields_are_nullable(schema: dict[str, Any], cls: type) -> None:
    # The `X | None = None` of a patch field means "may be left out", not "may be null":
    # the document says null only where the schema accepts it.
    clearable: frozenset[str] = getattr(cls, "clearable", frozenset())
    for name, field in schema.get("properties", {}).items():
        variants = field.get("anyOf", [])
        if name in clearable or not any(v.get("type") == "null" for v in variants):
            continue
        kept = [v for v in variants if v.get("type") != "null"]
        field.pop("anyOf")
        if field.get("default", 0) is None:
            field.pop("default")
        if len(kept) == 1:
            field.update({**kept[0], **field})
        else:
            field["anyOf"] = kept


class PatchSchema(InputSchema):
    """Partial updates: a field left out stays as it is. Sending null is refused
    rather than read as "blank it", which would be ambiguous, except in the fields
    named in `clearable`, where null means none (no contact, no date); the OpenAPI
    document declares only those nullable."""

    clearable: ClassVar[frozenset[str]] = frozenset()
    model_config = ConfigDict(json_schema_extra=_only_clearable_fields_are_nullable)

    @field_validator("*", mode="before")
    @classmethod
    def _null_is_not_a_value(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise PydanticCustomError("null", _("Leave the field out instead of sending null."))
        return value


class QueryParams(Schema):
    """Query parameters; unknown parameters answer 422 (a mistyped filter would
    otherwise silently return everything)."""

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_parameters(cls, data: Any, info: ValidationInfo) -> Any:
        request = (info.context or {}).get("request")
        if isinstance(request, HttpRequest):
            unknown = sorted(set(request.GET) - set(cls.model_fields))
            if unknown:
                raise PydanticCustomError(
                    "unknown_parameter",
                    _("Unknown query parameter(s): {names}."),
                    {"names": ", ".join(unknown)},
                )
        return data


class PageParams(QueryParams):
    limit: int = Field(25, ge=1, le=200, description="How many items, 1 to 200.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many items to skip.")


PAGINATION_DESCRIPTION = (
    "Paginated with `limit` (1-200, default 25) and `offset`. `next` and `previous` are "
    f"ready-made URLs (null at either end). `count` is exact up to {COUNT_LIMIT:,}; beyond "
    "that the database is not asked to count every row (that would be slow on millions "
    "of customers): `count_is_exact` is false and `count` is a lower bound. Ask for a "
    "narrower filter rather than paging deep: large offsets get slower."
)


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    params: PageParams,
    counted: QuerySet[Any] | None = None,
) -> dict[str, Any]:
    """One page of `queryset` with a bounded count (see fetch_window) and links."""
    limit, offset = params.limit, params.offset
    window = fetch_window(queryset, offset, limit, counted)
    return {
        "items": window.items,
        "count": window.count,
        "count_is_exact": window.count_is_exact,
        "next": _page_url(request, offset + limit, limit) if window.has_next else None,
        "previous": _page_url(request, max(offset - limit, 0), limit) if offset > 0 else None,
    }


def _page_url(request: HttpRequest, offset: int, limit: int) -> str:
    query = request.GET.copy()
    query["offset"] = str(offset)
    query["limit"] = str(limit)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class Page(Schema):
    count: int = Field(description=f"Matching items; a lower bound beyond {COUNT_LIMIT:,}.")
    count_is_exact: bool
    next: str | None
    previous: str | None


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None
    current_version: int | None = None


class UserRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


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
