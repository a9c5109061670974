"""The dialogue's steps of the demo: three years of interactions, then the contact
rhythms (a few chosen by the account executive, the rest learnt)."""

from tendero.core.registry import DemoRun
from tendero.customers.models import Customer, RelationshipLevel
from tendero.dialogue.demo import create_demo_interactions
from tendero.dialogue.rhythm import refresh_contact_rhythms, set_contact_rhythm


def interactions(demo: DemoRun) -> None:
    made = create_demo_interactions(demo.customers, demo.users, demo.today)
    demo.results["dialogue.rhythms"] = made.rhythms
    demo.say(
        f"{made.interactions:,} interactions over three years "
        f"({len(made.quiet_customer_ids)} relationships going quiet)."
    )


def rhythms(demo: DemoRun) -> None:
    _set_rhythms_by_hand(demo)
    refresh_contact_rhythms([c.pk for c in demo.customers], today=demo.today.date())


def _set_rhythms_by_hand(demo: DemoRun) -> int:
    """A few top accounts whose account executive chose the rhythm (weekly or
    fortnightly) rather than let Tendero learn it: through the service, so it is
    audited. Returns how many were set."""
    rhythms: dict[int, int] = demo.results.get("dialogue.rhythms", {})
    active = {u.pk: u for u in demo.users.values() if u.is_active}
    chosen = [
        c
        for c in demo.customers
        if c.relationship_level == RelationshipLevel.TRUST
        and c.account_executive_id in active
        and rhythms.get(c.pk, 999) <= 14
    ][:8]
    for customer in chosen:
        fresh = Customer.objects.get(pk=customer.pk)
        set_contact_rhythm(
            active[fresh.account_executive_id or 0], fresh, rhythms[customer.pk], fresh.version
        )
    return len(chosen)
