"""Stay in touch: each customer's expected contact rhythm (every N days), set by hand or
learned from their own history, and the "going quiet" list of relationships overdue
against that rhythm.

Everything that touches many customers is set-based SQL (aggregates with GROUP BY in
correlated subqueries, conditional UPDATEs by chunks of ids) that runs the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Func
from django.db.models.functions import Cast, Coalesce, Greatest, Least, Round, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.core.errors import InvalidData, NotAllowed
from tendero.core.services import audited, claim_version, require
from tendero.customers.models import Customer
from tendero.dialogue.models import Interaction

MIN_RHYTHM_DAYS = 1
MAX_RHYTHM_DAYS = 3650
# A learned rhythm stays within these bounds: more often than weekly is noise
# (a burst of emails about one order), rarer than yearly is no rhythm at all.
LEARNED_MIN_DAYS = 7
LEARNED_MAX_DAYS = 365
LEARNING_WINDOW_DAYS = 365
LEARNING_MIN_INTERACTIONS = 3
CHUNK = 2000


# ---------------------------------------------------------------- portable SQL pieces


class EpochDays(Func):
    """A date or datetime as a number of days on a continuous scale (fractional for
    datetimes), so that differences are in days on SQLite and PostgreSQL alike."""

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="julianday(%(expressions)s)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM %(expressions)s) / 86400.0)",
            **extra,
        )


class AddDays(Func):
    """`date` + `days` (an integer expression) as a date; NULL if either is NULL."""

    output_field = DateField()
    arity = 2

    def _parts(self, compiler: Any) -> tuple[str, str, list[Any]]:
        day, days = self.get_source_expressions()
        day_sql, day_params = compiler.compile(day)
        days_sql, days_params = compiler.compile(days)
        return day_sql, days_sql, [*day_params, *days_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        day_sql, days_sql, params = self._parts(compiler)
        return f"date({day_sql}, '+' || ({days_sql}) || ' days')", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        day_sql, days_sql, params = self._parts(compiler)
        return f"(CAST({day_sql} AS date) + CAST({days_sql} AS integer))", params


def _next_due(last_day: Any) -> Case:
    """next_contact_due from a last-interaction date expression and the customer's rhythm."""
    return Case(
        When(contact_rhythm_days__isnull=True, then=Value(None, output_field=DateField())),
        default=AddDays(last_day, F("contact_rhythm_days")),
        output_field=DateField(),
    )


def next_due_from_last_interaction() -> Case:
    """next_contact_due recomputed from the row's own last_interaction_at (local date)."""
    last_day = TruncDate("last_interaction_at", tzinfo=timezone.get_current_timezone())
    return _next_due(last_day)


def next_due_from_day(day: date) -> Case:
    return _next_due(Cast(Value(day), DateField()))


# ---------------------------------------------------------------- learning


def learned_rhythm_days(customer_id: OuterRef | int, today: date | None = None) -> Subquery:
    """The contact rhythm a customer's own history shows, as a subquery (NULL: unknown).

    The rule: take the customer's interactions of the last 365 days (up to the end of
    `today`); with at least 3 of them, the rhythm is the average gap between
    consecutive ones, that is (last - first) / (count - 1), rounded to whole days and
    clamped to 7..365 days. Fewer than 3 interactions say nothing about a rhythm.

    Computed in the database (one GROUP BY per customer, correlated on `customer_id`,
    usually OuterRef("pk")), so it can be used inside a set-based UPDATE.
    """
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    until = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    since = until - timedelta(days=LEARNING_WINDOW_DAYS)
    day_number = EpochDays("occurred_at")
    mean_gap = (Max(day_number) - Min(day_number)) / (Count("id") - 1)
    gaps = (
        Interaction.objects.filter(
            customer_id=customer_id, occurred_at__gte=since, occurred_at__lt=until
        )
        .order_by()
        .values("customer_id")
        .annotate(interactions=Count("id"))
        .filter(interactions__gte=LEARNING_MIN_INTERACTIONS)
        .annotate(
            gap=Greatest(
                Least(
                    Cast(Round(mean_gap), IntegerField()),
                    Value(LEARNED_MAX_DAYS),
                ),
                Value(LEARNED_MIN_DAYS),
            )
        )
        .values("gap")
    )
    return Subquery(gaps, output_field=IntegerField())


def learned_rhythm_for(customer: Customer, today: date | None = None) -> int | None:
    """What learned_rhythm_days says for one customer right now (None: too little
    history), without storing it: one query."""
    days: int | None = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(learned=learned_rhythm_days(OuterRef("pk"), today))
        .values_list("learned", flat=True)
        .first()
    )
    return days


