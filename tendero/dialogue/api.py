"""Dialogue: /api/v1/ endpoints for interactions, the customer's voice, the going-quiet
list and contact rhythms.

Every fetch is scoped to what the caller may see (outside it: 404, like an unknown
id); every change goes through tendero.dialogue.services or tendero.dialogue.rhythm,
whose NotAllowed, InvalidData and VersionConflict become 403, 422 and 409.
"""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from tendero.accounts.api import request_user
from tendero.core.idempotency import idempotent
from tendero.core.schemas import PAGINATION_DESCRIPTION, ErrorOut, paginate
from tendero.core.services import MAX_ID, require_to_see
from tendero.customers.api import get_visible_customer
from tendero.customers.models import Customer
from tendero.dialogue import rhythm, services
from tendero.dialogue.models import Interaction
from tendero.dialogue.schemas import (
    ContactRhythmIn,
    ContactRhythmOut,
    GoingQuietPage,
    GoingQuietParams,
    InteractionIn,
    InteractionListParams,
    InteractionOut,
    InteractionPage,
    InteractionPatch,
    VoiceListParams,
    interaction_for_display,
)
from tendero.dialogue.views import voice_interactions

router = Router(tags=["Dialogue"])

READ_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
VERSIONED_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}
DISPLAY = ("customer", "contact", "department", "handled_by")


def _visible_interaction(request: HttpRequest, interaction_id: int) -> Interaction:
    interaction = None
    if 1 <= interaction_id <= MAX_ID:
        interaction = (
            Interaction.objects.visible_to(request_user(request))
            .select_related(*DISPLAY)
            .filter(pk=interaction_id)
            .first()
        )
    if interaction is None:
        raise HttpError(404, _("No such interaction."))
    return interaction


# Interactions of one customer


@router.get(
    "/customers/{customer_id}/interactions",
    response={200: InteractionPage, **READ_ERRORS},
    summary="List a customer's interactions",
    description="Newest first (with `follow_up_open`, soonest due first). "
    + PAGINATION_DESCRIPTION,
)
def list_interactions(
    request: HttpRequest, customer_id: int, params: Query[InteractionListParams]
) -> dict[str, Any]:
    require_to_see(request_user(request), "dialogue.view_interaction")
    customer = get_visible_customer(request, customer_id)
    qs = Interaction.objects.filter(customer=customer)
    if params.channel:
        qs = qs.filter(channel=params.channel)
    if params.direction:
        qs = qs.filter(direction=params.direction)
    if params.department_id:
        qs = qs.filter(department_id=params.department_id)
    if params.voice:
        qs = qs.filter(voice=params.voice)
    if params.voice_only:
        qs = qs.voice()
    if params.since:
        qs = qs.filter(occurred_at__gte=params.since)
    if params.until:
        qs = qs.filter(occurred_at__lt=params.until)
    if params.follow_up_open:
        qs = qs.follow_ups_open().order_by("follow_up_on", "id")
    else:
        qs = qs.order_by("-occurred_at", "-id")
    return paginate(request, qs.select_related(*DISPLAY), params, counted=qs)


@router.post(
    "/customers/{customer_id}/interactions",
    response={201: InteractionOut, **WRITE_ERRORS},
    summary="Log an interaction",
)
@idempotent("dialogue.record_interaction")
def create_interaction(request: HttpRequest, customer_id: int, payload: InteractionIn) -> Status:
    customer = get_visible_customer(request, customer_id)
    data = payload.model_dump(exclude_unset=True)
    interaction = services.record_interaction(request_user(request), customer, data)
    return Status(201, interaction_for_display(interaction))


# One interaction


@router.get(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **READ_ERRORS},
    summary="Show an interaction",
)
def get_interaction(request: HttpRequest, interaction_id: int) -> Interaction:
    require_to_see(request_user(request), "dialogue.view_interaction")
    return _visible_interaction(request, interaction_id)


@router.patch(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **VERSIONED_WRITE_ERRORS},
    summary="Correct an interaction",
    description="Send only the fields that change, and the `version` you read: if someone "
    "changed the interaction since, nothing is saved and the answer is 409 with "
    "`current_version`.",
)
def update_interaction(
    request: HttpRequest, interaction_id: int, payload: InteractionPatch
) -> Interaction:
    interaction = _visible_interaction(request, interaction_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    for field in ("contact_id", "department_id"):
        if changes.get(field) == 0:
            changes[field] = None
    if changes.get("follow_up_on") == "":
        changes["follow_up_on"] = None
    services.update_interaction(request_user(request), interaction, changes, version)
    return interaction_for_display(interaction)


@router.delete(
    "/interactions/{interaction_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Delete an interaction",
)
def delete_interaction(request: HttpRequest, interaction_id: int) -> Status:
    interaction = _visible_interaction(request, interaction_id)
    services.delete_interaction(request_user(request), interaction)
    return Status(204, None)


@router.post(
    "/interactions/{interaction_id}/complete-follow-up",
    response={200: InteractionOut, **WRITE_ERRORS},
    summary="Mark the follow-up of an interaction as done",
)
def complete_follow_up(request: HttpRequest, interaction_id: int) -> Interaction:
    interaction = _visible_interaction(request, interaction_id)
    services.complete_follow_up(request_user(request), interaction)
    return interaction_for_display(interaction)


# Across customers


@router.get(
    "/voice",
    response={200: InteractionPage, **READ_ERRORS},
    summary="The customer's voice",
    description="Feedback, complaints, ideas and suggestions from every customer you may "
    "see, newest first. " + PAGINATION_DESCRIPTION,
)
def list_voice(request: HttpRequest, params: Query[VoiceListParams]) -> dict[str, Any]:
    require_to_see(request_user(request), "dialogue.view_interaction")
    filters = {
        "voice": params.voice,
        "channel": params.channel,
        "department": params.department_id,
        "sentiment": params.sentiment,
        "since": params.since,
        "until": params.until,
    }
    qs = voice_interactions(request_user(request), filters)
    return paginate(request, qs.select_related(*DISPLAY), params, counted=qs)


@router.get(
    "/going-quiet",
    response={200: GoingQuietPage, **READ_ERRORS},
    summary="Relationships going quiet",
    description="Customers you may see whose next contact is overdue against their own "
    "rhythm, most valuable first. " + PAGINATION_DESCRIPTION,
)
def list_going_quiet(request: HttpRequest, params: Query[GoingQuietParams]) -> dict[str, Any]:
    user = request_user(request)
    require_to_see(request_user(request), "customers.view_customer")
    today = timezone.localdate()
    qs = rhythm.going_quiet(user, today)
    counted = Customer.objects.visible_to(user).filter(next_contact_due__lt=today)
    if params.account_executive_id:
        qs = qs.filter(account_executive_id=params.account_executive_id)
        counted = counted.filter(account_executive_id=params.account_executive_id)
    page = paginate(request, qs.select_related("account_executive"), params, counted=counted)
    for customer in page["items"]:
        customer.days_overdue = (today - customer.next_contact_due).days
    return page


@router.put(
    "/customers/{customer_id}/contact-rhythm",
    response={200: ContactRhythmOut, **VERSIONED_WRITE_ERRORS},
    summary="Set a customer's contact rhythm",
    description="`days`: every N days (1-3650), set by hand; null goes back to learning it "
    "from the customer's history. `version` is the customer's (409 if stale).",
)
def set_contact_rhythm(
    request: HttpRequest, customer_id: int, payload: ContactRhythmIn
) -> Customer:
    customer = get_visible_customer(request, customer_id)
    return rhythm.set_contact_rhythm(request_user(request), customer, payload.days, payload.version)
