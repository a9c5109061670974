"""Personal knowledge about people: what we learned about a customer and their
contacts (interests, preferences, family and relations, important dates...), who
learned it, when and in which interaction. Facts are corrected or retired, never
deleted: the audit trail keeps every earlier version.

Changes go through record_fact, correct_fact and retire_fact (permission checks,
one transaction, audited with the acting user). clean_fact_data is the pure
validation they share with the importer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.core.errors import InvalidData, NotAllowed
from tendero.core.services import (
    MAX_ID,
    FieldErrors,
    audited,
    choice,
    claim_version,
    clean_text,
    require,
)
from tendero.customers.models import Contact, Customer
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import FAMILY_RELATIONS, FactKind, PersonalFact, RelationKind

FACT_FIELDS = frozenset(
    [
        "kind",
        "text",
        "contact_id",
        "relation",
        "related_name",
        "related_contact_id",
        "date",
        "recurs_yearly",
        "source_interaction_id",
        "learned_at",
    ]
)
# Kinds that name another person: who they are to the person, and their name.
RELATIONAL_KINDS = frozenset({FactKind.FAMILY_MEMBER, FactKind.RELATION})
TEXT_MAX = 500
RELATED_NAME_MAX = 200
REASON_MAX = 200
# A yearly date whose year nobody knows ("her birthday is 14 March") is stored in
# this leap year, as address books do, so that 29 February fits too.
NO_YEAR = 1604
# Clocks differ a little between browsers, phones and servers.
CLOCK_SKEW = timedelta(minutes=5)

_TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "si", "sí", "x"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "off"})


# ---------------------------------------------------------------- validation


def _clean_id(errors: FieldErrors, field: str, value: Any) -> int | None:
    """An optional id: None, "" or a positive whole number (as int or digits)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.add(field, _("Must be a whole number."))
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            errors.add(field, _("Must be a whole number."))
            return None
        value = int(value)
    if not isinstance(value, int):
        errors.add(field, _("Must be a whole number."))
        return None
    if not 1 <= value <= MAX_ID:
        errors.add(field, _("Not found."))
        return None
    return value


