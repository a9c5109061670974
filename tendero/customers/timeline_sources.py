"""What customers contribute to the timeline: steps on the relationship ladder and
account-executive changes."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from tendero.core import timeline
from tendero.core.timeline import choice_label, columns, person_name
from tendero.customers.models import (
    AccountExecutiveAssignment,
    RelationshipLevel,
    RelationshipLevelChange,
)


def _level_changes(customer_ids: list[int]) -> QuerySet[Any]:
    return RelationshipLevelChange.objects.filter(customer_id__in=customer_ids).annotate(
        **columns(
            tl_object_id=F("pk"),
            tl_occurred_at=F("changed_at"),
            tl_body=F("reason"),
            tl_channel=Concat(F("from_level"), Value(""), output_field=CharField()),
            tl_direction=Concat(F("to_level"), Value(""), output_field=CharField()),
            tl_actor=person_name("changed_by"),
        )
    )


def _assignments(customer_ids: list[int]) -> QuerySet[Any]:
    return AccountExecutiveAssignment.objects.filter(customer_id__in=customer_ids).annotate(
        **columns(
            tl_object_id=F("pk"),
            tl_occurred_at=F("started_at"),
            tl_title=person_name("user"),
            tl_body=F("reason"),
            tl_actor=person_name("assigned_by"),
        )
    )


def _describe_level_change(entry: timeline.Entry) -> dict[str, str]:
    def level(value: str) -> str:
        return choice_label(RelationshipLevel, int(value)) if value.isdigit() else value

    # The level source carries the levels in `channel` (from) and `direction` (to).
    return {
        "from_label": level(entry.channel),
        "to_label": level(entry.direction),
        "is_promotion": "1" if entry.direction > entry.channel else "",
    }


def register() -> None:
    for kind, rows, time_field, describe in (
        ("level_change", _level_changes, "changed_at", _describe_level_change),
        ("assignment", _assignments, "started_at", None),
    ):
        timeline.register(
            timeline.TimelineSource(
                kind=kind,
                group="history",
                label=_("Relationship history"),
                template=f"customers/timeline/_{kind}.html",
                rows=rows,
                time_field=time_field,
                describe=describe,
            )
        )
