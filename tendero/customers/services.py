"""Every state change of customers and contacts. Views, the API, tasks and commands
call these functions; they validate, check permissions, write in one transaction
and leave an audit trail (django-auditlog, with the acting user)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.core.errors import InvalidData, VersionConflict
from tendero.core.services import (
    FieldErrors,
    audited,
    choice,
    claim_version,
    clean_text,
    require,
)
from tendero.core.text import clean_line
from tendero.customers.models import (
    AccountExecutiveAssignment,
    AcquisitionSource,
    Contact,
    Customer,
    CustomerEmail,
    CustomerKind,
    CustomerPhone,
    LifecycleStage,
    RelationshipLevel,
    RelationshipLevelChange,
    Tag,
)
from tendero.customers.search import index_customers, name_key
from tendero.customers.validation import (
    normalise_email,
    normalise_phone,
    validate_country,
    validate_currency,
    validate_language,
)

CUSTOMER_TEXT_FIELDS: dict[str, int] = {
    "display_name": 200,
    "preferred_name": 100,
    "tax_id": 40,
    "external_id": 100,
    "street": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
}
CUSTOMER_FIELDS = frozenset(
    [
        *CUSTOMER_TEXT_FIELDS,
        "kind",
        "country",
        "language",
        "currency",
        "acquisition_source",
        "lifecycle_stage",
        "emails",
        "phones",
        "tags",
    ]
)
CONTACT_TEXT_FIELDS: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "preferred_name": 100,
    "role": 100,
}
CONTACT_FIELDS = frozenset([*CONTACT_TEXT_FIELDS, "email", "phone", "is_primary"])


def _clean_list(
    errors: FieldErrors, field: str, values: Any, cleaner: Callable[[str], str]
) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [line for line in values.replace(",", "\n").splitlines()]
    cleaned: list[str] = []
    for raw in values:
        if not isinstance(raw, str):
            errors.add(field, _("Must be text."))
            continue
        if not raw.strip():
            continue
        value = errors.check(field, functools.partial(cleaner, raw))
        if value and value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > 10:
        errors.add(field, _("At most 10."))
    return cleaned


def clean_customer(data: Mapping[str, Any], current: Customer | None) -> dict[str, Any]:
    """Validate and normalise customer fields; raises InvalidData with every error."""
    errors = FieldErrors()
    unknown = set(data) - CUSTOMER_FIELDS
    for field in sorted(unknown):
        errors.add(field, _("Unknown field."))
    clean: dict[str, Any] = {}
    for field, max_length in CUSTOMER_TEXT_FIELDS.items():
        if field in data:
            clean[field] = clean_text(errors, field, data[field], max_length)
    named = clean.get("display_name") or "display_name" in errors.fields
    if ("display_name" in clean or current is None) and not named:
        errors.add("display_name", _("A customer needs a name."))
    if "kind" in data or current is None:
        clean["kind"] = choice(errors, "kind", data.get("kind"), CustomerKind.values)
    for field, validator in (
        ("country", validate_country),
        ("language", validate_language),
        ("currency", validate_currency),
    ):
        if field in data:
            text = clean_text(errors, field, data[field], 10)
            clean[field] = errors.check(field, functools.partial(validator, text)) or ""
    if data.get("acquisition_source"):
        clean["acquisition_source"] = choice(
            errors, "acquisition_source", data["acquisition_source"], AcquisitionSource.values
        )
    elif "acquisition_source" in data:
        clean["acquisition_source"] = ""
    if "lifecycle_stage" in data:
        clean["lifecycle_stage"] = choice(
            errors, "lifecycle_stage", data["lifecycle_stage"], LifecycleStage.values
        )
    if "emails" in data:
        clean["emails"] = _clean_list(errors, "emails", data["emails"], normalise_email)
    if "phones" in data:
        country = clean.get("country", current.country if current else "") or ""
        clean["phones"] = _clean_list(
            errors, "phones", data["phones"], lambda raw: normalise_phone(raw, str(country))
        )
    if "tags" in data:
        clean["tags"] = _clean_list(errors, "tags", data["tags"], _clean_tag_name)
    errors.raise_if_any()
    return clean


def _clean_tag_name(raw: str) -> str:
    name = " ".join(clean_line(raw).split())
    if len(name) > 50:
        raise ValidationError(_("A tag has at most 50 characters."))
    return name


def _set_ordered_values(
    existing_rows: Iterable[Any], value_field: str, values: list[str], create: Callable[..., Any]
) -> None:
    """Make a customer's emails or phones exactly `values`, in that order (the first is
    the primary one), touching only the rows that change so the audit trail stays true."""
    existing = {getattr(row, value_field): row for row in existing_rows}
    for value, row in existing.items():
        if value not in values:
            row.delete()
    for position, value in enumerate(values):
        row = existing.get(value)
        if row is None:
            create(**{value_field: value, "position": position})
        elif row.position != position:
            row.position = position
            row.save(update_fields=["position"])


def _set_emails(customer: Customer, addresses: list[str]) -> None:
    _set_ordered_values(
        customer.emails.all(),
        "address",
        addresses,
        functools.partial(CustomerEmail.objects.create, customer=customer),
    )


def _set_phones(customer: Customer, numbers: list[str]) -> None:
    _set_ordered_values(
        customer.phones.all(),
        "number",
        numbers,
        functools.partial(CustomerPhone.objects.create, customer=customer),
    )


def _check_tags_allowed(by: User, names: list[str] | None) -> None:
    """Only people who may create tags can tag with a name that does not exist yet."""
    if not names or by.has_perm("customers.add_tag"):
        return
    known = {
        name.lower() for name in Tag.objects.values_list("name", flat=True).filter(name__in=names)
    }
    for name in names:
        if name.lower() not in known and not Tag.objects.filter(name__iexact=name).exists():
            raise InvalidData(
                _("You may only use existing tags."),
                {"tags": [_("“%(name)s” does not exist.") % {"name": name}]},
            )


def _set_tags(customer: Customer, names: list[str]) -> None:
    tags = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        tags.append(tag)
    if set(customer.tags.all()) != set(tags):
        customer.tags.set(tags)


def external_id_taken() -> str:
    """What a clash of external ids says. The same words whether the customer who has
    it is in the caller's portfolio or not: nothing is learned about other portfolios."""
    return _("This external id cannot be used: choose another one.")


