"""Customers, contacts, account executives, the relationship ladder and tags: /api/v1/.

Handlers parse and fetch; every fetch is scoped to what the caller may see (a
customer outside their scope is 404, exactly like an unknown id) and every change
goes through tendero.customers.services, whose NotAllowed, InvalidData and
VersionConflict become 403, 422 and 409 in tendero.api.
"""

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from tendero.accounts.api import request_user
from tendero.accounts.models import User
from tendero.core.errors import InvalidData
from tendero.core.schemas import PAGINATION_DESCRIPTION, ErrorOut, PageParams, paginate
from tendero.core.services import MAX_ID, require_to_see
from tendero.customers import services
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    RelationshipLevelChange,
    Tag,
)
from tendero.customers.schemas import (
    AccountExecutiveIn,
    AssignmentPage,
    ContactIn,
    ContactListParams,
    ContactOut,
    ContactPage,
    ContactPatch,
    CustomerIn,
    CustomerListParams,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    RelationshipLevelChangeOut,
    RelationshipLevelChangePage,
    RelationshipLevelIn,
    TagListParams,
    TagPage,
)

router = Router(tags=["customers"])

READ_ERRORS: dict[int, Any] = {404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
VERSIONED_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}


def customers_for_display(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Everything CustomerOut shows, in a fixed number of queries whatever the page size."""
    since = AccountExecutiveAssignment.objects.filter(
        customer=OuterRef("pk"), ended_at__isnull=True
    ).values("started_at")[:1]
    return (
        queryset.select_related("account_executive")
        .prefetch_related("emails", "phones", "tags")
        .annotate(account_executive_since=Subquery(since))
    )


def get_visible_customer(request: HttpRequest, customer_id: int) -> Customer:
    """The customer, if the caller may see it; 404 otherwise (unknown or out of scope)."""
    customer = None
    if 1 <= customer_id <= MAX_ID:
        customer = Customer.objects.visible_to(request_user(request)).filter(pk=customer_id).first()
    if customer is None:
        raise HttpError(404, _("No such customer."))
    return customer


def _get_visible_contact(request: HttpRequest, contact_id: int) -> Contact:
    contact = None
    if 1 <= contact_id <= MAX_ID:
        contact = (
            Contact.objects.visible_to(request_user(request))
            .select_related("customer")
            .filter(pk=contact_id)
            .first()
        )
    if contact is None:
        raise HttpError(404, _("No such contact."))
    return contact


def customer_out(customer_id: int) -> Customer:
    return customers_for_display(Customer.objects.filter(pk=customer_id)).get()


# Customers


@router.get(
    "/customers",
    response=CustomerPage,
    summary="List customers",
    description="The customers you may see, filtered and ordered. " + PAGINATION_DESCRIPTION,
)
def list_customers(request: HttpRequest, params: Query[CustomerListParams]) -> dict[str, Any]:
    customers = Customer.objects.visible_to(request_user(request)).matching(
        q=params.q,
        kind=params.kind,
        lifecycle_stage=params.lifecycle_stage,
        relationship_level=params.relationship_level,
        account_executive_id=params.account_executive,
        tag=params.tag,
        country=params.country,
        created_after=params.created_after,
        created_before=params.created_before,
    )
    tie_breaker = "-id" if params.ordering.startswith("-") else "id"
    ordered = customers_for_display(customers.order_by(params.ordering, tie_breaker))
    return paginate(request, ordered, params, counted=customers)


@router.post(
    "/customers",
    response={201: CustomerOut, **WRITE_ERRORS},
    summary="Create a customer",
)
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status:
    by = request_user(request)
    data = payload.model_dump(mode="json")
    executive_id = data.pop("account_executive_id")
    executive = None
    if executive_id is not None:
        executive = User.objects.filter(pk=executive_id, is_active=True).first()
        if executive is None:
            raise InvalidData(
                _("Please correct the errors below."),
                {"account_executive_id": [_("No such user.")]},
            )
    customer = services.create_customer(by, data, account_executive=executive)
    return Status(201, customer_out(customer.pk))


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerOut, **READ_ERRORS},
    summary="Show a customer",
)
def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    customer = get_visible_customer(request, customer_id)
    return customer_out(customer.pk)


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, **VERSIONED_WRITE_ERRORS},
    summary="Change a customer",
    description="Send only the fields that change, and the `version` you read: if someone "
    "changed the customer since, nothing is saved and the answer is 409 with "
    "`current_version`.",
)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> Customer:
    customer = get_visible_customer(request, customer_id)
    changes = payload.model_dump(mode="json", exclude_unset=True)
    version = changes.pop("version")
    services.update_customer(request_user(request), customer, version, changes)
    return customer_out(customer.pk)


@router.delete(
    "/customers/{customer_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a customer",
)
def delete_customer(request: HttpRequest, customer_id: int) -> Status:
    customer = get_visible_customer(request, customer_id)
    services.delete_customer(request_user(request), customer)
    return Status(204, None)


# The relationship ladder


@router.post(
    "/customers/{customer_id}/relationship-level",
    response={201: RelationshipLevelChangeOut, **VERSIONED_WRITE_ERRORS},
    summary="Move the relationship one level",
)
def change_relationship_level(
    request: HttpRequest, customer_id: int, payload: RelationshipLevelIn
) -> Status:
    customer = get_visible_customer(request, customer_id)
    change = services.change_relationship_level(
        request_user(request), customer, payload.to_level, payload.reason
    )
    return Status(201, change)


@router.get(
    "/customers/{customer_id}/relationship-level/history",
    response={200: RelationshipLevelChangePage, **READ_ERRORS},
    summary="Relationship level changes",
    description="Newest first. " + PAGINATION_DESCRIPTION,
)
def relationship_level_history(
    request: HttpRequest, customer_id: int, params: Query[PageParams]
) -> dict[str, Any]:
    customer = get_visible_customer(request, customer_id)
    changes = RelationshipLevelChange.objects.filter(customer=customer).select_related("changed_by")
    return paginate(request, changes.order_by("-changed_at", "-id"), params)


# Account executives


@router.post(
    "/customers/{customer_id}/account-executive",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Assign the account executive",
    description="`user_id: null` leaves the customer without one. The previous "
    "assignment is closed and kept in the history.",
)
def assign_account_executive(
    request: HttpRequest, customer_id: int, payload: AccountExecutiveIn
) -> Customer:
    customer = get_visible_customer(request, customer_id)
    executive = None
    if payload.user_id is not None:
        executive = User.objects.filter(pk=payload.user_id).first()
        if executive is None:
            raise InvalidData(
                _("Please correct the errors below."), {"user_id": [_("No such user.")]}
            )
    services.assign_account_executive(request_user(request), customer, executive, payload.reason)
    return customer_out(customer.pk)


@router.get(
    "/customers/{customer_id}/account-executive/history",
    response={200: AssignmentPage, **READ_ERRORS},
    summary="Account executive history",
    description="Every assignment, newest first; `ended_at` is null for the current "
    "one. " + PAGINATION_DESCRIPTION,
)
def account_executive_history(
    request: HttpRequest, customer_id: int, params: Query[PageParams]
) -> dict[str, Any]:
    customer = get_visible_customer(request, customer_id)
    assignments = AccountExecutiveAssignment.objects.filter(customer=customer).select_related(
        "user", "assigned_by"
    )
    return paginate(request, assignments.order_by("-started_at", "-id"), params)


# Contacts


@router.get(
    "/customers/{customer_id}/contacts",
    response={200: ContactPage, **READ_ERRORS},
    summary="A customer's contacts",
    description=PAGINATION_DESCRIPTION,
    tags=["contacts"],
)
def list_customer_contacts(
    request: HttpRequest, customer_id: int, params: Query[PageParams]
) -> dict[str, Any]:
    customer = get_visible_customer(request, customer_id)
    return paginate(request, Contact.objects.filter(customer=customer), params)


@router.post(
    "/customers/{customer_id}/contacts",
    response={201: ContactOut, **WRITE_ERRORS},
    summary="Add a contact",
    tags=["contacts"],
)
def create_contact(request: HttpRequest, customer_id: int, payload: ContactIn) -> Status:
    customer = get_visible_customer(request, customer_id)
    contact = services.create_contact(request_user(request), customer, payload.model_dump())
    return Status(201, contact)


@router.get(
    "/contacts",
    response=ContactPage,
    summary="List contacts",
    description="Contacts of the customers you may see. " + PAGINATION_DESCRIPTION,
    tags=["contacts"],
)
def list_contacts(request: HttpRequest, params: Query[ContactListParams]) -> dict[str, Any]:
    contacts = Contact.objects.visible_to(request_user(request))
    if params.customer_id is not None:
        contacts = contacts.filter(customer_id=params.customer_id)
    return paginate(
        request,
        contacts.order_by("customer_id", "-is_primary", "last_name", "first_name", "id"),
        params,
    )


@router.get(
    "/contacts/{contact_id}",
    response={200: ContactOut, **READ_ERRORS},
    summary="Show a contact",
    tags=["contacts"],
)
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    return _get_visible_contact(request, contact_id)


@router.patch(
    "/contacts/{contact_id}",
    response={200: ContactOut, **VERSIONED_WRITE_ERRORS},
    summary="Change a contact",
    description="Send only the fields that change, and the `version` you read (409 if stale).",
    tags=["contacts"],
)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    contact = _get_visible_contact(request, contact_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    return services.update_contact(request_user(request), contact, version, changes)


@router.delete(
    "/contacts/{contact_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Remove a contact",
    tags=["contacts"],
)
def delete_contact(request: HttpRequest, contact_id: int) -> Status:
    contact = _get_visible_contact(request, contact_id)
    services.delete_contact(request_user(request), contact)
    return Status(204, None)


# Tags


@router.get(
    "/tags",
    response={200: TagPage, 403: ErrorOut},
    summary="List tags",
    description="Alphabetical. " + PAGINATION_DESCRIPTION,
    tags=["tags"],
)
def list_tags(request: HttpRequest, params: Query[TagListParams]) -> dict[str, Any]:
    require_to_see(request_user(request), "customers.view_tag")
    tags = Tag.objects.order_by("name", "id")
    if params.q:
        tags = tags.filter(name__icontains=params.q)
    return paginate(request, tags, params)
