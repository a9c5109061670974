"""What an import run carries from batch to batch, and the contact, fact and
purchase batches: each row validated with the services' rules, the good ones
written in one transaction, the bad ones recorded with their reasons."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.core.errors import InvalidData
from tendero.customers import services
from tendero.customers.import_cells import (
    boolean_cell,
    row_fields,
    translate_cell,
)
from tendero.customers.models import Contact, Customer, CustomerKind, ImportJob, ImportRowError
from tendero.knowledge.models import PersonalFact

logger = logging.getLogger(__name__)


# Running an import


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    processed: int = 0
    touched_customers: list[int] = field(default_factory=list)


class ImportRun:
    """State shared by the batches of one run."""

    def __init__(self, job: ImportJob, by: User, batch_size: int) -> None:
        self.job = job
        self.by = by
        self.batch_size = batch_size
        self.dry_run = job.dry_run
        self.columns = [job.mapping.get(h, "") for h in job.headers]
        self.headers = list(job.headers)
        self.seen_keys: set[str] = set()
        self.outcome = Outcome()
        self.now = timezone.now()
        self.pool: Executor | None = None

    def raw(self, cells: list[str]) -> dict[str, str]:
        raw = {}
        for index, cell in enumerate(cells):
            header = self.headers[index] if index < len(self.headers) else f"#{index + 1}"
            if cell.strip() or index < len(self.headers):
                # PostgreSQL's JSON cannot hold NUL characters.
                raw[header or f"#{index + 1}"] = cell.replace("\x00", "")
        return raw

    def row_error(self, number: int, cells: list[str], errors: Any) -> ImportRowError:
        return ImportRowError(
            job_id=self.job.pk,
            row_number=number,
            errors={k: [str(m).replace("\x00", "") for m in v] for k, v in errors.items()},
            values=self.raw(cells),
        )

    def reject(
        self, errors_out: list[ImportRowError], number: int, cells: list[str], errors: Any
    ) -> None:
        errors_out.append(self.row_error(number, cells, errors))
        self.outcome.rejected += 1


# Contacts


def _parsed_with_customers(
    run: ImportRun, batch: list[tuple[int, list[str]]]
) -> tuple[list[tuple[int, list[str], dict[str, Any]]], dict[str, Customer], dict[int, Customer]]:
    """The batch's rows as (number, cells, fields), and the customers they name that
    the importing user may see, by external id and by id."""
    parsed = [(number, cells, row_fields(run.columns, cells)) for number, cells in batch]
    return (parsed, *_customers_for([f for _n, _c, f in parsed], run.by))


def _with_customer(
    run: ImportRun,
    errors: list[ImportRowError],
    parsed: list[tuple[int, list[str], dict[str, Any]]],
    by_key: dict[str, Customer],
    by_id: dict[int, Customer],
) -> Iterator[tuple[int, list[str], dict[str, Any], Customer]]:
    """The rows whose customer the importing user may see, with it; the others are
    rejected ("No such customer.")."""
    for number, cells, fields in parsed:
        customer = _customer_of(fields, by_key, by_id)
        if customer is None:
            run.reject(errors, number, cells, _no_customer())
            continue
        yield number, cells, fields, customer


def _customers_for(
    fields_list: list[dict[str, Any]], by: User
) -> tuple[dict[str, Customer], dict[int, Customer]]:
    keys = {f["customer_external_id"] for f in fields_list if f.get("customer_external_id")}
    ids = {int(f["customer_id"]) for f in fields_list if str(f.get("customer_id", "")).isdigit()}
    visible = Customer.objects.visible_to(by)
    by_key = {c.external_id: c for c in visible.filter(external_id__in=keys)} if keys else {}
    by_id = {c.pk: c for c in visible.filter(pk__in=ids)} if ids else {}
    return by_key, by_id


def _customer_of(
    fields: dict[str, Any], by_key: dict[str, Customer], by_id: dict[int, Customer]
) -> Customer | None:
    if fields.get("customer_external_id"):
        return by_key.get(fields["customer_external_id"])
    raw = str(fields.get("customer_id", ""))
    return by_id.get(int(raw)) if raw.isdigit() else None


def _no_customer() -> dict[str, list[str]]:
    return {"customer": [_("No such customer.")]}


def contact_batch(
    run: ImportRun, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    parsed, by_key, by_id = _parsed_with_customers(run, batch)
    customer_ids = {c.pk for c in [*by_key.values(), *by_id.values()]}
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=customer_ids):
        contacts.setdefault(contact.customer_id, []).append(contact)
    touched: list[int] = []
    for number, cells, fields, customer in _with_customer(run, errors, parsed, by_key, by_id):
        if customer.kind != CustomerKind.ORGANISATION:
            run.reject(
                errors, number, cells, {"customer": [_("Only organisations have contacts.")]}
            )
            continue
        data = {k: v for k, v in fields.items() if k in services.CONTACT_FIELDS}
        if "is_primary" in data:
            data["is_primary"] = boolean_cell(data["is_primary"])
        try:
            clean = services.clean_contact(data, None, str(customer.country or ""))
        except InvalidData as exc:
            run.reject(errors, number, cells, exc.field_errors)
            continue
        current = _matching_contact(contacts.get(customer.pk, []), clean)
        if current is None:
            run.outcome.created += 1
            if not run.dry_run:
                contact = services.create_contact(run.by, customer, data)
                contacts.setdefault(customer.pk, []).append(contact)
                touched.append(customer.pk)
            else:
                contacts.setdefault(customer.pk, []).append(Contact(customer=customer, **clean))
            continue
        changes = {k: v for k, v in clean.items() if getattr(current, k) != v}
        if not changes:
            run.outcome.unchanged += 1
            continue
        run.outcome.updated += 1
        if not run.dry_run:
            services.update_contact(run.by, current, current.version, changes)
            touched.append(customer.pk)
    return touched


def _matching_contact(candidates: list[Contact], clean: dict[str, Any]) -> Contact | None:
    email = (clean.get("email") or "").lower()
    for contact in candidates:
        if email and contact.email.lower() == email:
            return contact
    if email:
        return None
    name = (clean.get("first_name", "").lower(), clean.get("last_name", "").lower())
    for contact in candidates:
        if (contact.first_name.lower(), contact.last_name.lower()) == name:
            return contact
    return None


# Personal facts


def fact_batch(
    run: ImportRun, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    from tendero.knowledge import services as knowledge  # written alongside; imported when needed

    parsed, by_key, by_id = _parsed_with_customers(run, batch)
    customer_ids = {c.pk for c in [*by_key.values(), *by_id.values()]}
    contacts: dict[tuple[int, str], Contact] = {}
    for existing in Contact.objects.filter(customer_id__in=customer_ids).exclude(email=""):
        contacts.setdefault((existing.customer_id, existing.email.lower()), existing)
    known: set[tuple[Any, ...]] = set()
    for fact in PersonalFact.objects.filter(customer_id__in=customer_ids, retired_at__isnull=True):
        known.add(_fact_key(fact.customer_id, fact.contact_id, fact.__dict__))
    touched: list[int] = []
    for number, cells, fields, customer in _with_customer(run, errors, parsed, by_key, by_id):
        contact: Contact | None = None
        if fields.get("contact_email"):
            contact = contacts.get((customer.pk, fields["contact_email"].lower()))
            if contact is None:
                run.reject(errors, number, cells, {"contact_email": [_("No such contact.")]})
                continue
        data: dict[str, Any] = {
            k: v for k, v in fields.items() if k in ("text", "related_name", "date")
        }
        data["kind"] = translate_cell("fact_kind", fields.get("kind", ""))
        if fields.get("relation"):
            data["relation"] = translate_cell("relation", fields["relation"])
        if "recurs_yearly" in fields:
            data["recurs_yearly"] = fields["recurs_yearly"]
        if contact is not None:
            data["contact_id"] = contact.pk
        try:
            clean = knowledge.clean_fact_data(data, customer, current=None)
        except InvalidData as exc:
            run.reject(errors, number, cells, exc.field_errors)
            continue
        key = _fact_key(customer.pk, contact.pk if contact else None, clean)
        if key in known:
            run.outcome.unchanged += 1
            continue
        known.add(key)
        run.outcome.created += 1
        if not run.dry_run:
            knowledge.record_fact(run.by, customer, data)
            touched.append(customer.pk)
    return touched


def _fact_key(
    customer_id: int, contact_id: int | None, values: Mapping[str, Any]
) -> tuple[Any, ...]:
    return (
        customer_id,
        contact_id,
        values.get("kind") or "",
        (values.get("text") or "").strip().lower(),
        (values.get("related_name") or "").strip().lower(),
        str(values.get("date") or ""),
    )


# Purchases

_PURCHASE_INPUT = (
    "occurred_at", "amount", "currency", "external_id", "description", "product", "quantity",
)  # fmt: skip


def _sheet_number(text: str) -> Any:
    """A spreadsheet's number cell comes as Python writes a float ("1.125": a decimal
    point, no grouping, no trailing zero), never "one thousand one hundred twenty-five"
    as the same text typed in a Spanish file would be: as a Decimal, which the ledger
    does not second-guess. Text Python would not write ("1.000", "1,5") was typed
    and is left for the ledger to read."""
    try:
        written_by_python = str(float(text)) == text
    except ValueError:
        return text
    return Decimal(text) if written_by_python else text


def purchase_batch(
    run: ImportRun, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    """Purchases of customers the importing user may see, idempotent by reference: one
    already recorded with the same customer, moment, amount and currency is unchanged;
    with different ones the row is rejected. The batch's good rows are written in one
    go (with their audit entries)."""
    # Debt (issue 11): an upward import, until imports/ runs the importer contracts
    # registers; imported here so that customers loads without contracts.
    from tendero.contracts import services as ledger
    from tendero.contracts.models import Purchase, PurchaseSource

    parsed, by_key, by_id = _parsed_with_customers(run, batch)
    from_sheet = run.job.file_format == "xlsx"
    cleaned: list[tuple[int, list[str], ledger.NewPurchase]] = []
    for number, cells, fields, customer in _with_customer(run, errors, parsed, by_key, by_id):
        data: dict[str, Any] = {k: fields[k] for k in _PURCHASE_INPUT if k in fields}
        data["source"] = PurchaseSource.IMPORT
        if from_sheet and "quantity" in data:
            data["quantity"] = _sheet_number(data["quantity"])
        try:
            values = ledger.clean_purchase_data(data, customer)
        except InvalidData as exc:
            run.reject(errors, number, cells, exc.field_errors)
            continue
        cleaned.append((number, cells, ledger.NewPurchase(customer, values)))
    references = {i.values.get("external_id", "") for _n, _c, i in cleaned} - {""}
    known = {p.external_id: p for p in Purchase.objects.filter(external_id__in=references)}
    new: list[ledger.NewPurchase] = []
    for number, cells, item in cleaned:
        reference = item.values.get("external_id", "")
        if reference and reference in run.seen_keys:
            run.reject(errors, number, cells, {"external_id": [
                _("“%(id)s” appears earlier in this file; only the first row is imported.")
                % {"id": reference}]})  # fmt: skip
            continue
        if reference:
            run.seen_keys.add(reference)
        if reference in known:
            if ledger.same_purchase(known[reference], item.customer.pk, item.values):
                run.outcome.unchanged += 1
            else:
                run.reject(errors, number, cells, {"external_id": [ledger.reference_taken()]})
            continue
        new.append(item)
        run.outcome.created += 1
    if new and not run.dry_run:
        ledger.write_purchases(run.by, new)
    # Purchases change nothing customers are searched by: no customer to re-index.
    return []