def _last_interaction() -> Subquery:
    latest = (
        Interaction.objects.filter(customer_id=OuterRef("pk"))
        .order_by()
        .values("customer_id")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    return Subquery(latest)


def _refresh_rows(rows: QuerySet[Customer], today: date) -> int:
    """Three UPDATEs over `rows`: last interaction, learned rhythm, next contact due.

    Separate statements because each one reads what the previous one wrote; one
    transaction so a chunk is never left half done.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Each statement is cheap (an index scan per customer) but estimated
            # expensive, so PostgreSQL would spend most of the time JIT-compiling it.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _refresh_rows_now(rows, today)


def _refresh_rows_now(rows: QuerySet[Customer], today: date) -> int:
    rows.update(last_interaction_at=_last_interaction())
    # Customers without a rhythm set by hand learn theirs. When the last year says
    # too little (fewer than 3 interactions), the rhythm learned before is kept: a
    # customer who falls silent must not vanish from the going-quiet list.
    rows.filter(Q(contact_rhythm_days__isnull=True) | Q(contact_rhythm_learned=True)).update(
        contact_rhythm_days=Coalesce(
            learned_rhythm_days(OuterRef("pk"), today), F("contact_rhythm_days")
        ),
        contact_rhythm_learned=True,
    )
    return rows.update(next_contact_due=next_due_from_last_interaction())


def _chunks(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def refresh_contact_rhythms(
    customer_ids: Iterable[int] | None = None, today: date | None = None
) -> int:
    """Recompute last_interaction_at, learned rhythms (customers without a rhythm set
    by hand; see learned_rhythm_days) and next_contact_due for every customer, or for
    `customer_ids`. Returns how many customers were recomputed.

    Set-based: three UPDATEs per chunk of ids, each aggregating interactions with
    GROUP BY in the database; nothing is loaded customer by customer. Not audited (the
    columns are derived, excluded from the customer audit) and idempotent: running it
    twice leaves the same values.
    """
    today = today or timezone.localdate()
    updated = 0
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        for chunk in _chunks(ids, 500):
            updated += _refresh_rows(Customer.objects.filter(pk__in=chunk), today)
        return updated
    last_id = 0
    while True:
        chunk = list(
            Customer.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not chunk:
            return updated
        # A range, not an IN list: SQLite limits the number of parameters.
        rows = Customer.objects.filter(pk__gte=chunk[0], pk__lte=chunk[-1])
        updated += _refresh_rows(rows, today)
        last_id = chunk[-1]


# ---------------------------------------------------------------- setting by hand


def set_contact_rhythm(
    by: User, customer: Customer, days: int | None, expected_version: int
) -> Customer:
    """Set the customer's contact rhythm by hand (every `days` days, 1..3650), or with
    None go back to learning it from their history. Recomputes next_contact_due.

    A customer edit: it needs customers.change_customer, claims the customer's version
    (VersionConflict if someone changed it since `expected_version`) and is audited.
    Raises NotAllowed, InvalidData, VersionConflict.
    """
    require(by, "customers.change_customer")
    if not Customer.objects.visible_to(by).filter(pk=customer.pk).exists():
        raise NotAllowed(_("You do not have permission to do this."))
    if days is not None and (
        isinstance(days, bool)
        or not isinstance(days, int)
        or not MIN_RHYTHM_DAYS <= days <= MAX_RHYTHM_DAYS
    ):
        raise InvalidData(
            _("Please correct the errors below."),
            {
                "days": [
                    _("Between %(min)d and %(max)d days.")
                    % {"min": MIN_RHYTHM_DAYS, "max": MAX_RHYTHM_DAYS}
                ]
            },
        )
    try:
        with audited(by):
            claim_version(customer, expected_version)
            customer.contact_rhythm_days = days
            customer.contact_rhythm_learned = days is None
            customer.next_contact_due = None
            if days is not None and customer.last_interaction_at is not None:
                last_day = timezone.localdate(customer.last_interaction_at)
                customer.next_contact_due = last_day + timedelta(days=days)
            customer.save(
                update_fields=["contact_rhythm_days", "contact_rhythm_learned", "next_contact_due"]
            )
            if days is None:
                refresh_contact_rhythms([customer.pk])
                customer.refresh_from_db(
                    fields=["contact_rhythm_days", "contact_rhythm_learned", "next_contact_due"]
                )
    except Exception:
        customer.refresh_from_db()
        raise
    return customer


# ---------------------------------------------------------------- going quiet


def most_valuable_first(customers: QuerySet[Customer], today: date) -> QuerySet[Customer]:
    """The one ordering of the going-quiet list.

    "Most valuable first": there is no lifetime value yet, so the relationship level
    stands in for value (highest first), then how overdue the customer is relative to
    their own rhythm (days overdue / rhythm days: two weeks late on a weekly rhythm
    matters more than on a yearly one). Lifetime value will replace the relationship
    level here when it exists.
    """
    overdue_ratio = (
        EpochDays(Cast(Value(today), DateField())) - EpochDays("next_contact_due")
    ) / Cast(F("contact_rhythm_days"), FloatField())
    return customers.annotate(overdue_ratio=overdue_ratio).order_by(
        "-relationship_level", F("overdue_ratio").desc(nulls_last=True), "pk"
    )


def going_quiet(user: User | Any, today: date | None = None) -> QuerySet[Customer]:
    """Customers `user` may see whose next contact was due before `today`, most
    valuable first (see most_valuable_first). Scope further (an account executive)
    with .filter(); each row carries `overdue_ratio`."""
    today = today or timezone.localdate()
    overdue = Customer.objects.visible_to(user).filter(next_contact_due__lt=today)
    return most_valuable_first(overdue, today)
