"""Search as you type: GET /api/v1/search?q=…"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tendero.accounts.api import request_user
from tendero.core.schemas import ErrorOut, QueryParams, Text
from tendero.customers.models import Customer
from tendero.customers.search import MAX_LIMIT, MAX_QUERY_LENGTH, search_customers

router = Router(tags=["Search"])


class SearchParams(QueryParams):
    q: Text = Field(
        "",
        max_length=MAX_QUERY_LENGTH,
        description="What was typed: words that begin a name, contact name, email, "
        "phone number or tax id. Accents and case are ignored.",
    )
    limit: int = Field(10, ge=1, le=MAX_LIMIT, description=f"How many results, 1 to {MAX_LIMIT}.")


class SearchResultOut(Schema):
    id: int
    display_name: str
    preferred_name: str
    kind: str
    primary_email: str
    primary_phone: str = Field(description="E.164, e.g. +34612345678.")
    tax_id: str
    url: str


class SearchOut(Schema):
    results: list[SearchResultOut]
    query: str


def _result(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "display_name": customer.display_name,
        "preferred_name": customer.preferred_name,
        "kind": customer.kind,
        "primary_email": getattr(customer, "primary_email_address", None) or "",
        "primary_phone": getattr(customer, "primary_phone_number", None) or "",
        "tax_id": customer.tax_id,
        "url": customer.get_absolute_url(),
    }


@router.get(
    "/search",
    response={200: SearchOut, 422: ErrorOut},
    summary="Search customers as you type",
    description="The customers you may see for whom every word of `q` begins one of "
    "their names (or a contact's), emails, phone numbers or tax id, ordered by the "
    "word that matched. An empty `q` (or one of only punctuation) finds nothing.",
)
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    customers = search_customers(request_user(request), params.q, params.limit)
    return {"results": [_result(customer) for customer in customers], "query": params.q}
