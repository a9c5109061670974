"""Personal knowledge: REST endpoints (/api/v1/).

Facts about a customer and their contacts, their family and relations, and the
dates coming up. Customers and facts outside the caller's scope answer 404, like
unknown ids; changes go through tendero.knowledge.services, whose NotAllowed,
InvalidData and VersionConflict become 403, 422 and 409.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from tendero.accounts.api import request_user
from tendero.core.schemas import ErrorOut, PageParams, paginate
from tendero.core.services import MAX_ID, require_to_see
from tendero.customers.api import get_visible_customer
from tendero.customers.models import Customer
from tendero.knowledge import services as knowledge
from tendero.knowledge.models import PersonalFact
from tendero.knowledge.schemas import (
    FactIn,
    FactListParams,
    FactOut,
    FactPage,
    FactPatch,
    ImportantDateOut,
    ImportantDateParams,
    RetireIn,
)

router = Router(tags=["Personal knowledge"])

READ_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
VERSIONED_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}


def _readable_customer(request: HttpRequest, customer_id: int) -> Customer:
    customer = get_visible_customer(request, customer_id)
    require_to_see(request_user(request), "knowledge.view_personalfact")
    return customer


def _for_display(facts: QuerySet[PersonalFact]) -> QuerySet[PersonalFact]:
    return facts.select_related("contact", "related_contact", "learned_by", "retired_by")


def _get_visible_fact(request: HttpRequest, fact_id: int) -> PersonalFact:
    """The fact, if the caller may see its customer; 404 otherwise."""
    fact = None
    if 1 <= fact_id <= MAX_ID:
        fact = (
            _for_display(PersonalFact.objects.visible_to(request_user(request)))
            .select_related("customer")
            .filter(pk=fact_id)
            .first()
        )
    if fact is None:
        raise HttpError(404, _("No such fact."))
    require_to_see(request_user(request), "knowledge.view_personalfact")
    return fact


def _fact_out(fact_id: int) -> PersonalFact:
    return _for_display(PersonalFact.objects.filter(pk=fact_id)).get()


@router.get(
    "/customers/{customer_id}/facts",
    response={200: FactPage, **READ_ERRORS},
    summary="What we know about a customer",
    description="Facts about the customer and their contacts, most recently learned "
    "first; retired facts only with `include_retired`. Paginated with `limit` and "
    "`offset` like the other lists.",
)
def list_facts(
    request: HttpRequest, customer_id: int, params: Query[FactListParams]
) -> dict[str, Any]:
    customer = _readable_customer(request, customer_id)
    facts = PersonalFact.objects.filter(customer=customer)
    if not params.include_retired:
        facts = facts.current()
    if params.kind:
        facts = facts.filter(kind=params.kind)
    if params.contact_id is not None:
        facts = facts.filter(contact_id=params.contact_id)
    return paginate(request, _for_display(facts).order_by("-learned_at", "-id"), params, facts)


@router.post(
    "/customers/{customer_id}/facts",
    response={201: FactOut, **WRITE_ERRORS},
    summary="Record a fact",
    description="Learned by you, now unless `learned_at` says otherwise.",
)
def create_fact(request: HttpRequest, customer_id: int, payload: FactIn) -> Status:
    customer = get_visible_customer(request, customer_id)
    fact = knowledge.record_fact(request_user(request), customer, payload.model_dump())
    return Status(201, _fact_out(fact.pk))


@router.get(
    "/facts/{fact_id}",
    response={200: FactOut, **READ_ERRORS},
    summary="Show a fact",
)
def get_fact(request: HttpRequest, fact_id: int) -> PersonalFact:
    return _get_visible_fact(request, fact_id)


@router.patch(
    "/facts/{fact_id}",
    response={200: FactOut, **VERSIONED_WRITE_ERRORS},
    summary="Correct a fact",
    description="Send only the fields that change, and the `version` you read: if someone "
    "changed the fact since, nothing is saved and the answer is 409 with "
    "`current_version`. Retired facts cannot be corrected.",
)
def correct_fact(request: HttpRequest, fact_id: int, payload: FactPatch) -> PersonalFact:
    fact = _get_visible_fact(request, fact_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    knowledge.correct_fact(request_user(request), fact, changes, version)
    return _fact_out(fact.pk)


@router.post(
    "/facts/{fact_id}/retire",
    response={200: FactOut, **VERSIONED_WRITE_ERRORS},
    summary="Retire a fact",
    description="The fact is no longer true; it is kept, with who retired it, when and why.",
)
def retire_fact(request: HttpRequest, fact_id: int, payload: RetireIn) -> PersonalFact:
    fact = _get_visible_fact(request, fact_id)
    knowledge.retire_fact(request_user(request), fact, payload.reason, payload.version)
    return _fact_out(fact.pk)


@router.get(
    "/customers/{customer_id}/relations",
    response={200: FactPage, **READ_ERRORS},
    summary="Family and relations",
    description="The current family members and relations of the customer and their "
    "contacts (`relation`, `relation_label`, `related_name`, `related_contact`). "
    "Paginated with `limit` and `offset`.",
)
def list_relations(
    request: HttpRequest, customer_id: int, params: Query[PageParams]
) -> dict[str, Any]:
    customer = _readable_customer(request, customer_id)
    facts = (
        PersonalFact.objects.filter(customer=customer, kind__in=knowledge.RELATIONAL_KINDS)
        .current()
        .order_by("contact_id", "relation", "related_name", "id")
    )
    return paginate(request, _for_display(facts), params, facts)


@router.get(
    "/customers/{customer_id}/important-dates",
    response={200: list[ImportantDateOut], **READ_ERRORS},
    summary="Dates coming up",
    description="Birthdays, anniversaries and other dates of current facts in the next "
    "`days` days (0-366, default 30; today included), soonest first. A 29 February "
    "falls on 28 February in common years.",
)
def important_dates(
    request: HttpRequest, customer_id: int, params: Query[ImportantDateParams]
) -> list[Any]:
    customer = _readable_customer(request, customer_id)
    upcoming = knowledge.upcoming_dates(customer, timezone.localdate(), params.days)
    return [
        {"on": item.on, "days_away": item.days_away, "years": item.years, "fact": item.fact}
        for item in upcoming
    ]
