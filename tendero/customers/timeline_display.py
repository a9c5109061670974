"""Timeline entries as the page shows them, in the reader's language and time zone.
The timeline query returns raw codes (channel "phone", fact kind "interest", level
2...); each source's `describe` turns them into words without a query."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from tendero.core import timeline
from tendero.core.timeline import Entry


def describe_entries(entries: list[Entry]) -> list[dict[str, Any]]:
    """The entries as the entry templates read them: each a plain dict of the entry's
    fields with its `anchor`, its time in the reader's zone (`when_iso` for
    <time datetime>, `when` to read) and `labels`, the words for its codes (empty
    for kinds without codes). Dicts, because a template finds a dict's key in one
    step but an object's attribute only after a failed key lookup: a fifth of the
    cost of a page of entries."""
    shown = []
    for entry in entries:
        source = timeline.source(entry.kind)
        describe = source.describe if source else None
        local = timezone.localtime(entry.occurred_at)
        shown.append(
            {
                **vars(entry),
                "anchor": entry.anchor,
                "when_iso": local.isoformat(),
                "when": date_format(local, "SHORT_DATETIME_FORMAT"),
                "labels": describe(entry) if describe else {},
            }
        )
    return shown
