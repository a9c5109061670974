"""Duplicates: REST endpoints — the open pairs, dismissing one, a customer's live
candidates, and merging two customers. Fetches are scoped to what the caller may
see (404 otherwise); changes go through the duplicates and merging services."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from tendero.accounts.api import request_user
from tendero.core.schemas import (
    PAGINATION_DESCRIPTION,
    BodyId,
    ErrorOut,
    InputSchema,
    Page,
    PageParams,
    Version,
    paginate,
)
from tendero.core.services import MAX_ID, require_to_see
from tendero.customers.api import VERSIONED_WRITE_ERRORS, customer_out, get_visible_customer
from tendero.customers.models import Customer
from tendero.customers.schemas import CustomerOut
from tendero.stewardship.duplicates import (
    dismiss_duplicate_pair,
    duplicates_of,
    open_pairs_for,
    reason_labels,
)
from tendero.stewardship.merging import MergeableField, merge_customers
from tendero.stewardship.models import DuplicatePair, DuplicateReason

router = Router(tags=["Duplicates"])

Side = Literal["survivor", "duplicate"]


class CustomerSummary(Schema):
    id: int
    display_name: str
    email: str
    phone: str
    tax_id: str
    city: str
    country: str
    created_at: datetime

    @staticmethod
    def resolve_email(obj: Customer) -> str:
        return obj.primary_email

    @staticmethod
    def resolve_phone(obj: Customer) -> str:
        return obj.primary_phone

    @staticmethod
    def resolve_country(obj: Customer) -> str:
        return str(obj.country or "")


class DuplicatePairOut(Schema):
    id: int
    first: CustomerSummary
    second: CustomerSummary
    reasons: list[DuplicateReason]
    reason_labels: list[str]
    score: int = Field(description="0-100: how likely they are one customer.")
    detected_at: datetime
    dismissed_at: datetime | None

    @staticmethod
    def resolve_reason_labels(obj: DuplicatePair) -> list[str]:
        return reason_labels(obj.reasons)


class DuplicatePairPage(Page):
    items: list[DuplicatePairOut]


class CandidateOut(Schema):
    customer: CustomerSummary
    reasons: list[DuplicateReason]
    reason_labels: list[str]
    score: int


class MergeIn(InputSchema):
    duplicate_id: BodyId = Field(description="The customer merged into this one and removed.")
    survivor_version: Version
    duplicate_version: Version
    field_choices: dict[MergeableField, Side] = Field(
        default_factory=dict,
        description="Per field, whose value to keep (default: the survivor's).",
    )


class MergeOut(Schema):
    customer: CustomerOut
    merge_id: int


@router.get(
    "/duplicates",
    response={200: DuplicatePairPage, 403: ErrorOut},
    summary="List possible duplicates",
    description="Open pairs of customers that look like one, strongest first, among the "
    "customers you may see. " + PAGINATION_DESCRIPTION,
)
def list_duplicates(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    require_to_see(request_user(request), "stewardship.view_duplicatepair")
    user = request_user(request)
    return paginate(
        request, open_pairs_for(user), params, counted=DuplicatePair.objects.open().visible_to(user)
    )


@router.post(
    "/duplicates/{pair_id}/dismiss",
    response={200: DuplicatePairOut, 403: ErrorOut, 404: ErrorOut},
    summary="Dismiss a pair: not a duplicate",
    description="The pair is no longer listed and detection never brings it back.",
)
def dismiss_duplicate(request: HttpRequest, pair_id: int) -> DuplicatePair:
    user = request_user(request)
    pair = None
    if 1 <= pair_id <= MAX_ID:
        pair = (
            DuplicatePair.objects.visible_to(user)
            .select_related("first", "second")
            .prefetch_related("first__emails", "first__phones", "second__emails", "second__phones")
            .filter(pk=pair_id)
            .first()
        )
    if pair is None:
        raise HttpError(404, _("No such pair."))
    return dismiss_duplicate_pair(user, pair)


@router.get(
    "/customers/{customer_id}/duplicates",
    response={200: list[CandidateOut], 403: ErrorOut, 404: ErrorOut},
    summary="A customer's possible duplicates",
    description="Customers you may see that share an email, phone, tax id or name with "
    "this one now (similar names too on PostgreSQL), strongest first.",
)
def customer_duplicates(request: HttpRequest, customer_id: int) -> list[dict[str, Any]]:
    customer = get_visible_customer(request, customer_id)
    require_to_see(request_user(request), "stewardship.view_duplicatepair")
    return [
        {
            "customer": candidate.customer,
            "reasons": candidate.reasons,
            "reason_labels": candidate.reason_labels,
            "score": candidate.score,
        }
        for candidate in duplicates_of(customer, request_user(request))
    ]


@router.post(
    "/customers/{customer_id}/merge",
    response={200: MergeOut, **VERSIONED_WRITE_ERRORS},
    summary="Merge a duplicate into this customer",
    description="Moves everything of `duplicate_id` (interactions, facts, contacts, history, "
    "emails, phones, tags...) to this customer and removes the duplicate. Both versions "
    "must be current (409 otherwise).",
)
def merge(request: HttpRequest, customer_id: int, payload: MergeIn) -> dict[str, Any]:
    survivor = get_visible_customer(request, customer_id)
    duplicate = get_visible_customer(request, payload.duplicate_id)
    record = merge_customers(
        request_user(request),
        survivor,
        duplicate,
        survivor_version=payload.survivor_version,
        duplicate_version=payload.duplicate_version,
        field_choices={str(name): str(side) for name, side in payload.field_choices.items()},
    )
    return {"customer": customer_out(survivor.pk), "merge_id": record.pk}
