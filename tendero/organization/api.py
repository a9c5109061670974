"""Organization: REST endpoints."""

from django.http import HttpRequest
from ninja import Router

from tendero.accounts.api import request_user
from tendero.core.services import require_to_see
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
    require_to_see(request_user(request), "organization.view_department")
    return list(Department.objects.active().order_by("name"))
