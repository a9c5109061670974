"""Personal knowledge's step of the demo: facts, family and dates for every customer,
some of them recorded through the services as a salesperson would."""

from tendero.core.registry import DemoRun
from tendero.knowledge.demo import create_demo_facts, record_demo_facts_through_services


def knowledge(demo: DemoRun) -> None:
    facts = create_demo_facts(demo.customers, demo.today, fallback=demo.users["manager"])
    recorded = record_demo_facts_through_services(demo.customers, demo.users)
    demo.say(f"{facts + recorded:,} personal facts ({recorded} recorded through the services).")
