"""Every state change of the dialogue: logging, correcting and removing interactions,
and closing what was left to do after one. Views, the API and tasks call these
functions; they validate, check permissions, write in one transaction and leave an
audit trail (django-auditlog, with the acting user)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.core.errors import NotAllowed
from tendero.core.services import FieldErrors, audited, choice, claim_version, clean_text, require
from tendero.customers.models import Contact, Customer
from tendero.dialogue.models import Channel, Direction, Interaction, Sentiment, Voice
from tendero.dialogue.rhythm import next_due_from_day, next_due_from_last_interaction
from tendero.organization.models import Department

# How far ahead of the server's clock a logged moment may be (clocks drift).
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_YEAR = 1900
INTERACTION_TEXT_FIELDS: dict[str, int] = {"subject": 200, "notes": 10_000, "outcome": 200}
# The others are one line (tendero.core.text).
MULTILINE_FIELDS = frozenset({"notes"})
INTERACTION_FIELDS = frozenset(
    [
        *INTERACTION_TEXT_FIELDS,
        "channel",
        "direction",
        "occurred_at",
        "contact_id",
        "department_id",
        "handled_by_id",
        "voice",
        "sentiment",
        "follow_up_on",
    ]
)
REQUIRED_ON_CREATE = ("channel", "direction", "subject")


def _clean_id(errors: FieldErrors, field: str, value: Any) -> int | None:
    """An id given as a number or digits; None for blank. Adds an error otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.add(field, _("Must be a whole number."))
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 2**63 - 1:
        errors.add(field, _("Must be a whole number."))
        return None
    return value


