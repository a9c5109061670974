from tendero.core.registry import DemoRun
from tendero.tests.plugin.models import FieldNote


def field_notes(demo: DemoRun) -> None:
    """A note from a visit to each of the first three demo customers."""
    notes = FieldNote.objects.bulk_create(
        FieldNote(customer=customer, noted_at=demo.today, text="Visita a la nave")
        for customer in demo.customers[:3]
    )
    demo.say(f"{len(notes)} field notes.")