def save_customer(customer: Customer) -> None:
    customer.name_key = name_key(customer.display_name)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise InvalidData(
            _("Please correct the errors below."), {"external_id": [external_id_taken()]}
        ) from exc


def create_customer(
    by: User, data: Mapping[str, Any], account_executive: User | None = None
) -> Customer:
    """Create a customer with their emails, phones and tags.

    Whoever has no right to assign account executives becomes the new customer's
    account executive themselves, so the customer is in their portfolio.
    Raises NotAllowed, InvalidData.
    """
    require(by, "customers.add_customer")
    clean = clean_customer(data, None)
    if account_executive is not None and account_executive != by:
        require(by, "customers.assign_account_executive")
    elif account_executive is None and not by.has_perm("customers.view_all_customers"):
        account_executive = by
    if account_executive is not None:
        _check_account_executive(account_executive)
    emails = clean.pop("emails", [])
    phones = clean.pop("phones", [])
    tags = clean.pop("tags", [])
    _check_tags_allowed(by, tags)
    with audited(by):
        customer = Customer(**clean, account_executive=account_executive)
        save_customer(customer)
        _set_emails(customer, emails)
        _set_phones(customer, phones)
        _set_tags(customer, tags)
        index_customers([customer.pk])
        if account_executive is not None:
            AccountExecutiveAssignment.objects.create(
                customer=customer, user=account_executive, assigned_by=by, reason=_("New customer")
            )
    return customer


def update_customer(
    by: User, customer: Customer, expected_version: int, changes: Mapping[str, Any]
) -> Customer:
    """Apply `changes` to `customer` if nobody changed it since `expected_version`.

    Raises NotAllowed, InvalidData, VersionConflict (nothing is written then).
    """
    require(by, "customers.change_customer")
    clean = clean_customer(changes, customer)
    emails = clean.pop("emails", None)
    phones = clean.pop("phones", None)
    tags = clean.pop("tags", None)
    _check_tags_allowed(by, tags)
    try:
        _apply_customer_update(by, customer, expected_version, clean, emails, phones, tags)
    except Exception:
        # Everything was rolled back: bring the in-memory object back in line with it.
        customer.refresh_from_db()
        raise
    return customer


def _apply_customer_update(
    by: User,
    customer: Customer,
    expected_version: int,
    clean: dict[str, Any],
    emails: list[str] | None,
    phones: list[str] | None,
    tags: list[str] | None,
) -> None:
    with audited(by):
        claim_version(customer, expected_version)
        for field, value in clean.items():
            setattr(customer, field, value)
        save_customer(customer)
        if emails is not None:
            _set_emails(customer, emails)
        if phones is not None:
            _set_phones(customer, phones)
        if tags is not None:
            _set_tags(customer, tags)
        index_customers([customer.pk])


def delete_customer(by: User, customer: Customer) -> None:
    """Delete a customer and everything that hangs from them. Raises NotAllowed."""
    require(by, "customers.delete_customer")
    with audited(by):
        customer.delete()


def _check_account_executive(user: User) -> None:
    # The same rule as forms.account_executive_candidates (User.objects.with_permission).
    if not user.is_active or not user.has_perm("customers.view_customer"):
        raise InvalidData(
            _("This person cannot be an account executive."),
            {"account_executive": [_("Choose an active user who works with customers.")]},
        )


