"""The customer timeline: one feed of everything that happened with a customer.

Each capability registers a source (interactions, personal facts, level changes...;
later quotes, cases, promises, purchases). A page of the timeline is ONE query,
whatever the number of sources: every source contributes its newest rows before
the cursor (an indexed range on its own table), the branches are joined with
UNION ALL and the database keeps the newest. So the cost of a page depends on
the page size and the number of sources, never on how long the history is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Concat
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise

# Every source yields these columns (as annotations on its queryset), so that a
# page can be rendered without a query per entry.
COLUMNS = (
    "tl_object_id",
    "tl_occurred_at",
    "tl_title",
    "tl_body",
    "tl_channel",
    "tl_direction",
    "tl_voice",
    "tl_sentiment",
    "tl_outcome",
    "tl_department",
    "tl_actor",
    "tl_extra",
)
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
EMPTY = Value("", output_field=CharField())


def person_name(prefix: str) -> Coalesce:
    """ "First Last" of the person behind the relation `prefix` (a user or a
    contact), empty when there is nobody."""
    return Coalesce(
        Concat(F(f"{prefix}__first_name"), Value(" "), F(f"{prefix}__last_name")),
        EMPTY,
        output_field=CharField(),
    )


def columns(**given: Any) -> dict[str, Any]:
    """Every column of COLUMNS for a source's `annotate()`: the ones given, the
    others empty."""
    return {name: EMPTY for name in COLUMNS} | given


@dataclass(frozen=True)
class TimelineFilters:
    """What a person narrowed the timeline to. Channel, direction, department and
    voice are properties of interactions: a source without them drops out when
    any of them is set."""

    groups: frozenset[str] = frozenset()
    channel: str = ""
    direction: str = ""
    department_id: int | None = None
    voice_only: bool = False

    @property
    def narrows_dialogue(self) -> bool:
        return bool(self.channel or self.direction or self.department_id or self.voice_only)


@dataclass(frozen=True)
class TimelineSource:
    """One kind of timeline entry.

    `rows(customer_ids)` returns a queryset of the source's rows for those
    customers annotated with every name in COLUMNS; `time_field` is the model
    field behind `tl_occurred_at` (it must be indexed with the customer id);
    `narrow(queryset, filters)` applies the dialogue filters, or returns None
    when the source has nothing that could match them.
    """

    kind: str
    group: str
    label: str | Promise
    template: str
    rows: Callable[[list[int]], QuerySet[Any]]
    time_field: str
    narrow: Callable[[QuerySet[Any], TimelineFilters], QuerySet[Any] | None] = field(
        default=lambda queryset, filters: None if filters.narrows_dialogue else queryset
    )
    # The words for an entry's codes, in the reader's language, without a query
    # ({"channel_label": "Phone"...}); the entry's template reads them as `labels`.
    describe: Callable[[Entry], dict[str, str]] | None = None


_SOURCES: dict[str, TimelineSource] = {}


def register(source: TimelineSource) -> None:
    """Add a source (from an app's `ready()`); registering a kind again replaces it."""
    _SOURCES[source.kind] = source


def source(kind: str) -> TimelineSource | None:
    return _SOURCES.get(kind)


def choice_label(choices: type[models.Choices], value: str | int) -> str:
    """The label of `value` among `choices`, or the value itself when it is not one
    of them (a code retired since the entry was written)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def sources() -> list[TimelineSource]:
    return sorted(_SOURCES.values(), key=lambda source: source.kind)


def groups() -> list[tuple[str, str | Promise]]:
    seen: dict[str, str | Promise] = {}
    for source in sources():
        seen.setdefault(source.group, source.label)
    return list(seen.items())


@dataclass(frozen=True)
class Cursor:
    """The last entry shown: the next page starts strictly after it in the
    timeline's order (newest first; ties broken by kind, then id, descending)."""

    occurred_at: datetime
    kind: str
    object_id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.isoformat()}|{self.kind}|{self.object_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """The cursor in `text`, or None if it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, kind, object_id = raw.split("|")
            occurred_at = datetime.fromisoformat(stamp)
            if occurred_at.tzinfo is None or len(object_id) > 18:
                return None
            return cls(occurred_at, kind, int(object_id))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return None


@dataclass
class Entry:
    kind: str
    object_id: int
    occurred_at: datetime
    title: str
    body: str
    channel: str
    direction: str
    voice: str
    sentiment: str
    outcome: str
    department: str
    actor: str
    extra: str
    template: str

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.object_id}"


@dataclass
class Page:
    entries: list[Entry]
    next_cursor: str | None


def _after_cursor(source: TimelineSource, cursor: Cursor | None) -> Q:
    if cursor is None:
        return Q()
    before = Q(**{f"{source.time_field}__lt": cursor.occurred_at})
    if source.kind == cursor.kind:
        return before | Q(**{source.time_field: cursor.occurred_at, "pk__lt": cursor.object_id})
    if source.kind < cursor.kind:
        return Q(**{f"{source.time_field}__lte": cursor.occurred_at})
    return before


def _as_datetime(value: Any) -> datetime:
    # SQLite hands back the text it stores (UTC) when the ORM's converters are
    # not in the way, as in this raw UNION.
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(value)
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class _Slot:
    """A place in a compiled branch's parameters for a value given per request."""

    name: str


# Stand-ins that no real row or request can have, used to compile a branch once
# and recognise where each per-request value goes in its parameters.
_STAND_IN_ID = -(10**15)
_STAND_IN_AT = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_COMPILED: dict[tuple[Any, ...], tuple[str, list[Any]] | None] = {}


def _is_stand_in(param: Any, stand_ins: dict[Any, str]) -> bool:
    try:
        return param in stand_ins and not isinstance(param, bool)
    except TypeError:  # not hashable: a literal
        return False


def _compiled_branch(
    source: TimelineSource,
    id_count: int,
    filters: TimelineFilters,
    cursor: Cursor | None,
    size: int,
) -> tuple[str, list[Any]] | None:
    """The SQL of `source`'s branch and its parameters, values given per request
    as _Slots. Compiling a queryset costs about a millisecond per source; the
    shape of a branch (how many customers, which filters, where the cursor
    falls) is all that changes it, so each shape is compiled once per process."""
    if cursor is None:
        position = ""
    else:
        position = (
            "same" if source.kind == cursor.kind else "lte" if source.kind < cursor.kind else "lt"
        )
    shape = (
        connection.alias,
        source.kind,
        id_count,
        bool(filters.channel),
        bool(filters.direction),
        filters.department_id is not None,
        filters.voice_only,
        position,
        size,
    )
    if shape in _COMPILED:
        return _COMPILED[shape]
    stand_ins: dict[Any, str] = {_STAND_IN_ID - n: f"id{n}" for n in range(id_count)}
    stand_in_filters = TimelineFilters(
        channel="\x01channel" if filters.channel else "",
        direction="\x01direction" if filters.direction else "",
        department_id=_STAND_IN_ID - 10**6 if filters.department_id is not None else None,
        voice_only=filters.voice_only,
    )
    stand_ins.update({"\x01channel": "channel", "\x01direction": "direction"})
    stand_ins[_STAND_IN_ID - 10**6] = "department"
    stand_in_cursor = None
    if cursor is not None:
        kind = source.kind if position == "same" else "\x7f" if position == "lte" else ""
        stand_in_cursor = Cursor(_STAND_IN_AT, kind, _STAND_IN_ID - 2 * 10**6)
        stand_ins[connection.ops.adapt_datetimefield_value(_STAND_IN_AT)] = "at"
        stand_ins[_STAND_IN_ID - 2 * 10**6] = "after"
    queryset = source.narrow(
        source.rows([_STAND_IN_ID - n for n in range(id_count)]), stand_in_filters
    )
    compiled = None
    if queryset is not None:
        queryset = (
            queryset.filter(_after_cursor(source, stand_in_cursor))
            .order_by(f"-{source.time_field}", "-pk")
            .values(*COLUMNS)[: size + 1]
        )
        sql, params = queryset.query.sql_with_params()
        slots = [
            _Slot(stand_ins[param]) if _is_stand_in(param, stand_ins) else param for param in params
        ]
        compiled = (sql, slots)
    _COMPILED[shape] = compiled
    return compiled


def page(
    customer_ids: Iterable[int],
    *,
    filters: TimelineFilters | None = None,
    cursor: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """The next `size` entries of the customers' timeline after `cursor`. The
    caller has already checked that the reader may see these customers."""
    filters = filters or TimelineFilters()
    ids = list(customer_ids)
    size = max(1, min(size, MAX_PAGE_SIZE))
    branches: list[str] = []
    params: list[Any] = []
    chosen = {source.kind: source for source in sources()}
    values: dict[str, Any] = {
        **{f"id{n}": pk for n, pk in enumerate(ids)},
        "channel": filters.channel,
        "direction": filters.direction,
        "department": filters.department_id,
    }
    if cursor is not None:
        values["at"] = connection.ops.adapt_datetimefield_value(cursor.occurred_at)
        values["after"] = cursor.object_id
    for source in chosen.values():
        if filters.groups and source.group not in filters.groups:
            continue
        compiled = _compiled_branch(source, len(ids), filters, cursor, size)
        if compiled is None:
            continue
        sql, slots = compiled
        columns = ", ".join(COLUMNS)
        # The SQL is Django's own compiled query; every value travels as a parameter.
        branches.append(f"SELECT %s AS tl_kind, {columns} FROM ({sql}) AS b{len(branches)}")  # noqa: S608
        params.append(source.kind)
        params.extend(values[slot.name] if isinstance(slot, _Slot) else slot for slot in slots)
    if not branches:
        return Page([], None)
    sql = (
        " UNION ALL ".join(branches)
        + " ORDER BY tl_occurred_at DESC, tl_kind DESC, tl_object_id DESC LIMIT %s"
    )
    with connection.cursor() as db:
        db.execute(sql, [*params, size + 1])
        rows = db.fetchall()

    def text(value: Any) -> str:
        # Names are concatenated in SQL ("first last"): a missing person is " ".
        return str(value or "").strip()

    entries = [
        Entry(
            kind=row[0],
            object_id=int(row[1]),
            occurred_at=_as_datetime(row[2]),
            title=text(row[3]),
            body=text(row[4]),
            channel=text(row[5]),
            direction=text(row[6]),
            voice=text(row[7]),
            sentiment=text(row[8]),
            outcome=text(row[9]),
            department=text(row[10]),
            actor=text(row[11]),
            extra=text(row[12]),
            template=chosen[row[0]].template,
        )
        for row in rows[:size]
    ]
    next_cursor = None
    if len(rows) > size:
        last = entries[-1]
        next_cursor = Cursor(last.occurred_at, last.kind, last.object_id).encode()
    return Page(entries, next_cursor)
