"""Organization: REST endpoints."""

from django.http import HttpRequest
from ninja import Router

from tendero.accounts.api import request_user
from tendero.core.schemas import ErrorOut
from tendero.core.services import require_to_see
from tendero.organization.models import Department
from tendero.organization.schemas import DepartmentOut

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
