"""The customers' steps of the demo: personal knowledge, the search index and the
duplicates to review."""

from tendero.core.registry import DemoRun
from tendero.customers.demo_knowledge import create_demo_facts, record_demo_facts_through_services
from tendero.customers.duplicates import detect_duplicates
from tendero.customers.search import index_customers


def knowledge(demo: DemoRun) -> None:
    facts = create_demo_facts(demo.customers, demo.today, fallback=demo.users["manager"])
    recorded = record_demo_facts_through_services(demo.customers, demo.users)
    demo.say(f"{facts + recorded:,} personal facts ({recorded} recorded through the services).")


def search_index(demo: DemoRun) -> None:
    index_customers([c.pk for c in demo.customers])


def duplicates(demo: DemoRun) -> None:
    demo.say(f"{detect_duplicates()} possible duplicates to review.")
