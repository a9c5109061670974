"""What stewardship contributes to the timeline: the merges a customer survived."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from tendero.core import timeline
from tendero.core.timeline import columns, person_name
from tendero.stewardship.models import CustomerMerge


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
            kind="merge",
            group="history",
            label=_("Relationship history"),
            template="stewardship/timeline/_merge.html",
            rows=_merges,
            time_field="merged_at",
        )
    )
