"""The API kit every app's schemas are built from: the one rule for text, moments and
days, ids and versions within the database's limits, input schemas that refuse
unknown fields, partial updates, query parameters, pagination and the error body."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

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
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tendero.core.pagination import COUNT_LIMIT, fetch_window
from tendero.core.services import MAX_ID, MAX_VERSION
from tendero.core.text import check_text

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