def _clean_moment(errors: FieldErrors, value: Any) -> datetime | None:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = parse_datetime(text)
        except ValueError:
            value = None
        if value is None:
            errors.add("occurred_at", _("Enter a valid date and time."))
            return None
    if not isinstance(value, datetime):
        errors.add("occurred_at", _("Enter a valid date and time."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value.year < EARLIEST_YEAR:
        errors.add("occurred_at", _("Date out of range."))
        return None
    if value > timezone.now() + FUTURE_TOLERANCE:
        errors.add("occurred_at", _("An interaction cannot be in the future."))
        return None
    return value


def _clean_day(errors: FieldErrors, field: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
        value = parsed
    if isinstance(value, datetime) or not isinstance(value, date):
        errors.add(field, _("Enter a valid date."))
        return None
    if value.year < EARLIEST_YEAR:
        errors.add(field, _("Date out of range."))
        return None
    return value


def _optional_choice(errors: FieldErrors, field: str, value: Any, choices: list[str]) -> str:
    if value is None or value == "":
        return ""
    return str(choice(errors, field, value, choices))


def clean_interaction_data(
    data: Mapping[str, Any], customer: Customer, current: Interaction | None = None
) -> dict[str, Any]:
    """Validate and normalise interaction fields for `customer` (a new interaction when
    `current` is None, otherwise only the fields in `data` change).

    Returns model field values (ids for relations, omitted when not given). Pure
    validation, no permission check. Raises InvalidData with every field error.
    """
    errors = FieldErrors()
    for field in sorted(set(data) - INTERACTION_FIELDS):
        errors.add(field, _("Unknown field."))
    clean: dict[str, Any] = {}
    for field, max_length in INTERACTION_TEXT_FIELDS.items():
        if field in data:
            multiline = field in MULTILINE_FIELDS
            clean[field] = clean_text(errors, field, data[field], max_length, multiline=multiline)
    if current is None:
        for field in REQUIRED_ON_CREATE:
            if data.get(field) in (None, ""):
                errors.add(field, _("This field is required."))
    if "subject" in clean and not clean["subject"] and "subject" not in errors.fields:
        errors.add("subject", _("Say what it was about."))
    for field, choices in (("channel", Channel.values), ("direction", Direction.values)):
        if data.get(field) not in (None, ""):
            clean[field] = str(choice(errors, field, data[field], choices))
    for field, choices in (("voice", Voice.values), ("sentiment", Sentiment.values)):
        if field in data:
            clean[field] = _optional_choice(errors, field, data[field], choices)
    if data.get("occurred_at") not in (None, ""):
        clean["occurred_at"] = _clean_moment(errors, data["occurred_at"])
    if "follow_up_on" in data:
        clean["follow_up_on"] = _clean_day(errors, "follow_up_on", data["follow_up_on"])
    if "contact_id" in data:
        contact_id = _clean_id(errors, "contact_id", data["contact_id"])
        if contact_id and not Contact.objects.filter(pk=contact_id, customer=customer).exists():
            errors.add("contact_id", _("Choose one of this customer's contacts."))
        clean["contact_id"] = contact_id
    if "department_id" in data:
        department_id = _clean_id(errors, "department_id", data["department_id"])
        if department_id and not Department.objects.active().filter(pk=department_id).exists():
            errors.add("department_id", _("Choose an active department."))
        clean["department_id"] = department_id
    if "handled_by_id" in data:
        handled_by_id = _clean_id(errors, "handled_by_id", data["handled_by_id"])
        if handled_by_id and not User.objects.filter(pk=handled_by_id, is_active=True).exists():
            errors.add("handled_by_id", _("Choose an active user."))
        clean["handled_by_id"] = handled_by_id
    direction = clean.get("direction", current.direction if current else None)
    voice = clean.get("voice", current.voice if current else "")
    if voice and direction == Direction.OUTBOUND and "voice" not in errors.fields:
        errors.add(
            "voice",
            _(
                "Only what the customer tells us (inbound) is their voice: "
                "an outbound interaction has none."
            ),
        )
    errors.raise_if_any()
    return clean


def _require_visible(by: User, customer_id: int) -> None:
    if not Customer.objects.visible_to(by).filter(pk=customer_id).exists():
        raise NotAllowed(_("You do not have permission to do this."))


def _touch_customer(customer: Customer, occurred_at: datetime) -> None:
    """After a new interaction: one UPDATE moving last_interaction_at forward (only if
    this one is newer) and next_contact_due with it. Not a customer edit: no version
    bump, no customer audit entry (queryset updates send no signals)."""
    Customer.objects.filter(pk=customer.pk).filter(
        Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lte=occurred_at)
    ).update(
        last_interaction_at=occurred_at,
        next_contact_due=next_due_from_day(timezone.localdate(occurred_at)),
    )
    customer.refresh_from_db(fields=["last_interaction_at", "next_contact_due"])


def _recompute_customer(customer: Customer) -> None:
    """After an interaction moved or went: last_interaction_at from what remains, in
    one UPDATE, and next_contact_due from it (a second one: it reads the first)."""
    latest = (
        Interaction.objects.filter(customer_id=OuterRef("pk"))
        .order_by()
        .values("customer_id")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    rows = Customer.objects.filter(pk=customer.pk)
    rows.update(last_interaction_at=Subquery(latest))
    rows.update(next_contact_due=next_due_from_last_interaction())
    customer.refresh_from_db(fields=["last_interaction_at", "next_contact_due"])


def record_interaction(by: User, customer: Customer, data: Mapping[str, Any]) -> Interaction:
    """Log an interaction with `customer` (see clean_interaction_data for `data`).

    Defaults: now, the acting user as the person who handled it and their department.
    Moves the customer's last_interaction_at and next_contact_due in the same
    transaction. Raises NotAllowed, InvalidData.
    """
    require(by, "dialogue.add_interaction")
    _require_visible(by, customer.pk)
    clean = clean_interaction_data(data, customer)
    clean.setdefault("occurred_at", None)
    clean["occurred_at"] = clean["occurred_at"] or timezone.now()
    if not clean.get("handled_by_id"):
        clean["handled_by_id"] = by.pk
    if not clean.get("department_id"):
        department_id = by.department_id
        if department_id and Department.objects.active().filter(pk=department_id).exists():
            clean["department_id"] = department_id
    now = timezone.now()
    with audited(by):
        interaction = Interaction.objects.create(
            customer=customer, created_by=by, created_at=now, updated_at=now, **clean
        )
        _touch_customer(customer, interaction.occurred_at)
    return interaction


def update_interaction(
    by: User, interaction: Interaction, data: Mapping[str, Any], expected_version: int
) -> Interaction:
    """Correct an interaction if nobody changed it since `expected_version`; only the
    fields in `data` change. Recomputes the customer's last interaction if it moved.

    Raises NotAllowed, InvalidData, VersionConflict (nothing is written then).
    """
    require(by, "dialogue.change_interaction")
    _require_visible(by, interaction.customer_id)
    customer = interaction.customer
    clean = clean_interaction_data(data, customer, current=interaction)
    if "occurred_at" in clean and clean["occurred_at"] is None:
        del clean["occurred_at"]
    try:
        with audited(by):
            claim_version(interaction, expected_version)
            moved = "occurred_at" in clean and clean["occurred_at"] != interaction.occurred_at
            for field, value in clean.items():
                setattr(interaction, field, value)
            interaction.save()
            if moved:
                _recompute_customer(customer)
    except Exception:
        interaction.refresh_from_db()
        raise
    return interaction


def delete_interaction(by: User, interaction: Interaction) -> None:
    """Remove an interaction and recompute the customer's last interaction and next
    contact due from the ones left. Raises NotAllowed."""
    require(by, "dialogue.delete_interaction")
    _require_visible(by, interaction.customer_id)
    customer = interaction.customer
    with audited(by):
        interaction.delete()
        _recompute_customer(customer)


def complete_follow_up(by: User, interaction: Interaction) -> Interaction:
    """Mark what was left to do after the interaction as done (now). Doing it twice
    keeps the first moment. Raises NotAllowed, InvalidData (nothing to do)."""
    require(by, "dialogue.change_interaction")
    _require_visible(by, interaction.customer_id)
    if interaction.follow_up_on is None:
        errors = FieldErrors()
        errors.add("follow_up_on", _("This interaction has nothing left to do."))
        errors.raise_if_any()
    if interaction.follow_up_done_at is not None:
        return interaction
    now = timezone.now()
    with audited(by):
        interaction.follow_up_done_at = now
        interaction.version += 1
        interaction.updated_at = now
        interaction.save(update_fields=["follow_up_done_at", "version", "updated_at"])
    return interaction
