from django.http import HttpRequest
from ninja import Router, Schema

from tendero.accounts.api import request_user
from tendero.core.schemas import ErrorOut
from tendero.core.services import require_to_see
from tendero.tests.plugin.models import FieldNote

router = Router(tags=["Field notes (test plugin)"])


class FieldNoteOut(Schema):
    id: int
    customer_id: int
    text: str


@router.get(
    "/field-notes",
    response={200: list[FieldNoteOut], 403: ErrorOut},
    summary="List field notes",
    description="Every field note (an app of the test settings only).",
)
def list_notes(request: HttpRequest) -> list[FieldNote]:
    require_to_see(request_user(request), "plugin.view_fieldnote")
    return list(FieldNote.objects.order_by("pk"))
