"""What customers contribute to the timeline: personal facts learned, steps on
the relationship ladder, account-executive changes and merges."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from tendero.core import timeline
from tendero.core.timeline import columns, person_name
from tendero.customers.models import (
    AccountExecutiveAssignment,
    CustomerMerge,
    PersonalFact,
    RelationshipLevelChange,
)


def _facts(customer_ids: list[int]) -> QuerySet[Any]:
    return PersonalFact.objects.filter(customer_id__in=customer_ids).annotate(
        **columns(
            tl_object_id=F("pk"),
            tl_occurred_at=F("learned_at"),
            tl_title=F("text"),
            tl_body=F("related_name"),
            tl_channel=F("kind"),
            tl_direction=F("relation"),
            tl_outcome=person_name("contact"),
            tl_actor=person_name("learned_by"),
        )
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


def _merges(customer_ids: list[int]) -> QuerySet[Any]:
    return CustomerMerge.objects.filter(survivor_id__in=customer_ids).annotate(
        **columns(
            tl_object_id=F("pk"),
            tl_occurred_at=F("merged_at"),
            tl_title=F("merged_display_name"),
            tl_actor=person_name("merged_by"),
        )
    )


def register() -> None:
    timeline.register(
        timeline.TimelineSource(
            kind="fact",
            group="knowledge",
            label=_("Personal knowledge"),
            template="customers/timeline/_fact.html",
            rows=_facts,
            time_field="learned_at",
        )
    )
    for kind, rows, time_field in (
        ("level_change", _level_changes, "changed_at"),
        ("assignment", _assignments, "started_at"),
        ("merge", _merges, "merged_at"),
    ):
        timeline.register(
            timeline.TimelineSource(
                kind=kind,
                group="history",
                label=_("Relationship history"),
                template=f"customers/timeline/_{kind}.html",
                rows=rows,
                time_field=time_field,
            )
        )
