"""Interactions on the customer timeline, with the dialogue filters."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, F, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tendero.core import timeline
from tendero.core.timeline import EMPTY, choice_label, person_name
from tendero.dialogue.models import Channel, Direction, Interaction, Sentiment, Voice


def _interactions(customer_ids: list[int]) -> QuerySet[Any]:
    return Interaction.objects.filter(customer_id__in=customer_ids).annotate(
        tl_object_id=F("pk"),
        tl_occurred_at=F("occurred_at"),
        tl_title=F("subject"),
        tl_body=F("notes"),
        tl_channel=F("channel"),
        tl_direction=F("direction"),
        tl_voice=F("voice"),
        tl_sentiment=F("sentiment"),
        tl_outcome=F("outcome"),
        tl_department=Coalesce(F("department__name"), EMPTY, output_field=CharField()),
        tl_actor=person_name("handled_by"),
        tl_extra=person_name("contact"),
    )


def _narrow(queryset: QuerySet[Any], filters: timeline.TimelineFilters) -> QuerySet[Any]:
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.direction:
        queryset = queryset.filter(direction=filters.direction)
    if filters.department_id:
        queryset = queryset.filter(department_id=filters.department_id)
    if filters.voice_only:
        queryset = queryset.exclude(voice="")
    return queryset


def _describe(entry: timeline.Entry) -> dict[str, str]:
    return {
        "edit_url": reverse("dialogue:edit", args=[entry.object_id]),
        "channel_label": choice_label(Channel, entry.channel) if entry.channel else "",
        "direction_label": choice_label(Direction, entry.direction) if entry.direction else "",
        "voice_label": choice_label(Voice, entry.voice) if entry.voice else "",
        "sentiment_label": choice_label(Sentiment, entry.sentiment) if entry.sentiment else "",
    }


def register() -> None:
    timeline.register(
        timeline.TimelineSource(
            kind="interaction",
            group="dialogue",
            label=_("Dialogue"),
            template="dialogue/timeline/_interaction.html",
            rows=_interactions,
            time_field="occurred_at",
            narrow=_narrow,
            describe=_describe,
        )
    )
