from dataclasses import dataclass
from datetime import date
from typing import Any

from tendero.tests.plugin.models import FieldNote


@dataclass
class LatestNotes:
    notes: list[FieldNote]

    @property
    def open_items(self) -> int:
        return len(self.notes)


def latest_notes(customer: Any, today: date) -> LatestNotes:
    return LatestNotes(
        list(FieldNote.objects.filter(customer_id=customer.pk).order_by("-noted_at")[:3])
    )
