"""The customers' step of the demo: the search index."""

from tendero.core.registry import DemoRun
from tendero.customers.search import index_customers


def search_index(demo: DemoRun) -> None:
    index_customers([c.pk for c in demo.customers])
