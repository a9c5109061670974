"""Purchases: /api/v1/ endpoints for the ledger of what customers buy.

Every fetch is scoped to what the caller may see (outside it: 404, like an unknown
id); every change goes through tendero.contracts.services, whose NotAllowed,
InvalidData and VersionConflict become 403, 422 and 409.
"""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from tendero.accounts.api import request_user
from tendero.contracts import services
from tendero.contracts.models import Purchase
from tendero.contracts.schemas import (
    CustomerPurchaseListParams,
    PurchaseBatchIn,
    PurchaseBatchOut,
    PurchaseDeleteParams,
    PurchaseIn,
    PurchaseListParams,
    PurchaseOut,
    PurchasePage,
    PurchasePatch,
)
from tendero.core.idempotency import idempotent
from tendero.core.schemas import PAGINATION_DESCRIPTION, ErrorOut, paginate
from tendero.core.services import MAX_ID, require_to_see
from tendero.customers.api import get_visible_customer
from tendero.customers.models import Customer

router = Router(tags=["Purchases"])

READ_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
VERSIONED_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}
DISPLAY = ("customer", "created_by")


def _visible_purchase(request: HttpRequest, purchase_id: int) -> Purchase:
    purchase = None
    if 1 <= purchase_id <= MAX_ID:
        purchase = (
            Purchase.objects.visible_to(request_user(request))
            .select_related(*DISPLAY)
            .filter(pk=purchase_id)
            .first()
        )
    if purchase is None:
        raise HttpError(404, _("No such purchase."))
    return purchase


def _for_display(purchase: Purchase) -> Purchase:
    return Purchase.objects.select_related(*DISPLAY).get(pk=purchase.pk)


def _page(request: HttpRequest, qs: Any, params: Any) -> dict[str, Any]:
    qs = qs.order_by("-occurred_at", "-id")
    return paginate(request, qs.select_related(*DISPLAY), params, counted=qs)


# Across customers


@router.get(
    "/purchases",
    response={200: PurchasePage, **READ_ERRORS},
    summary="List purchases",
    description="Purchases of every customer you may see (a sales rep: their portfolio), "
    "newest first, narrowed by customer, source, currency and a time range. "
    + PAGINATION_DESCRIPTION,
)
def list_purchases(request: HttpRequest, params: Query[PurchaseListParams]) -> dict[str, Any]:
    require_to_see(request_user(request), "contracts.view_purchase")
    qs = Purchase.objects.visible_to(request_user(request))
    if params.customer_id:
        qs = qs.filter(customer_id=params.customer_id)
    if params.source:
        qs = qs.filter(source=params.source)
    if params.currency:
        qs = qs.filter(currency=params.currency.upper())
    if params.since:
        qs = qs.filter(occurred_at__gte=params.since)
    if params.until:
        qs = qs.filter(occurred_at__lt=params.until)
    return _page(request, qs, params)


@router.post(
    "/purchases/batch",
    response={200: PurchaseBatchOut, **WRITE_ERRORS},
    summary="Record many purchases at once",
    description="Up to 1,000 purchases, each with its `customer_id`, all or nothing: if any "
    "is wrong nothing is recorded and the answer is 422 with every problem under "
    '"items.<index>.<field>". Each is idempotent by `external_id`: sending the same '
    "batch again records nothing new.",
)
@idempotent("contracts.record_purchase_batch")
def record_batch(request: HttpRequest, payload: PurchaseBatchIn) -> dict[str, Any]:
    user = request_user(request)
    raw = [item.model_dump(exclude_unset=True) for item in payload.items]
    ids = {item["customer_id"] for item in raw}
    customers = Customer.objects.visible_to(user).in_bulk(ids)
    items = [(customers.get(data.pop("customer_id")), _with_api_source(data)) for data in raw]
    purchases = services.record_purchase_batch(user, items)
    shown = Purchase.objects.select_related(*DISPLAY).in_bulk([p.pk for p in purchases])
    created = {p.pk for p in purchases if p.just_created}
    return {
        "created": len(created),
        "already_recorded": len({p.pk for p in purchases} - created),
        "items": [shown[p.pk] for p in purchases],
    }


def _with_api_source(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("source", "api")
    return data


# One customer's purchases


@router.get(
    "/customers/{customer_id}/purchases",
    response={200: PurchasePage, **READ_ERRORS},
    summary="List a customer's purchases",
    description="Newest first. " + PAGINATION_DESCRIPTION,
)
def list_customer_purchases(
    request: HttpRequest, customer_id: int, params: Query[CustomerPurchaseListParams]
) -> dict[str, Any]:
    require_to_see(request_user(request), "contracts.view_purchase")
    customer = get_visible_customer(request, customer_id)
    qs = Purchase.objects.filter(customer=customer)
    if params.source:
        qs = qs.filter(source=params.source)
    if params.since:
        qs = qs.filter(occurred_at__gte=params.since)
    if params.until:
        qs = qs.filter(occurred_at__lt=params.until)
    return _page(request, qs, params)


@router.post(
    "/customers/{customer_id}/purchases",
    response={201: PurchaseOut, 200: PurchaseOut, **WRITE_ERRORS},
    summary="Record a purchase",
    description="201 when recorded; 200 with the purchase already there when its "
    "`external_id` was recorded before with the same customer, moment, amount and "
    "currency (a harmless repeat); 422 when that reference belongs to a different purchase.",
)
@idempotent("contracts.record_purchase")
def create_purchase(request: HttpRequest, customer_id: int, payload: PurchaseIn) -> Status:
    customer = get_visible_customer(request, customer_id)
    data = _with_api_source(payload.model_dump(exclude_unset=True))
    purchase = services.record_purchase(request_user(request), customer, data)
    return Status(201 if purchase.just_created else 200, _for_display(purchase))


# One purchase


@router.get(
    "/purchases/{purchase_id}",
    response={200: PurchaseOut, **READ_ERRORS},
    summary="Show a purchase",
)
def get_purchase(request: HttpRequest, purchase_id: int) -> Purchase:
    require_to_see(request_user(request), "contracts.view_purchase")
    return _visible_purchase(request, purchase_id)


@router.patch(
    "/purchases/{purchase_id}",
    response={200: PurchaseOut, **VERSIONED_WRITE_ERRORS},
    summary="Correct a purchase",
    description="Send only the fields that change, and the `version` you read: if someone "
    "changed the purchase since, nothing is saved and the answer is 409 with "
    "`current_version`. A refund is a new purchase with a negative amount, not a correction.",
)
def correct_purchase(request: HttpRequest, purchase_id: int, payload: PurchasePatch) -> Purchase:
    purchase = _visible_purchase(request, purchase_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    services.correct_purchase(request_user(request), purchase, changes, version)
    return _for_display(purchase)


@router.delete(
    "/purchases/{purchase_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Delete a purchase",
    description="For a purchase recorded by mistake; `version` (query) is the one you read "
    "(409 if stale).",
)
def delete_purchase(
    request: HttpRequest, purchase_id: int, params: Query[PurchaseDeleteParams]
) -> Status:
    purchase = _visible_purchase(request, purchase_id)
    services.delete_purchase(request_user(request), purchase, params.version)
    return Status(204, None)
