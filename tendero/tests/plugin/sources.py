from typing import Any

from django.db.models import F, QuerySet

from tendero.core import timeline
from tendero.tests.plugin.models import FieldNote


def _notes(customer_ids: list[int]) -> QuerySet[Any]:
    return FieldNote.objects.filter(customer_id__in=customer_ids).annotate(
        **timeline.columns(tl_object_id=F("pk"), tl_occurred_at=F("noted_at"), tl_title=F("text"))
    )


FIELD_NOTES = timeline.TimelineSource(
    kind="field_note",
    group="field_notes",
    label="Field notes",
    template="plugin/timeline_note.html",
    rows=_notes,
    time_field="noted_at",
)
