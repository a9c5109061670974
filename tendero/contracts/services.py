"""Every state change of the purchases ledger: recording a purchase (one, or a batch
all-or-nothing), correcting and removing one. Views, the API, imports and tasks call
these functions; they check permissions, validate collecting every field error,
write in one transaction and leave an audit trail (django-auditlog, with the acting
user and the customer, so a purchase shows in the customer's history).

Recording is idempotent by `external_id` (the sale's reference in the system it
came from): recording the same reference again with the same customer, moment,
amount and currency returns the purchase already there; with different ones it is
refused (InvalidData), never silently changed. Product, quantity and
description describe a purchase without making a repeat another one: a repeat that
names them differently returns the purchase as it was (correct it to change them).

A quantity has the sign of its amount (see tendero.contracts.models): a sale sells
more than nothing, a refund takes units back (negative) or none (0). Left out, it is
one unit: 1 for a sale, -1 for a refund.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from auditlog.cid import get_cid
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.audit.bulk import AuditRow, copy_audit_entries
from tendero.audit.models import AuditEntry
from tendero.contracts.models import (
    PRODUCT_MAX_LENGTH,
    Purchase,
    PurchaseSource,
    default_currency,
)
from tendero.core.bulk import insert_rows
from tendero.core.decimals import check_decimal, to_decimal
from tendero.core.errors import InvalidData, NotAllowed, VersionConflict
from tendero.core.services import FieldErrors, audited, claim_version, clean_text, require
from tendero.customers.models import Customer
from tendero.customers.validation import validate_currency

# How far ahead of the server's clock a purchase may be (clocks drift).
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_YEAR = 1900
# The columns' DecimalField(max_digits, decimal_places), checked by
# tendero.core.decimals before any arithmetic.
AMOUNT_DIGITS = (14, 2)
QUANTITY_DIGITS = (12, 3)
MAX_BATCH = 1_000
_SOURCES = frozenset(PurchaseSource.values)
PURCHASE_TEXT_FIELDS: dict[str, int] = {
    "external_id": 100,
    "description": 200,
    "product": PRODUCT_MAX_LENGTH,
}
PURCHASE_FIELDS = frozenset(
    [*PURCHASE_TEXT_FIELDS, "occurred_at", "amount", "currency", "source", "quantity"]
)


# Validation


_CURRENCY_MARK = re.compile(r"^\s*(?:[A-Za-z]{3}|[€$£¥])\s*|\s*(?:[A-Za-z]{3}|[€$£¥])\s*$")


def _parse_number(text: str) -> Decimal | None:
    """A number with an optional sign, spaces or apostrophes grouping thousands, and
    "," or "." for decimals and thousands (see parse_amount). None if it is not one."""
    value = re.sub(r"[\s\u00a0\u202f'\u2019]", "", text)
    negative = value.startswith("-")
    if value.startswith(("-", "+")):
        value = value[1:]
    if not value or not re.fullmatch(r"[0-9.,]+", value):
        return None
    commas, dots = value.count(","), value.count(".")
    if commas and dots:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        value = value.replace(thousands, "").replace(decimal_mark, ".")
    elif commas:
        value = value.replace(",", "") if commas > 1 else value.replace(",", ".")
    elif dots > 1:
        value = value.replace(".", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return -number if negative else number


def parse_amount(text: str) -> Decimal | None:
    """An amount as people write it: "1234.5", "1.234,56", "1,234.56", "-12,50 €",
    "(12.50)" for a negative one. With both separators the last one is the decimal
    point; a lone comma is a decimal comma (Spanish "12,50"); several of one kind
    group thousands. None if it is not an amount."""
    value = text.strip()
    negative = value.startswith("(") and value.endswith(")")
    if negative:
        value = value[1:-1]
    # A currency code or symbol before or after the number.
    amount = _parse_number(_CURRENCY_MARK.sub("", value))
    if amount is None:
        return None
    return -amount if negative else amount


# One separator followed by exactly three digits: "1.000" is one unit in English and a
# thousand in Spanish, "1,500" fifteen hundred in English and one and a half in Spanish.
# Quantities have up to three decimals, so neither reading can be ruled out.
_AMBIGUOUS_QUANTITY = re.compile(r"^[-+]?[1-9][0-9]{0,2}[.,][0-9]{3}$")


def is_ambiguous_quantity(text: str) -> bool:
    """Whether `text` reads as two different quantities ("1.500": 1.5 or 1500)."""
    return bool(_AMBIGUOUS_QUANTITY.match(text.strip()))


def is_ambiguous_amount(text: str) -> bool:
    """Whether `text` is an amount with one separator and three digits after it
    ("1.000", "1,000 €"): a thousand to one reader, one (with three decimals) to
    another; parse_amount would take the second."""
    value = _CURRENCY_MARK.sub("", text.strip().removeprefix("(").removesuffix(")"))
    return is_ambiguous_quantity(value)


def parse_quantity(text: str) -> Decimal | None:
    """A quantity as people write it: "3", "-1", "1,5" or "1.5", "12.000,5",
    "1 000". None if it is not a number (see is_ambiguous_quantity for the ones that
    are two)."""
    return _parse_number(text.strip())


def _typed_number(value: Any, parse: Callable[[str], Decimal | None]) -> Decimal | None:
    """`value` as a Decimal: a number as it is, a text as people write it (`parse`)
    or, failing that, as a program does ("1e3"). None if it is not a number."""
    if isinstance(value, str):
        number = parse(value)
        if number is not None:
            return number
    try:
        return to_decimal(value)
    except ValidationError:
        return None


def _checked_number(
    errors: FieldErrors,
    field: str,
    number: Decimal | None,
    digits: tuple[int, int],
    messages: Mapping[str, str],
) -> Decimal | None:
    """`number` with its column's decimals, or None with the field's error: too large,
    too many decimals or not a number (tendero.core.decimals, before any arithmetic)."""
    if number is None:
        errors.add(field, messages["not_a_number"])
        return None
    try:
        return check_decimal(number, *digits)
    except ValidationError as error:
        errors.add(field, messages.get(str(error.code), error.messages[0]))
        return None


def _clean_amount(errors: FieldErrors, value: Any) -> Decimal | None:
    if value is None or value == "":
        errors.add("amount", _("This field is required."))
        return None
    if isinstance(value, str) and is_ambiguous_amount(value):
        errors.add(
            "amount",
            _(
                "“%(value)s” can be read two ways (with three decimals, or in "
                "thousands): write the amount without a thousands separator (1000) or "
                "with its cents (1.000,00 or 1,000.00)."
            )
            % {"value": value.strip()},
        )
        return None
    messages = {
        "not_a_number": _("Enter an amount."),
        "too_many_decimals": _("At most two decimals."),
    }
    amount = _checked_number(
        errors, "amount", _typed_number(value, parse_amount), AMOUNT_DIGITS, messages
    )
    if amount is not None and not amount:
        errors.add("amount", _("A purchase of nothing is not a purchase: enter its amount."))
        return None
    return amount


def _clean_quantity(errors: FieldErrors, value: Any) -> Decimal | None:
    if isinstance(value, str) and is_ambiguous_quantity(value):
        errors.add(
            "quantity",
            _(
                "“%(value)s” can be read two ways (one and a half, or fifteen hundred): "
                "write the units without a thousands separator (1500) or with one or "
                "two decimals (1.5)."
            )
            % {"value": value.strip()},
        )
        return None
    messages = {
        "not_a_number": _("Enter a quantity (a number of units)."),
        "too_many_decimals": _("At most three decimals."),
    }
    return _checked_number(
        errors, "quantity", _typed_number(value, parse_quantity), QUANTITY_DIGITS, messages
    )


def _quantity_agrees(quantity: Decimal, amount: Decimal) -> bool:
    """A sale sells more than nothing; a refund takes units back, or none."""
    return quantity > 0 if amount > 0 else quantity <= 0


def _quantity_sign_error(amount: Decimal) -> str:
    if amount > 0:
        return _(
            "A sale sells something: enter a quantity above 0 (a refund has a negative amount)."
        )
    return _(
        "A refund takes units back: enter them as a negative quantity (-1 for one unit), "
        "or 0 if nothing came back."
    )


def _settle_quantity(
    errors: FieldErrors, data: Mapping[str, Any], clean: dict[str, Any], current: Purchase | None
) -> None:
    """Check the quantity against the amount, or choose it when none was given: one
    unit for a new purchase (-1 for a refund); in a correction that turns a sale into
    a refund (or back), the units it had, with the amount's sign."""
    amount = clean.get("amount") if "amount" in clean else getattr(current, "amount", None)
    if amount is None:
        return  # the amount is wrong: its own error says so
    given = data.get("quantity") not in (None, "")
    if given:
        quantity = clean.get("quantity")
        if quantity is not None and not _quantity_agrees(quantity, amount):
            errors.add("quantity", _quantity_sign_error(amount))
    elif current is None:
        clean["quantity"] = Decimal("1.000") if amount > 0 else Decimal("-1.000")
    elif not _quantity_agrees(current.quantity, amount):
        clean["quantity"] = -current.quantity if current.quantity else Decimal("1.000")


