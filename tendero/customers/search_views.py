"""Search pages: the suggestions under the top bar's search box (an htmx fragment)
and the full results page, which also works without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tendero.customers.models import Customer
from tendero.customers.search import (
    MAX_LIMIT,
    MAX_QUERY_LENGTH,
    ParsedQuery,
    digits_highlight_spans,
    highlight_spans,
    normalise,
    parse_query,
    search_customers,
)
from tendero.customers.validation import format_phone

SUGGESTIONS = 8

Pieces = list[tuple[str, bool]]


@dataclass
class SearchRow:
    """A result as shown: each text cut into (piece, matched) parts, escaped by the
    template like any other text."""

    customer: Customer
    name: Pieces
    preferred_name: Pieces
    email: Pieces
    phone: Pieces
    tax_id: Pieces


def marked(text: str, parsed: ParsedQuery) -> Pieces:
    """`text` with the parts that matched the query marked."""
    if not text:
        return []
    if parsed.kind == "email":
        word = parsed.words[0]
        if normalise(text).startswith(word):
            return [(text[: len(word)], True), (text[len(word) :], False)]
        return [(text, False)]
    pieces = highlight_spans(text, parsed.words)
    if len(parsed.words) == 1 and not any(matched for _piece, matched in pieces):
        pieces = digits_highlight_spans(text, parsed.words[0])
    return pieces


def _rows(customers: list[Customer], parsed: ParsedQuery) -> list[SearchRow]:
    rows = []
    for customer in customers:
        phone = getattr(customer, "primary_phone_number", None) or ""
        rows.append(
            SearchRow(
                customer=customer,
                name=marked(customer.display_name, parsed),
                preferred_name=marked(customer.preferred_name, parsed),
                email=marked(getattr(customer, "primary_email_address", None) or "", parsed),
                phone=marked(format_phone(phone), parsed) if phone else [],
                tax_id=marked(customer.tax_id, parsed),
            )
        )
    return rows


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "")[:MAX_QUERY_LENGTH]


@login_required
def suggest(request: HttpRequest) -> HttpResponse:
    """The options of the search box's listbox; an empty body when there is nothing to
    search for (the box's dropdown then hides)."""
    q = _query(request)
    parsed = parse_query(q)
    if not parsed:
        return HttpResponse("")
    customers = search_customers(request.user, q, SUGGESTIONS)
    context = {"q": q, "rows": _rows(customers, parsed)}
    return render(request, "customers/search/_suggestions.html", context)


@login_required
def results(request: HttpRequest) -> HttpResponse:
    """Every match up to the search limit, as a page of its own."""
    q = _query(request)
    parsed = parse_query(q)
    customers = search_customers(request.user, q, MAX_LIMIT) if parsed else []
    context = {
        "q": q,
        "searched": bool(parsed),
        "rows": _rows(customers, parsed),
        "limit_reached": len(customers) >= MAX_LIMIT,
    }
    return render(request, "customers/search/results.html", context)
