"""The customers' steps of the demo: the search index and the duplicates to review."""

from tendero.core.registry import DemoRun
from tendero.customers.duplicates import detect_duplicates
from tendero.customers.search import index_customers


def search_index(demo: DemoRun) -> None:
    index_customers([c.pk for c in demo.customers])


def duplicates(demo: DemoRun) -> None:
    demo.say(f"{detect_duplicates()} possible duplicates to review.")
