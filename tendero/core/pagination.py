"""Pages of long lists without counting every row: the customer list page and the
API both page through up to millions of rows."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

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


def page_number(request: HttpRequest) -> int:
    """The `page` asked for, 1 when it is missing or not a number (never an error)."""
    try:
        return max(1, min(int(request.GET.get("page", "1")), 100_000))
    except ValueError:
        return 1


def page_context(
    request: HttpRequest, qs: QuerySet[Any], counted: QuerySet[Any], per_page: int
) -> dict[str, Any]:
    """What a paginated list page shows: the page's rows (`rows`), where it stands and
    the query string of its filters without the page (for the page links)."""
    page = page_number(request)
    offset = (page - 1) * per_page
    window = fetch_window(qs, offset, per_page, counted=counted)
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "rows": window.items,
        "page": page,
        "has_previous": page > 1,
        "has_next": window.has_next,
        "total": window.count,
        "total_is_capped": not window.count_is_exact,
        "first_row": offset + 1 if window.items else 0,
        "last_row": offset + len(window.items),
        "query_string": params.urlencode(),
    }


Rows = TypeVar("Rows", bound=QuerySet[Any])


def between_days(qs: Rows, field: str, since: date | None, until: date | None) -> Rows:
    """`qs` narrowed to `field` (a datetime) from the start of `since` to the end of
    `until`, both local days and both optional."""
    tz = timezone.get_current_timezone()
    if since:
        qs = qs.filter(**{f"{field}__gte": datetime.combine(since, time.min, tzinfo=tz)})
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
        qs = qs.filter(**{f"{field}__lt": end})
    return qs