def _clean_date(errors: FieldErrors, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.add("date", _("Enter a date as YYYY-MM-DD."))
    return None


def _clean_bool(errors: FieldErrors, field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    errors.add(field, _("Must be true or false."))
    return False


def _clean_moment(errors: FieldErrors, value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                day = None
            if day is not None:
                moment = datetime(day.year, day.month, day.day)
    if moment is None:
        errors.add("learned_at", _("Enter a date and time, e.g. 2025-03-14T10:30."))
        return None
    if timezone.is_naive(moment):
        try:
            moment = timezone.make_aware(moment)
        except (ValueError, OverflowError):
            errors.add("learned_at", _("Date out of range."))
            return None
    if moment > timezone.now() + CLOCK_SKEW:
        errors.add("learned_at", _("Cannot be in the future."))
        return None
    return moment


def _month_day(day: date | None, recurs_yearly: bool) -> int | None:
    return day.month * 100 + day.day if day is not None and recurs_yearly else None


def clean_fact_data(
    data: Mapping[str, Any], customer: Customer, current: PersonalFact | None = None
) -> dict[str, Any]:
    """Validate and normalise a fact about someone at `customer`; no writes.

    With `current`, fields left out of `data` keep the current fact's values and the
    result is checked as a whole (a correction that turns a note into a family member
    needs a relation and a name). Returns the model's field values (contact,
    related_contact and source_interaction as objects, month_day derived), ready
    for PersonalFact(**clean). Raises InvalidData with every field error.
    """
    errors = FieldErrors()
    for field in sorted(set(data) - FACT_FIELDS):
        errors.add(field, _("Unknown field."))

    def given(field: str, now: Any) -> Any:
        return data.get(field, now)

    kind = given("kind", current.kind if current else None)
    if kind in (None, ""):
        errors.add("kind", _("Choose what kind of fact this is."))
        kind = ""
    else:
        choice(errors, "kind", kind, FactKind.values)
        kind = str(kind)
    relational = kind in RELATIONAL_KINDS

    text = clean_text(
        errors, "text", given("text", current.text if current else ""), TEXT_MAX, multiline=True
    )
    if not text and kind and not relational:
        errors.add("text", _("Say what you learned."))

    # Relations: kept from the current fact only while it stays a relation.
    keep = current is not None and current.kind in RELATIONAL_KINDS
    relation = given("relation", current.relation if keep and current else "")
    related_name = clean_text(
        errors,
        "related_name",
        given("related_name", current.related_name if keep and current else ""),
        RELATED_NAME_MAX,
    )
    related_contact_id = _clean_id(
        errors,
        "related_contact_id",
        given("related_contact_id", current.related_contact_id if keep and current else None),
    )
    relation = "" if relation is None else relation
    if relational:
        if not relation:
            errors.add("relation", _("Say who they are to the person (e.g. child, assistant)."))
        elif str(relation) not in RelationKind.values:
            choice(errors, "relation", relation, RelationKind.values)
        elif kind == FactKind.FAMILY_MEMBER and relation not in FAMILY_RELATIONS:
            errors.add("relation", _("Choose a family relation, or record a relation instead."))
        if not related_name:
            errors.add("related_name", _("Give their name."))
    else:
        for field, value in (
            ("relation", relation),
            ("related_name", related_name),
            ("related_contact_id", related_contact_id),
        ):
            if value and field in data:
                errors.add(field, _("Only family members and relations have this."))
        relation, related_name, related_contact_id = "", "", None

    contact_id = _clean_id(
        errors, "contact_id", given("contact_id", current.contact_id if current else None)
    )
    day = _clean_date(errors, given("date", current.date if current else None))
    recurs_yearly = _clean_bool(
        errors, "recurs_yearly", given("recurs_yearly", current.recurs_yearly if current else False)
    )
    if recurs_yearly and day is None:
        errors.add("date", _("A date that comes back every year needs a date."))
    if kind == FactKind.IMPORTANT_DATE and day is None and "date" not in errors.fields:
        errors.add("date", _("An important date needs a date."))
    interaction_id = _clean_id(
        errors,
        "source_interaction_id",
        given("source_interaction_id", current.source_interaction_id if current else None),
    )
    learned_at = None
    if "learned_at" in data:
        learned_at = _clean_moment(errors, data["learned_at"])
    if learned_at is None:
        learned_at = current.learned_at if current else timezone.now()

    contacts = _contacts_of(customer, {contact_id, related_contact_id} - {None})
    contact = contacts.get(contact_id) if contact_id else None
    if contact_id and contact is None:
        errors.add("contact_id", _("Not a contact of this customer."))
    related_contact = contacts.get(related_contact_id) if related_contact_id else None
    if related_contact_id and related_contact is None:
        errors.add("related_contact_id", _("Not a contact of this customer."))
    elif related_contact_id and related_contact_id == contact_id:
        errors.add("related_contact_id", _("Someone cannot be their own relation."))
    interaction = None
    if interaction_id:
        interaction = Interaction.objects.filter(pk=interaction_id, customer=customer).first()
        if interaction is None:
            errors.add("source_interaction_id", _("Not an interaction with this customer."))

    errors.raise_if_any()
    return {
        "kind": kind,
        "text": text,
        "contact": contact,
        "relation": str(relation),
        "related_name": related_name,
        "related_contact": related_contact,
        "date": day,
        "recurs_yearly": recurs_yearly,
        "month_day": _month_day(day, recurs_yearly),
        "source_interaction": interaction,
        "learned_at": learned_at,
    }


def _contacts_of(customer: Customer, ids: set[int | None]) -> dict[int, Contact]:
    wanted = [i for i in ids if i is not None]
    if not wanted or customer.pk is None:
        return {}
    return {c.pk: c for c in Contact.objects.filter(customer=customer, pk__in=wanted)}


# ---------------------------------------------------------------- changes


def _require_visible(by: User, customer_id: int) -> None:
    if not Customer.objects.visible_to(by).filter(pk=customer_id).exists():
        raise NotAllowed(_("You do not have permission to do this."))


def record_fact(by: User, customer: Customer, data: Mapping[str, Any]) -> PersonalFact:
    """Write down something learned about the customer or one of their contacts,
    learned by `by` (now, unless data says when). Audited.

    Raises NotAllowed (no knowledge.add_personalfact, or a customer `by` cannot see),
    InvalidData (every field error at once; nothing is written).
    """
    require(by, "knowledge.add_personalfact")
    _require_visible(by, customer.pk)
    clean = clean_fact_data(data, customer)
    with audited(by):
        fact = PersonalFact.objects.create(customer=customer, learned_by=by, **clean)
    return fact


def correct_fact(
    by: User, fact: PersonalFact, data: Mapping[str, Any], expected_version: int
) -> PersonalFact:
    """Correct a current fact: fields in `data` change, the others stay. The earlier
    values stay in the audit trail.

    Raises NotAllowed, InvalidData (also for a retired fact),
    VersionConflict (someone changed it since `expected_version`; nothing written).
    """
    require(by, "knowledge.change_personalfact")
    _require_visible(by, fact.customer_id)
    if fact.retired_at is not None:
        raise InvalidData(
            _("This fact was retired and cannot be corrected; record a new one instead.")
        )
    clean = clean_fact_data(data, fact.customer, current=fact)
    try:
        with audited(by):
            claim_version(fact, expected_version)
            if fact.retired_at is not None:
                raise InvalidData(
                    _("This fact was retired and cannot be corrected; record a new one instead.")
                )
            for field, value in clean.items():
                setattr(fact, field, value)
            fact.save()
    except Exception:
        fact.refresh_from_db()
        raise
    return fact


def retire_fact(by: User, fact: PersonalFact, reason: str, expected_version: int) -> PersonalFact:
    """Mark a fact as no longer true (kept, with who retired it, when and why).

    Raises NotAllowed, InvalidData (reason too long; the fact is already
    retired), VersionConflict.
    """
    require(by, "knowledge.change_personalfact")
    _require_visible(by, fact.customer_id)
    errors = FieldErrors()
    reason = clean_text(errors, "reason", reason, REASON_MAX)
    errors.raise_if_any()
    try:
        with audited(by):
            retired_at = (
                PersonalFact.objects.select_for_update()
                .filter(pk=fact.pk)
                .values_list("retired_at", flat=True)
                .first()
            )
            if retired_at is not None:
                raise InvalidData(
                    _("This fact was already retired on %(date)s.")
                    % {"date": timezone.localtime(retired_at).date().isoformat()}
                )
            claim_version(fact, expected_version)
            fact.retired_at = timezone.now()
            fact.retired_by = by
            fact.retired_reason = reason
            fact.save(update_fields=["retired_at", "retired_by", "retired_reason"])
    except Exception:
        fact.refresh_from_db()
        raise
    return fact


# ---------------------------------------------------------------- reads


def current_facts(customer: Customer) -> QuerySet[PersonalFact]:
    """The facts still true about the customer and their contacts, newest first."""
    return (
        PersonalFact.objects.filter(customer=customer)
        .current()
        .select_related("contact", "learned_by", "related_contact", "source_interaction")
        .order_by("-learned_at", "-id")
    )


def all_facts(customer: Customer) -> QuerySet[PersonalFact]:
    """Current and retired facts, newest first (the panel's "show retired")."""
    return (
        PersonalFact.objects.filter(customer=customer)
        .select_related(
            "contact", "learned_by", "related_contact", "source_interaction", "retired_by"
        )
        .order_by("-learned_at", "-id")
    )


def recent_facts(customer: Customer, limit: int = 5) -> list[PersonalFact]:
    """The `limit` most recently learned current facts (one query)."""
    return list(current_facts(customer)[:limit])


@dataclass(frozen=True)
class UpcomingDate:
    """A date coming up: the fact, the day it falls on, how far away it is and, for a
    yearly date whose first year we know, how many years it will be (a 40th birthday,
    a 10th anniversary)."""

    fact: PersonalFact
    on: date
    days_away: int
    years: int | None


def next_occurrence(day: date, today: date) -> date:
    """The first anniversary of `day` on or after `today`; 29 February falls on
    28 February in other years."""
    for year in (today.year, today.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:  # 29 February in a common year
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable: next year's occurrence is always after today")


def _yearly_window(today: date, end: date) -> Q:
    """month_day values between today and end (both included) as indexed ranges."""
    if (end - today).days >= 365:
        return Q(month_day__isnull=False)
    start_md = today.month * 100 + today.day
    end_md = end.month * 100 + end.day
    if end.year == today.year:
        window = Q(month_day__gte=start_md, month_day__lte=end_md)
    else:  # the window wraps from December into January
        window = Q(month_day__gte=start_md) | Q(month_day__lte=end_md)
    # 29 February is celebrated on 28 February in a common year.
    for year in range(today.year, end.year + 1):
        feb_28 = date(year, 2, 28)
        if today <= feb_28 <= end and not _is_leap(year):
            window |= Q(month_day=229)
    return window


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _dates_between(today: date, end: date) -> Q:
    """Facts whose date (a yearly one's next occurrence) falls from today to end."""
    yearly = Q(recurs_yearly=True) & _yearly_window(today, end)
    return yearly | Q(recurs_yearly=False, date__gte=today, date__lte=end)


def upcoming_dates(customer: Customer, today: date, days: int = 30) -> list[UpcomingDate]:
    """Birthdays, anniversaries and one-off dates of current facts in the next `days`
    days (today included), soonest first. One query, on the yearly-date index."""
    days = max(0, min(days, 366))
    facts = (
        PersonalFact.objects.filter(customer=customer)
        .current()
        .filter(_dates_between(today, today + timedelta(days=days)))
        .select_related("contact", "related_contact", "learned_by")
    )
    return _upcoming(facts, today, days)


def recent_and_upcoming(
    customer: Customer, today: date, *, limit: int = 5, days: int = 30
) -> tuple[list[PersonalFact], list[UpcomingDate]]:
    """`recent_facts` and `upcoming_dates` together, in one query: the facts that are
    among the newest or have a date in the window. Any current fact newer than the
    `limit`-th newest is one of them, so the newest rows read are the newest facts."""
    days = max(0, min(days, 366))
    newest = (
        PersonalFact.objects.filter(customer=customer)
        .current()
        .order_by("-learned_at", "-id")
        .values("id")[:limit]
    )
    facts = list(
        PersonalFact.objects.filter(customer=customer)
        .current()
        .filter(Q(pk__in=Subquery(newest)) | _dates_between(today, today + timedelta(days=days)))
        # The briefing names the contact a fact is about; nothing else it shows needs
        # a join (each join costs the query its compilation and its columns).
        .select_related("contact")
        .order_by("-learned_at", "-id")
    )
    return facts[:limit], _upcoming(facts, today, days)


def _upcoming(facts: Iterable[PersonalFact], today: date, days: int) -> list[UpcomingDate]:
    found: list[UpcomingDate] = []
    for fact in facts:
        if fact.date is None:
            continue
        if fact.recurs_yearly:
            on = next_occurrence(fact.date, today)
            years: int | None = on.year - fact.date.year
            if fact.date.year == NO_YEAR or years is None or years <= 0:
                years = None
        else:
            on, years = fact.date, None
        days_away = (on - today).days
        if 0 <= days_away <= days:
            found.append(UpcomingDate(fact=fact, on=on, days_away=days_away, years=years))
    found.sort(key=lambda upcoming: (upcoming.on, upcoming.fact.pk))
    return found
