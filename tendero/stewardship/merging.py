"""Merging a duplicate customer into the one that survives it.

Everything that points at the duplicate is moved to the survivor, generically:
every foreign key to Customer, from any app (interactions, facts, contacts, level
changes, account-executive periods, and whatever later apps add) is re-pointed with
one UPDATE per relation, so a merge costs the same number of queries whether the
duplicate had three interactions or three thousand. The few relations with
uniqueness get their own rule (emails, phones, tags, search tokens, duplicate
pairs, the one current account executive); rows of other relations that would
break a unique constraint stay with the duplicate, are recorded in the merge's
snapshot and go with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Exists, ForeignObjectRel, OuterRef, Q
from django.db.models.fields.related import ForeignKey
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.audit.models import AuditEntry
from tendero.core.errors import InvalidData, NotAllowed
from tendero.core.services import FieldErrors, audited, claim_version, require
from tendero.customers import search
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
    SearchToken,
)
from tendero.customers.services import save_customer
from tendero.stewardship.models import CustomerMerge, DuplicatePair

SURVIVOR = "survivor"
DUPLICATE = "duplicate"
# The customer fields a person may take from the duplicate. The relationship level
# is not among them: it only moves through its own ladder, one rung at a time.
MergeableField = Literal[
    "display_name",
    "preferred_name",
    "tax_id",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "language",
    "currency",
    "acquisition_source",
    "lifecycle_stage",
]
MERGE_FIELDS: tuple[str, ...] = get_args(MergeableField)
# Relations with a rule of their own (see merge_customers).
_SPECIAL_RELATIONS = (
    CustomerEmail,
    CustomerPhone,
    SearchToken,
    DuplicatePair,
    Customer.tags.through,
)
_SNAPSHOT_FIELDS = [
    field.attname for field in Customer._meta.concrete_fields if field.name != "version"
]


def _clean_field_choices(field_choices: Mapping[str, str] | None) -> dict[str, str]:
    errors = FieldErrors()
    if field_choices is None:
        return {}
    if not isinstance(field_choices, Mapping):
        errors.add("field_choices", _("Must be an object of field names."))
        errors.raise_if_any()
    clean: dict[str, str] = {}
    for name, side in field_choices.items():
        if name not in MERGE_FIELDS:
            errors.add(f"field_choices.{name}", _("This field cannot be chosen in a merge."))
        elif side not in (SURVIVOR, DUPLICATE):
            errors.add(f"field_choices.{name}", _("Choose “survivor” or “duplicate”."))
        else:
            clean[name] = side
    errors.raise_if_any()
    return clean


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _snapshot(customer: Customer) -> dict[str, Any]:
    """The duplicate as it was: its own fields, emails, phones and tags."""
    fields = {name: getattr(customer, name) for name in _SNAPSHOT_FIELDS}
    fields["country"] = str(customer.country or "")
    return _as_json(
        {
            "fields": fields,
            "emails": list(customer.emails.values_list("address", flat=True)),
            "phones": list(customer.phones.values_list("number", flat=True)),
            "tags": list(customer.tags.values_list("name", flat=True)),
        }
    )


def _customer_relations() -> list[ForeignKey[Any, Any]]:
    """Every foreign key to Customer from any model, hidden ones included (related
    name "+", the through tables of many-to-many fields)."""
    relations = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or not (rel.one_to_many or rel.one_to_one):
            continue
        fk = rel.field
        if isinstance(fk, ForeignKey) and fk.model not in _SPECIAL_RELATIONS:
            relations.append(fk)
    return relations


def _unique_sets(fk: ForeignKey[Any, Any]) -> list[tuple[list[str], Q | None]]:
    """The unique constraints of `fk`'s model that include `fk`: the other fields
    and the constraint's condition."""
    model = fk.model
    sets: list[tuple[list[str], Q | None]] = []
    if fk.unique:
        sets.append(([], None))
    for together in model._meta.unique_together:
        if fk.name in together:
            sets.append(([name for name in together if name != fk.name], None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and fk.name in constraint.fields:
            others = [name for name in constraint.fields if name != fk.name]
            sets.append((others, constraint.condition))
    return sets


def _move_relation(
    fk: ForeignKey[Any, Any], survivor: Customer, duplicate: Customer, left_behind: list[Any]
) -> int:
    """Re-point `fk` from the duplicate to the survivor in one UPDATE; rows that
    would break a unique constraint stay behind (serialised into `left_behind`)."""
    manager = fk.model._base_manager
    rows = manager.filter(**{fk.attname: duplicate.pk})
    for others, condition in _unique_sets(fk):
        taken = manager.filter(**{fk.attname: survivor.pk}, **{o: OuterRef(o) for o in others})
        clashing = rows.filter(Exists(taken))
        if condition is not None:
            clashing = clashing.filter(condition).filter(
                Exists(taken.filter(condition))  # both rows must fall under it
            )
        clashing_ids = list(clashing.values_list("pk", flat=True))
        if clashing_ids:
            left_behind.extend(serializers.serialize("python", manager.filter(pk__in=clashing_ids)))
            rows = rows.exclude(pk__in=clashing_ids)
    return rows.update(**{fk.attname: survivor.pk})


def _move_values(
    model: type[CustomerEmail] | type[CustomerPhone],
    value_field: str,
    survivor: Customer,
    duplicate: Customer,
) -> None:
    """The duplicate's emails or phones the survivor lacks move to it, after its own
    (the survivor's primary stays primary); the others go with the duplicate."""
    own: list[Any] = list(model.objects.filter(customer=survivor))
    known = {str(getattr(row, value_field)).lower() for row in own}
    position = max((row.position for row in own), default=-1) + 1
    for row in model.objects.filter(customer=duplicate):
        value = str(getattr(row, value_field)).lower()
        if value in known:
            continue
        known.add(value)
        row.customer = survivor
        row.position = position
        position += 1
        row.save(update_fields=["customer", "position"])


def _reindex(customer_ids: list[int]) -> None:
    search.index_customers(customer_ids)


def merge_customers(
    by: User,
    survivor: Customer,
    duplicate: Customer,
    *,
    survivor_version: int,
    duplicate_version: int,
    field_choices: Mapping[str, str] | None = None,
) -> CustomerMerge:
    """Merge `duplicate` into `survivor` in one transaction and delete the duplicate.

    Moves everything that pointed at the duplicate (interactions, facts, contacts,
    level changes, account-executive periods — the duplicate's current one ended —,
    merges, any other app's rows) to the survivor; adds the duplicate's emails and
    phones the survivor lacks and its tags; keeps the survivor's external id, or
    takes the duplicate's if it has none; takes the later last interaction; takes
    the duplicate's value of each field in `field_choices` set to "duplicate"; moves
    the duplicate's audit history to the survivor and records a CustomerMerge with a
    snapshot of the duplicate. Everything is in the audit trail with `by` as actor.

    Raises NotAllowed (no merge permission, or either customer out of the user's
    scope), InvalidData (merging a customer with itself, bad field choices),
    VersionConflict (either customer changed since the versions read). Nothing is
    written when it raises.
    """
    require(by, "customers.merge_customers")
    if survivor.pk == duplicate.pk:
        raise InvalidData(
            _("A customer cannot be merged with itself."),
            {"duplicate_id": [_("Choose another customer.")]},
        )
    if Customer.objects.visible_to(by).filter(pk__in=[survivor.pk, duplicate.pk]).count() != 2:
        raise NotAllowed(_("You do not have permission to do this."))
    choices = _clean_field_choices(field_choices)
    try:
        return _merge(by, survivor, duplicate, survivor_version, duplicate_version, choices)
    except Exception:
        # Everything was rolled back: bring the in-memory objects back in line with it.
        for customer in (survivor, duplicate):
            if customer.pk is not None and Customer.objects.filter(pk=customer.pk).exists():
                customer.refresh_from_db()
        raise


def _merge(
    by: User,
    survivor: Customer,
    duplicate: Customer,
    survivor_version: int,
    duplicate_version: int,
    choices: dict[str, str],
) -> CustomerMerge:
    now = timezone.now()
    duplicate_id = duplicate.pk
    with audited(by):
        # Claim in id order so two merges of the same customers cannot deadlock.
        claims = sorted(
            [(survivor, survivor_version), (duplicate, duplicate_version)], key=lambda c: c[0].pk
        )
        for customer, version in claims:
            claim_version(customer, version)
        snapshot = _snapshot(duplicate)

        for name, side in choices.items():
            if side == DUPLICATE:
                setattr(survivor, name, getattr(duplicate, name))
        if not survivor.external_id and duplicate.external_id:
            Customer.objects.filter(pk=duplicate_id).update(external_id="")
            survivor.external_id = duplicate.external_id
        if duplicate.last_interaction_at and (
            survivor.last_interaction_at is None
            or duplicate.last_interaction_at > survivor.last_interaction_at
        ):
            survivor.last_interaction_at = duplicate.last_interaction_at
            survivor.next_contact_due = duplicate.next_contact_due

        # Only one current account executive per customer: the duplicate's period
        # ends now (kept as history); a survivor without one takes the duplicate's.
        for current in AccountExecutiveAssignment.objects.filter(
            customer_id=duplicate_id, ended_at__isnull=True
        ):
            current.ended_at = now
            current.save(update_fields=["ended_at"])
        if survivor.account_executive_id is None and duplicate.account_executive_id is not None:
            survivor.account_executive_id = duplicate.account_executive_id
            AccountExecutiveAssignment.objects.create(
                customer=survivor,
                user_id=duplicate.account_executive_id,
                started_at=now,
                assigned_by=by,
                reason=(_("Merged with %(name)s") % {"name": duplicate.display_name})[:200],
            )
        save_customer(survivor)

        _move_values(CustomerEmail, "address", survivor, duplicate)
        _move_values(CustomerPhone, "number", survivor, duplicate)
        new_tags = list(duplicate.tags.exclude(customers=survivor))
        if new_tags:
            survivor.tags.add(*new_tags)
        # One primary contact: the survivor's, if it has one.
        if Contact.objects.filter(customer=survivor, is_primary=True).exists():
            for contact in Contact.objects.filter(customer_id=duplicate_id, is_primary=True):
                contact.is_primary = False
                contact.save(update_fields=["is_primary"])
        DuplicatePair.objects.filter(Q(first_id=duplicate_id) | Q(second_id=duplicate_id)).delete()
        SearchToken.objects.filter(customer_id=duplicate_id).delete()

        left_behind: list[Any] = []
        moved: dict[str, int] = {}
        for fk in _customer_relations():
            count = _move_relation(fk, survivor, duplicate, left_behind)
            if count:
                label = f"{fk.model._meta.label_lower}.{fk.name}"
                moved[label] = moved.get(label, 0) + count
        snapshot["moved"] = moved
        if left_behind:
            snapshot["left_behind"] = _as_json(left_behind)

        merge = CustomerMerge.objects.create(
            survivor=survivor,
            merged_customer_id=duplicate_id,
            merged_display_name=duplicate.display_name,
            snapshot=snapshot,
            merged_by=by,
            merged_at=now,
        )
        duplicate.delete()
        # The survivor's history shows everything: the duplicate's, its deletion included.
        AuditEntry.objects.filter(customer_id=duplicate_id).update(customer_id=survivor.pk)
        _reindex([survivor.pk])
    return merge