_DAY_FIRST = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)


def parse_moment(text: str) -> datetime | None:
    """A moment as spreadsheets write it: ISO ("2024-03-05", "2024-03-05 14:30",
    with or without offset) or day first ("05/03/2024", "5-3-2024 14:30"). A day
    alone is its midnight in the server's time zone. None if it is not one."""
    value = text.strip()
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        match = _DAY_FIRST.match(value)
        try:
            if match:
                day, month, year, hour, minute, second = match.groups()
                parsed = datetime(
                    int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                    int(second or 0),
                )  # fmt: skip
            else:
                parsed = datetime.combine(date.fromisoformat(value), time.min)
        except ValueError:
            return None
    return parsed


def _clean_moment(errors: FieldErrors, value: Any) -> datetime | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if isinstance(value, str):
        value = parse_moment(value)
    if not isinstance(value, datetime):
        errors.add("occurred_at", _("Enter a valid date and time."))
        return None
    if value.year < EARLIEST_YEAR:
        errors.add("occurred_at", _("Date out of range."))
        return None
    # Years ahead is the future whatever the time zone (and near year 9999 converting
    # to UTC would overflow).
    if value.year > timezone.now().year + 1:
        errors.add("occurred_at", _("A purchase cannot be in the future."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + FUTURE_TOLERANCE:
        errors.add("occurred_at", _("A purchase cannot be in the future."))
        return None
    return value


def _clean_currency(errors: FieldErrors, value: Any) -> str:
    if not isinstance(value, str):
        errors.add("currency", _("Must be text."))
        return ""
    return str(errors.check("currency", lambda: validate_currency(value)) or "")


def clean_purchase_data(
    data: Mapping[str, Any], customer: Customer, current: Purchase | None = None
) -> dict[str, Any]:
    """Validate and normalise purchase fields for `customer`: a new purchase when
    `current` is None (amount required; currency defaults to the customer's or
    the company's currency, source to manual, quantity to one unit with the amount's
    sign; the moment, left out, is now when written), otherwise only the fields in
    `data` change (and the quantity's sign, when the amount's changes).

    Pure validation, no permission check, no query. Raises InvalidData with
    every field error at once.
    """
    errors = FieldErrors()
    for name in sorted(set(data) - PURCHASE_FIELDS):
        errors.add(name, _("Unknown field."))
    clean: dict[str, Any] = {}
    for name, max_length in PURCHASE_TEXT_FIELDS.items():
        if name in data:
            clean[name] = clean_text(errors, name, data[name], max_length)
    if current is None or "amount" in data:
        clean["amount"] = _clean_amount(errors, data.get("amount"))
    if data.get("quantity") not in (None, ""):
        clean["quantity"] = _clean_quantity(errors, data["quantity"])
    elif "quantity" in data and current is not None:
        errors.add("quantity", _("This field is required."))
    _settle_quantity(errors, data, clean, current)
    if data.get("occurred_at") not in (None, ""):
        clean["occurred_at"] = _clean_moment(errors, data["occurred_at"])
    if data.get("currency") not in (None, ""):
        clean["currency"] = _clean_currency(errors, data["currency"])
    elif "currency" in data and current is not None:
        errors.add("currency", _("This field is required."))
    elif current is None:
        clean["currency"] = customer.currency or default_currency()
    if data.get("source") not in (None, ""):
        if str(data["source"]) not in _SOURCES:
            errors.add(
                "source", _("“%(value)s” is not one of the choices.") % {"value": data["source"]}
            )
        clean["source"] = str(data["source"])
    elif current is None:
        clean["source"] = PurchaseSource.MANUAL
    errors.raise_if_any()
    return clean


# Permissions


def _require_visible(by: User, customer_id: int) -> None:
    if not Customer.objects.visible_to(by).filter(pk=customer_id).exists():
        raise NotAllowed(_("You do not have permission to do this."))


def same_purchase(existing: Purchase, customer_id: int, clean: Mapping[str, Any]) -> bool:
    """Whether `clean` (cleaned values for `customer_id`) is the purchase `existing`
    again: what makes recording a reference twice harmless. A repeat that leaves the
    moment out (it meant "now" the first time too) matches on the rest."""
    return (
        existing.customer_id == customer_id
        and ("occurred_at" not in clean or existing.occurred_at == clean["occurred_at"])
        and existing.amount == clean["amount"]
        and existing.currency == clean["currency"]
    )


def reference_taken() -> str:
    """What a reference recorded for a different purchase says. The same words whether
    that purchase's customer is in the caller's portfolio or not: nothing is learned
    about other portfolios."""
    return _("This reference cannot be used for this purchase: nothing was recorded.")


# Recording


@dataclass(frozen=True)
class NewPurchase:
    """One purchase to record, already cleaned (see clean_purchase_data)."""

    customer: Customer
    values: dict[str, Any]


def record_purchase(by: User, customer: Customer, data: Mapping[str, Any]) -> Purchase:
    """Record a purchase (negative amount: a refund) of `customer`; see
    clean_purchase_data for `data`.

    Idempotent by external_id: the same reference with the same customer, moment,
    amount and currency returns the purchase already recorded (`just_created` is
    False then). Raises NotAllowed, InvalidData (bad input, or the reference
    belongs to a different purchase); nothing is written then.
    """
    require(by, "contracts.add_purchase")
    _require_visible(by, customer.pk)
    clean = clean_purchase_data(data, customer)
    return write_purchases(by, [NewPurchase(customer, clean)])[0]


def clean_purchase_batch(
    by: User, items: Sequence[tuple[Customer | None, Mapping[str, Any]]], prefix: str = "items"
) -> list[NewPurchase]:
    """Validate a batch of (customer, data); None for a customer the caller may not see
    or that does not exist. Every item's errors are reported under
    "<prefix>.<index>.<field>". Raises InvalidData with all of them."""
    errors: dict[str, list[str]] = {}
    cleaned: list[NewPurchase] = []
    for index, (customer, data) in enumerate(items):
        if customer is None:
            errors[f"{prefix}.{index}.customer_id"] = [_("No such customer.")]
            continue
        try:
            cleaned.append(NewPurchase(customer, clean_purchase_data(data, customer)))
        except InvalidData as exc:
            for name, messages in exc.field_errors.items():
                errors[f"{prefix}.{index}.{name}"] = messages
    if errors:
        raise InvalidData(_("Please correct the errors below."), errors)
    return cleaned


def record_purchase_batch(
    by: User, items: Sequence[tuple[Customer | None, Mapping[str, Any]]]
) -> list[Purchase]:
    """Record up to MAX_BATCH purchases all-or-nothing: if any item is wrong nothing is
    written and every item's errors are reported with its index
    ("items.3.amount"). Each item is idempotent by external_id as in
    record_purchase. Raises NotAllowed, InvalidData."""
    require(by, "contracts.add_purchase")
    if len(items) > MAX_BATCH:
        raise InvalidData(
            _("At most %(n)d purchases at once.") % {"n": MAX_BATCH},
            {"items": [_("At most %(n)d purchases at once.") % {"n": MAX_BATCH}]},
        )
    visible_ids = set(
        Customer.objects.visible_to(by)
        .filter(pk__in={c.pk for c, _d in items if c is not None})
        .values_list("pk", flat=True)
    )
    scoped = [(c if c is not None and c.pk in visible_ids else None, d) for c, d in items]
    return write_purchases(by, clean_purchase_batch(by, scoped))


def write_purchases(
    by: User, items: Sequence[NewPurchase], prefix: str = "items"
) -> list[Purchase]:
    """Write cleaned purchases in one transaction with their audit entries and return
    them in order; one whose reference is already recorded identically is returned as
    it is (`just_created` False), as is a repeat of an earlier item.

    The caller has checked permissions and visibility. Raises InvalidData
    (a reference recorded for a different purchase, or repeated with different
    values in `items`); nothing is written then.
    """
    single = len(items) == 1
    references = {i.values["external_id"] for i in items if i.values.get("external_id")}
    known = {p.external_id: p for p in Purchase.objects.filter(external_id__in=references)}
    errors: dict[str, list[str]] = {}
    # Per item: the purchase already recorded, or the index of the item that writes it.
    plan: list[Purchase | int] = []
    first_of: dict[str, int] = {}
    for index, item in enumerate(items):
        reference = item.values.get("external_id", "")
        where = "external_id" if single else f"{prefix}.{index}.external_id"
        if reference in known:
            if not same_purchase(known[reference], item.customer.pk, item.values):
                errors[where] = [reference_taken()]
            plan.append(known[reference])
        elif reference in first_of:
            earlier = items[first_of[reference]]
            twin = Purchase(customer_id=earlier.customer.pk, **earlier.values)
            if not same_purchase(twin, item.customer.pk, item.values):
                errors[where] = [reference_taken()]
            plan.append(first_of[reference])
        else:
            if reference:
                first_of[reference] = index
            plan.append(index)
    if errors:
        raise InvalidData(_("Please correct the errors below."), errors)
    now = timezone.now()
    written: dict[int, Purchase] = {}
    for index, entry in enumerate(plan):
        if entry == index:
            item = items[index]
            written[index] = Purchase(
                customer=item.customer,
                created_by=by,
                created_at=now,
                updated_at=now,
                **item.values,
            )
    try:
        with audited(by):
            if len(written) == 1:
                # One row: django-auditlog's own signal writes its entry.
                next(iter(written.values())).save()
            elif written:
                _insert_created(by, list(written.values()), now)
    except IntegrityError:
        # Someone recorded one of these references between our look-up and our write.
        raise InvalidData(
            _("Please correct the errors below."),
            {"external_id" if single else prefix: [reference_taken()]},
        ) from None
    for purchase in written.values():
        purchase.just_created = True
    result: list[Purchase] = []
    for entry in plan:
        if isinstance(entry, Purchase):
            entry.just_created = False
            result.append(entry)
        else:
            result.append(written[entry])
    return result


# The fields the audit trail follows (audit.py leaves out version and updated_at).
_AUDITED = {
    "id": "id", "customer_id": "customer", "occurred_at": "occurred_at", "amount": "amount",
    "currency": "currency", "source": "source", "external_id": "external_id",
    "description": "description", "product": "product", "quantity": "quantity",
    "created_by_id": "created_by", "created_at": "created_at",
}  # fmt: skip


def _audit_value(value: Any) -> str:
    # As django-auditlog writes them: moments naive in UTC, everything else as text.
    if isinstance(value, datetime):
        return str(timezone.make_naive(value, UTC))
    return str(value)


def _audit_changes(purchase: Purchase) -> dict[str, list[str]]:
    """A created purchase's audit changes: each field "None" before, its value after,
    as the import of customers records them (building them through django-auditlog's
    diff took a third of an import's time)."""
    changes = {}
    for attname, name in _AUDITED.items():
        value = getattr(purchase, attname)
        if value is not None and value != "":
            changes[name] = ["None", _audit_value(value)]
    return changes


def _audit_entry(by: User, purchase: Purchase, content_type: Any, cid: Any, now: datetime) -> Any:
    return AuditEntry(
        content_type=content_type,
        object_pk=str(purchase.pk),
        object_id=purchase.pk,
        object_repr=str(purchase),
        action=AuditEntry.Action.CREATE,
        changes=_audit_changes(purchase),
        changes_text="",
        actor=by,
        actor_email=by.email or "",
        timestamp=now,
        additional_data={"customer_id": purchase.customer_id},
        customer_id=purchase.customer_id,
        cid=cid,
    )


_PURCHASE_COLUMNS = [
    "id", "customer_id", "occurred_at", "amount", "currency", "source", "external_id",
    "description", "product", "quantity", "created_by_id", "version", "created_at",
    "updated_at",
]  # fmt: skip


def _insert_created(by: User, purchases: list[Purchase], now: datetime) -> None:
    """Insert new purchases and their audit entries (what django-auditlog would write;
    bulk inserts send no signals). On PostgreSQL by COPY, ids drawn from the sequence
    first; elsewhere by bulk_create."""
    content_type = ContentType.objects.get_for_model(Purchase)
    cid = get_cid()
    if connection.vendor != "postgresql":
        Purchase.objects.bulk_create(purchases)
        AuditEntry.objects.bulk_create(
            _audit_entry(by, p, content_type, cid, now) for p in purchases
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Purchase._meta.db_table, len(purchases)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for purchase, pk in zip(purchases, ids, strict=True):
        purchase.pk = pk
    # COPY goes straight to psycopg: its errors (a reference recorded meanwhile) are
    # turned into Django's, as the callers expect.
    with connections[DEFAULT_DB_ALIAS].wrap_database_errors:
        _copy_created(by, purchases, content_type, cid, now)


def _copy_created(
    by: User, purchases: list[Purchase], content_type: Any, cid: Any, now: datetime
) -> None:
    insert_rows(
        Purchase,
        _PURCHASE_COLUMNS,
        [tuple(getattr(p, column) for column in _PURCHASE_COLUMNS) for p in purchases],
    )
    template = _audit_entry(by, Purchase(pk=0, customer_id=0), content_type, cid, now)
    copy_audit_entries(
        template,
        (
            AuditRow(
                object_id=purchase.pk,
                customer_id=purchase.customer_id,
                object_repr=str(purchase),
                changes=_audit_changes(purchase),
                additional_data={"customer_id": purchase.customer_id},
            )
            for purchase in purchases
        ),
    )


# Correcting and removing


def correct_purchase(
    by: User, purchase: Purchase, data: Mapping[str, Any], expected_version: int
) -> Purchase:
    """Correct a purchase if nobody changed it since `expected_version`; only the
    fields in `data` change (a purchase never moves to another customer).

    Raises NotAllowed, InvalidData (bad input, a reference another purchase
    has), VersionConflict; nothing is written then.
    """
    require(by, "contracts.change_purchase")
    _require_visible(by, purchase.customer_id)
    clean = clean_purchase_data(data, purchase.customer, current=purchase)
    reference = clean.get("external_id")
    if (
        reference
        and reference != purchase.external_id
        and Purchase.objects.filter(external_id=reference).exclude(pk=purchase.pk).exists()
    ):
        raise InvalidData(
            _("Please correct the errors below."), {"external_id": [reference_taken()]}
        )
    try:
        with audited(by):
            claim_version(purchase, expected_version)
            for name, value in clean.items():
                setattr(purchase, name, value)
            purchase.save()
    except IntegrityError:
        purchase.refresh_from_db()
        raise InvalidData(
            _("Please correct the errors below."), {"external_id": [reference_taken()]}
        ) from None
    except Exception:
        purchase.refresh_from_db()
        raise
    purchase.just_created = False
    return purchase


def delete_purchase(by: User, purchase: Purchase, expected_version: int) -> None:
    """Remove a purchase recorded by mistake (a refund is a negative purchase, not a
    deletion) if nobody changed it since `expected_version`.

    Raises NotAllowed, VersionConflict (nothing is removed then).
    """
    require(by, "contracts.delete_purchase")
    _require_visible(by, purchase.customer_id)
    with audited(by):
        current = (
            Purchase.objects.select_for_update()
            .filter(pk=purchase.pk)
            .values_list("version", flat=True)
            .first()
        )
        if current != expected_version:
            raise VersionConflict(current or 0)
        purchase.delete()


def customer_summary(customer: Customer) -> list[dict[str, Any]]:
    """Per currency: how many purchases, their total, the first and the last moment
    (one aggregate over the customer's index)."""
    rows = (
        Purchase.objects.filter(customer=customer)
        .order_by()
        .values("currency")
        .annotate(
            count=Count("id"),
            total=Sum("amount"),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .order_by("-count", "currency")
    )
    return [dict(row) for row in rows]
