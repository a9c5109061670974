"""The nightly task: thin, and safe to run twice."""

from datetime import timedelta

from django.utils import timezone

from tendero.dialogue import tasks
from tendero.dialogue.models import Interaction


def test_nightly_refresh_learns_rhythms_and_is_idempotent(make_customer, sales):
    customer = make_customer(display_name="Ana Ruiz", account_executive=sales)
    for days in (45, 30, 15):
        Interaction.objects.create(
            customer=customer,
            channel="visit",
            direction="outbound",
            subject="Visit",
            occurred_at=timezone.now() - timedelta(days=days),
        )
    assert tasks.refresh_contact_rhythms.call_local() == 1
    customer.refresh_from_db()
    first = (customer.contact_rhythm_days, customer.next_contact_due)
    assert first[0] == 15
    assert tasks.refresh_contact_rhythms.call_local() == 1
    customer.refresh_from_db()
    assert (customer.contact_rhythm_days, customer.next_contact_due) == first
