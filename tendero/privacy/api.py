"""The audit trail of a customer: /api/v1/customers/{id}/audit."""

from datetime import datetime
from typing import Any

from auditlog.models import LogEntry
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tendero.accounts.api import request_user
from tendero.audit.models import AuditEntry
from tendero.core.errors import NotAllowed
from tendero.core.schemas import PAGINATION_DESCRIPTION, ErrorOut, Page, PageParams, UserRef
from tendero.core.schemas import paginate as paginate_queryset
from tendero.customers.api import get_visible_customer

router = Router(tags=["audit"])

ACTION_NAMES = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}


class AuditEntryOut(Schema):
    id: int
    timestamp: datetime
    actor: UserRef | None = Field(description="Who made the change; null for the system.")
    action: str = Field(description="create, update or delete.")
    object_type: str = Field(description="What changed: customer, contact, customeremail...")
    object_id: str
    object_repr: str
    changes: dict[str, Any] = Field(
        description="{field: [before, after]}; many-to-many fields (tags) as "
        "{field: {type, operation, objects}}."
    )

    @staticmethod
    def resolve_action(obj: AuditEntry) -> str:
        return ACTION_NAMES.get(obj.action, str(obj.action))

    @staticmethod
    def resolve_object_type(obj: AuditEntry) -> str:
        return obj.content_type.model

    @staticmethod
    def resolve_object_id(obj: AuditEntry) -> str:
        return obj.object_pk

    @staticmethod
    def resolve_changes(obj: AuditEntry) -> dict[str, Any]:
        return obj.changes if isinstance(obj.changes, dict) else {}


class AuditEntryPage(Page):
    items: list[AuditEntryOut]


@router.get(
    "/customers/{customer_id}/audit",
    response={200: AuditEntryPage, 403: ErrorOut, 404: ErrorOut},
    summary="A customer's audit trail",
    description="Every create, update and delete of the customer's data (their contacts, "
    "emails, phones, assignments... included), newest first. Needs the permission to "
    "view the audit trail. " + PAGINATION_DESCRIPTION,
)
def customer_audit_trail(
    request: HttpRequest, customer_id: int, params: Query[PageParams]
) -> dict[str, Any]:
    customer = get_visible_customer(request, customer_id)
    if not request_user(request).has_perm("audit.view_auditentry"):
        raise NotAllowed(_("You do not have permission to see the audit trail."))
    entries = (
        AuditEntry.objects.for_customer(customer.pk)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-id")
    )
    return paginate_queryset(request, entries, params)
