"""Organization: REST endpoints."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from tendero.accounts.api import request_user
from tendero.customers.errors import NotAllowed
from tendero.customers.schemas import ErrorOut
from tendero.dialogue.schemas import DepartmentOut
from tendero.organization.models import Department

router = Router(tags=["Organization"])


@router.get(
    "/departments",
    response={200: list[DepartmentOut], 403: ErrorOut},
    summary="List active departments",
    description="The departments interactions can be logged against, by name.",
)
def list_departments(request: HttpRequest) -> list[Department]:
    if not request_user(request).has_perm("organization.view_department"):
        raise NotAllowed(_("You do not have permission to see this."))
    return list(Department.objects.active().order_by("name"))