def assign_account_executive(
    by: User, customer: Customer, user: User | None, reason: str = ""
) -> None:
    """Make `user` the customer's account executive (None: nobody), closing the current
    assignment so that every period of the relationship is kept, all in the audit trail.

    Raises NotAllowed, InvalidData.
    """
    require(by, "customers.assign_account_executive")
    errors = FieldErrors()
    reason = clean_text(errors, "reason", reason, 200)
    errors.raise_if_any()
    if user is not None:
        _check_account_executive(user)
    if customer.account_executive_id == (user.pk if user else None):
        return
    now = timezone.now()
    with audited(by):
        for current in AccountExecutiveAssignment.objects.filter(
            customer=customer, ended_at__isnull=True
        ):
            current.ended_at = now
            current.save(update_fields=["ended_at"])
        if user is not None:
            AccountExecutiveAssignment.objects.create(
                customer=customer, user=user, started_at=now, assigned_by=by, reason=reason
            )
        customer.account_executive = user
        customer.save(update_fields=["account_executive"])


def change_relationship_level(
    by: User, customer: Customer, to_level: int, reason: str
) -> RelationshipLevelChange:
    """Move the relationship one rung up or down the ladder, with a reason.

    Raises NotAllowed, InvalidData (skipping a rung, no reason, unknown level).
    """
    require(by, "customers.change_relationship_level")
    errors = FieldErrors()
    reason = clean_text(errors, "reason", reason, 2000, multiline=True)
    if not reason and "reason" not in errors.fields:
        errors.add("reason", _("Say why the relationship changed."))
    if to_level not in RelationshipLevel.values:
        errors.add("to_level", _("Unknown relationship level."))
    elif abs(to_level - customer.relationship_level) != 1:
        errors.add(
            "to_level",
            _(
                "A relationship moves one level at a time: "
                "from %(from)s only to the next or previous one."
            )
            % {"from": RelationshipLevel(customer.relationship_level).label},
        )
    errors.raise_if_any()
    with audited(by):
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.relationship_level != customer.relationship_level:
            raise VersionConflict(locked.version)
        change = RelationshipLevelChange.objects.create(
            customer=customer,
            from_level=customer.relationship_level,
            to_level=to_level,
            changed_by=by,
            reason=reason,
        )
        customer.relationship_level = to_level
        customer.version = locked.version + 1
        customer.updated_at = timezone.now()
        customer.save(update_fields=["relationship_level", "version", "updated_at"])
    return change


def clean_contact(data: Mapping[str, Any], current: Contact | None, country: str) -> dict[str, Any]:
    errors = FieldErrors()
    for field in sorted(set(data) - CONTACT_FIELDS):
        errors.add(field, _("Unknown field."))
    clean: dict[str, Any] = {}
    for field, max_length in CONTACT_TEXT_FIELDS.items():
        if field in data:
            clean[field] = clean_text(errors, field, data[field], max_length)
    if ("first_name" in clean or current is None) and not clean.get("first_name"):
        errors.add("first_name", _("A contact needs a first name."))
    if data.get("email"):
        text = clean_text(errors, "email", data["email"], 254)
        clean["email"] = errors.check("email", lambda: normalise_email(text)) or ""
    elif "email" in data:
        clean["email"] = ""
    if data.get("phone"):
        text = clean_text(errors, "phone", data["phone"], 40)
        clean["phone"] = errors.check("phone", lambda: normalise_phone(text, country)) or ""
    elif "phone" in data:
        clean["phone"] = ""
    if "is_primary" in data:
        if not isinstance(data["is_primary"], bool):
            errors.add("is_primary", _("Must be true or false."))
        clean["is_primary"] = bool(data["is_primary"])
    errors.raise_if_any()
    return clean


def _only_one_primary(contact: Contact) -> None:
    if contact.is_primary:
        for other in Contact.objects.filter(
            customer_id=contact.customer_id, is_primary=True
        ).exclude(pk=contact.pk):
            other.is_primary = False
            other.save(update_fields=["is_primary"])


def create_contact(by: User, customer: Customer, data: Mapping[str, Any]) -> Contact:
    """Add a person at an organisation customer. Raises NotAllowed, InvalidData."""
    require(by, "customers.add_contact")
    if customer.kind != CustomerKind.ORGANISATION:
        raise InvalidData(_("Only organisations have contacts."))
    clean = clean_contact(data, None, str(customer.country or ""))
    with audited(by):
        contact = Contact.objects.create(customer=customer, **clean)
        _only_one_primary(contact)
        index_customers([customer.pk])
    return contact


def update_contact(
    by: User, contact: Contact, expected_version: int, changes: Mapping[str, Any]
) -> Contact:
    """Change a contact if nobody changed it since `expected_version`.

    Raises NotAllowed, InvalidData, VersionConflict.
    """
    require(by, "customers.change_contact")
    clean = clean_contact(changes, contact, str(contact.customer.country or ""))
    with audited(by):
        claim_version(contact, expected_version)
        for field, value in clean.items():
            setattr(contact, field, value)
        contact.save()
        _only_one_primary(contact)
        index_customers([contact.customer_id])
    return contact


def delete_contact(by: User, contact: Contact) -> None:
    """Remove a contact. Raises NotAllowed."""
    require(by, "customers.delete_contact")
    with audited(by):
        customer_id = contact.customer_id
        contact.delete()
        index_customers([customer_id])
