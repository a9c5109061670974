"""What personal knowledge contributes to the timeline: each fact learned."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from tendero.core import timeline
from tendero.core.timeline import choice_label, columns, person_name
from tendero.knowledge.models import FactKind, PersonalFact, RelationKind


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


def _describe(entry: timeline.Entry) -> dict[str, str]:
    # The fact source carries the fact kind in `channel` and the relation in `direction`.
    return {
        "kind_label": choice_label(FactKind, entry.channel) if entry.channel else "",
        "relation_label": choice_label(RelationKind, entry.direction) if entry.direction else "",
    }


def register() -> None:
    timeline.register(
        timeline.TimelineSource(
            kind="fact",
            group="knowledge",
            label=_("Personal knowledge"),
            template="knowledge/timeline/_fact.html",
            rows=_facts,
            time_field="learned_at",
            describe=_describe,
        )
    )
