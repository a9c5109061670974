"""Pages of long lists without counting every row: the customer list page and the
API both page through up to millions of rows."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# Counting a million rows is slow; past this many we say "10,000+".
COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Window:
    items: list[Any]
    has_next: bool
    count: int
    count_is_exact: bool


def fetch_window(
    queryset: QuerySet[Any], offset: int, limit: int, counted: QuerySet[Any] | None = None
) -> Window:
    """`limit` rows of `queryset` from `offset`, whether more follow, and how many there are.

    Fetching one row more than asked tells whether there is a next page without
    counting. When the page itself proves the total, nothing is counted; otherwise
    the count stops at COUNT_LIMIT + 1 rows (a sliced subquery of primary keys,
    unordered so the database may stop early) and is then a lower bound. `counted`
    is the same rows without what only display needs (joins, annotations).
    """
    items = list(queryset[offset : offset + limit + 1])
    has_next = len(items) > limit
    items = items[:limit]
    if not has_next and (items or offset == 0):
        return Window(items, has_next, offset + len(items), True)
    source = queryset if counted is None else counted
    found = source.order_by().values("pk")[: COUNT_LIMIT + 1].count()
    count = min(found, COUNT_LIMIT)
    if items:  # a deep page proves at least this many
        count = max(count, offset + len(items))
    return Window(items, has_next, count, found <= COUNT_LIMIT)
