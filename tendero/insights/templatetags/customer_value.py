"""Lifetime-value scores in templates, without a query per customer."""

from typing import Any

from django import template

from tendero.customers.models import Customer
from tendero.insights.models import CustomerValue, Segment

register = template.Library()

# Badge classes of the stylesheet whose colours fit each segment.
SEGMENT_BADGES = {
    Segment.CHAMPION: "stage-active",
    Segment.LOYAL: "stage-active",
    Segment.NEW: "stage-won_back",
    Segment.AT_RISK: "badge-warn",
    Segment.HIBERNATING: "",
    Segment.LOST: "stage-lapsed",
}
NOT_LOADED = "not-loaded"


@register.filter
def loaded_value(customer: Customer) -> CustomerValue | str | None:
    """The customer's scores if the query that fetched them loaded the scores
    (`select_related("value")`); None when they have none; "not-loaded" when
    the query did not load them (never a query of its own: safe in lists)."""
    if not Customer.value.is_cached(customer):
        return NOT_LOADED
    return getattr(customer, "value", None)


@register.filter
def customer_value(customer: Customer) -> CustomerValue | None:
    """The customer's scores, or None when not scored: from the customer's query
    when it loaded them, else one query (for a single customer's page)."""
    loaded = loaded_value(customer)
    if loaded != NOT_LOADED:
        return loaded if isinstance(loaded, CustomerValue) else None
    return CustomerValue.objects.filter(customer_id=customer.pk).first()


@register.filter
def segment_badge(value: Any) -> str:
    segment: str = getattr(value, "segment", "")
    return SEGMENT_BADGES.get(Segment(segment), "") if segment in Segment.values else ""


@register.filter
def value_loaded(customer: Customer | None) -> bool:
    """Whether the customer's query loaded their scores (the list shows the column then)."""
    return customer is not None and loaded_value(customer) != NOT_LOADED
