"""The customer batches of an import: rows cleaned with the services' rules (in
worker processes for big files), matched by external id, and written with COPY on
PostgreSQL together with their emails, phones, tags, audit entries and search words."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.audit.bulk import AuditRow, copy_audit_entries
from tendero.audit.models import AuditEntry
from tendero.core.bulk import CopyText, insert_rows
from tendero.core.errors import InvalidData
from tendero.customers import services
from tendero.customers.import_batches import (
    ImportRun,
)
from tendero.customers.import_cells import (
    customer_input,
    row_fields,
)
from tendero.customers.import_files import (
    LIST_FIELDS,
)
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Customer,
    CustomerEmail,
    CustomerKind,
    CustomerPhone,
    ImportRowError,
    SearchToken,
    Tag,
)
from tendero.customers.search import name_key, tokens_from

logger = logging.getLogger(__name__)


# Customers


def customer_batch(
    run: ImportRun, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    return _finish_customers(run, _prepare_customers(run, batch), errors)


@dataclass
class _PreparedCustomers:
    """A batch of customer rows looked up and checked, being cleaned."""

    rejected: list[ImportRowError]
    todo: list[tuple[int, list[str], Customer | None]]
    results: Callable[[], list[_NewCustomer | _Rejected]]
    lists: dict[int, dict[str, list[str]]]
    known_tags: dict[str, int]
    may_add_tags: bool


def _prepare_customers(run: ImportRun, batch: list[tuple[int, list[str]]]) -> _PreparedCustomers:
    """Look the batch's customers up, make the checks that need no cleaning (in file
    order: they decide which row of a repeated key counts) and start cleaning the other
    rows (in worker processes for a large file)."""
    by = run.by
    parsed = [(number, cells, row_fields(run.columns, cells)) for number, cells in batch]
    keys = {f["external_id"] for _n, _c, f in parsed if f.get("external_id")}
    ids = set()
    for _n, _c, f in parsed:
        if f.get("id") and not f.get("external_id") and str(f["id"]).isdigit():
            ids.add(int(f["id"]))
    # Plain customers, and their emails, phones and tags as plain values (one query
    # each): prefetching would build a model object for every email, phone and tag.
    by_key = {c.external_id: c for c in _customers_by_key(keys)}
    by_id = {c.pk: c for c in Customer.objects.filter(pk__in=ids)} if ids else {}
    lists = _current_lists([c.pk for c in [*by_key.values(), *by_id.values()]])
    see_all = by.has_perm("customers.view_all_customers")
    visible_ids: set[int] = set()
    if not see_all:
        candidates = [c.pk for c in [*by_key.values(), *by_id.values()]]
        visible_ids = set(
            Customer.objects.visible_to(by).filter(pk__in=candidates).values_list("pk", flat=True)
        )
    tag_names = {name for _n, _c, f in parsed for name in f.get("tags", [])}

    rejected: list[ImportRowError] = []
    todo: list[tuple[int, list[str], Customer | None]] = []
    inputs: list[tuple[dict[str, Any], Customer | None]] = []
    for number, cells, fields in parsed:
        key = fields.get("external_id", "")
        current: Customer | None = None
        if key:
            if key in run.seen_keys:
                rejected.append(run.row_error(number, cells, {"external_id": [
                    _("“%(id)s” appears earlier in this file; only the first row is imported.")
                    % {"id": key}]}))  # fmt: skip
                continue
            run.seen_keys.add(key)
            current = by_key.get(key)
        elif fields.get("id"):
            raw_id = str(fields["id"])
            current = by_id.get(int(raw_id)) if raw_id.isdigit() else None
            if current is None or raw_id in run.seen_keys:
                rejected.append(run.row_error(number, cells, {"id": [_("No such customer.")]}))
                continue
            run.seen_keys.add(raw_id)
        if current is not None and not see_all and current.pk not in visible_ids:
            # As any clash of keys, or an unknown id: nothing about whose customer it is.
            unusable = (
                {"external_id": [services.external_id_taken()]}
                if key
                else {"id": [_("No such customer.")]}
            )
            rejected.append(run.row_error(number, cells, unusable))
            continue
        todo.append((number, cells, current))
        inputs.append((fields, current))
    return _PreparedCustomers(
        rejected,
        todo,
        _clean_all(run, inputs),
        lists,
        _known_tags(tag_names),
        by.has_perm("customers.add_tag"),
    )


def _finish_customers(
    run: ImportRun, prepared: _PreparedCustomers, errors: list[ImportRowError]
) -> list[int]:
    """Decide each row's outcome from its cleaned values, and write the batch."""
    known_tags = prepared.known_tags
    rejected = prepared.rejected
    new: list[_NewCustomer] = []
    changed: list[tuple[Customer, dict[str, Any], dict[str, tuple[Any, Any]]]] = []
    for (number, cells, current), result in zip(prepared.todo, prepared.results(), strict=True):
        if isinstance(result, _Rejected):
            rejected.append(run.row_error(number, cells, result.field_errors))
            continue
        clean = result.clean
        if not prepared.may_add_tags:
            unknown = [t for t in clean.get("tags", []) if t.lower() not in known_tags]
            if unknown:
                rejected.append(run.row_error(number, cells, {"tags": [
                    _("“%(name)s” does not exist.") % {"name": unknown[0]}]}))  # fmt: skip
                continue
        if current is None:
            new.append(result)
            continue
        differences = _customer_differences(current, clean, prepared.lists.get(current.pk))
        if differences:
            changed.append((current, clean, differences))
        else:
            run.outcome.unchanged += 1
    errors += sorted(rejected, key=lambda e: e.row_number)
    run.outcome.rejected += len(rejected)
    run.outcome.created += len(new)
    run.outcome.updated += len(changed)
    if run.dry_run or not (new or changed):
        return []
    return _write_customers(run, new, changed, known_tags)


def customers_ahead(
    run: ImportRun, rows: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[list[tuple[int, list[str]]], Callable[[list[ImportRowError]], list[int]]]]:
    """Batches of customer rows, each prepared (and its cleaning started) before the
    one before it is written: the worker processes clean while the database writes.

    Only when the rows are matched by external id alone: a row of the next batch can
    then not be about a customer the batch before writes (its key would have been
    seen), so looking it up before that batch is written finds what it would after.
    """
    batch = list(itertools.islice(rows, run.batch_size))
    prepared = _prepare_customers(run, batch) if batch else None
    while batch and prepared is not None:
        following = list(itertools.islice(rows, run.batch_size))
        prepared_next = _prepare_customers(run, following) if following else None
        yield batch, functools.partial(_finish_customers, run, prepared)
        batch, prepared = following, prepared_next


@dataclass
class _NewCustomer:
    """A row cleaned by the services' rules, with what a new customer needs besides."""

    clean: dict[str, Any]
    name_key: str = ""
    tokens: list[str] = field(default_factory=list)
    pk: int = 0


@dataclass
class _Rejected:
    field_errors: dict[str, list[str]]


# Rows a worker process cleans at a time, and the fewest rows worth a pool.
CLEAN_CHUNK = 1_000


def _clean_rows(
    inputs: list[tuple[dict[str, Any], Customer | None]],
) -> list[_NewCustomer | _Rejected]:
    """Turn each row's fields into service input and clean it with
    `services.clean_customer` (what creating or updating a customer runs); for a new
    customer, compute its name key and search tokens too. Pure: runs in worker
    processes as well as in this one."""
    results: list[_NewCustomer | _Rejected] = []
    for fields, current in inputs:
        data = customer_input(fields)
        if current is None:
            data.setdefault("kind", CustomerKind.PERSON)
        try:
            clean = services.clean_customer(data, current)
        except InvalidData as exc:
            results.append(_Rejected(exc.field_errors))
            continue
        result = _NewCustomer(clean)
        if current is None:
            result.name_key = name_key(clean.get("display_name", ""))
            result.tokens = sorted(
                tokens_from(
                    display_name=clean.get("display_name", ""),
                    preferred_name=clean.get("preferred_name", ""),
                    tax_id=clean.get("tax_id", ""),
                    emails=clean.get("emails", []),
                    phones=clean.get("phones", []),
                )
            )
        results.append(result)
    return results


def _clean_all(
    run: ImportRun, inputs: list[tuple[dict[str, Any], Customer | None]]
) -> Callable[[], list[_NewCustomer | _Rejected]]:
    """Start cleaning the rows; the function returned waits for and returns the results.

    With a pool, the rows of new customers are cleaned (and tokenised) in the worker
    processes; the rows of existing ones here, when the results are asked for: sending
    a customer to a worker costs about as much as cleaning its row.
    """
    fresh = [i for i, (_fields, current) in enumerate(inputs) if current is None]
    if run.pool is None or len(fresh) <= CLEAN_CHUNK:
        return functools.partial(_clean_rows, inputs)
    pool = run.pool
    futures = [
        pool.submit(_clean_rows, [inputs[i] for i in fresh[start : start + CLEAN_CHUNK]])
        for start in range(0, len(fresh), CLEAN_CHUNK)
    ]

    def results() -> list[_NewCustomer | _Rejected]:
        fresh_set = set(fresh)
        known = [row for i, row in enumerate(inputs) if i not in fresh_set]
        found: list[_NewCustomer | _Rejected | None] = [None] * len(inputs)
        for i, result in zip(
            [i for i in range(len(inputs)) if i not in fresh_set], _clean_rows(known), strict=True
        ):
            found[i] = result
        for i, result in zip(
            fresh, [r for future in futures for r in future.result()], strict=True
        ):
            found[i] = result
        return [result for result in found if result is not None]

    return results


def _known_tags(names: set[str]) -> dict[str, int]:
    """lower-case name -> tag id, for the tags that exist among `names`."""
    if not names:
        return {}
    lowered = {n.lower() for n in names}
    return {
        name.lower(): pk
        for pk, name in Tag.objects.annotate(lowered=Lower("name"))
        .filter(lowered__in=lowered)
        .values_list("pk", "name")
    }


def _customers_by_key(keys: set[str]) -> Iterable[Customer]:
    """The customers with these external ids. On PostgreSQL the keys go as one array
    (thousands of parameters cost more to send than to look up), and the condition on
    the empty key lets the partial unique index serve."""
    if not keys:
        return []
    if connection.vendor != "postgresql":
        return Customer.objects.filter(external_id__in=keys)
    table = connection.ops.quote_name(Customer._meta.db_table)
    # Identifiers from the models' meta, quoted; the values are parameters.
    sql = f"SELECT * FROM {table} WHERE external_id = ANY(%s) AND NOT external_id = ''"  # noqa: S608
    return Customer.objects.raw(sql, [sorted(keys)])


def _current_lists(customer_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    """customer id -> its emails and phones (in their order) and tag names (sorted)."""
    found: dict[int, dict[str, list[str]]] = {
        pk: {"emails": [], "phones": [], "tags": []} for pk in customer_ids
    }
    if not customer_ids:
        return found
    if connection.vendor == "postgresql":
        _current_lists_by_array(customer_ids, found)
        return found
    for model, name, column in (
        (CustomerEmail, "emails", "address"),
        (CustomerPhone, "phones", "number"),
    ):
        rows = (
            model.objects.filter(customer_id__in=customer_ids)
            .order_by("customer_id", "position", "id")
            .values_list("customer_id", column)
        )
        for customer_id, value in rows:
            found[customer_id][name].append(value)
    links = Customer.tags.through.objects.filter(customer_id__in=customer_ids)
    for customer_id, tag in links.values_list("customer_id", "tag__name"):
        found[customer_id]["tags"].append(tag)
    for lists in found.values():
        lists["tags"].sort()
    return found


def _current_lists_by_array(
    customer_ids: list[int], found: dict[int, dict[str, list[str]]]
) -> None:
    """_current_lists on PostgreSQL: the ids as one array parameter."""
    quote = connection.ops.quote_name
    through = Customer.tags.through._meta
    # Identifiers from the models' meta, quoted; the ids are one parameter.
    emails, phones = quote(CustomerEmail._meta.db_table), quote(CustomerPhone._meta.db_table)
    links, tags = quote(through.db_table), quote(Tag._meta.db_table)
    order = "WHERE customer_id = ANY(%s) ORDER BY customer_id, position, id"
    queries = [
        ("emails", f"SELECT customer_id, address FROM {emails} {order}"),  # noqa: S608
        ("phones", f"SELECT customer_id, number FROM {phones} {order}"),  # noqa: S608
        (
            "tags",
            f"SELECT link.customer_id, tag.name FROM {links} link "  # noqa: S608
            f"JOIN {tags} tag ON tag.id = link.tag_id WHERE link.customer_id = ANY(%s)",
        ),
    ]
    with connection.cursor() as cursor:
        for name, sql in queries:
            cursor.execute(sql, [customer_ids])
            for customer_id, value in cursor.fetchall():
                found[customer_id][name].append(value)
    for lists in found.values():
        lists["tags"].sort()


def _customer_differences(
    customer: Customer, clean: dict[str, Any], lists: dict[str, list[str]] | None = None
) -> dict[str, tuple[Any, Any]]:
    if lists is None:
        lists = _current_lists([customer.pk])[customer.pk]
    differences: dict[str, tuple[Any, Any]] = {}
    for name, value in clean.items():
        if name in ("emails", "phones"):
            if value != lists[name]:
                differences[name] = (lists[name], value)
        elif name == "tags":
            if {v.lower() for v in value} != {t.lower() for t in lists["tags"]}:
                differences[name] = (lists["tags"], sorted(value))
        else:
            before = getattr(customer, name)
            before = str(before or "") if name == "country" else before
            if before != value:
                differences[name] = (before, value)
    return differences


def _text(value: Any) -> str:
    if type(value) is str:  # most values: the same as below, sooner
        return value or "None"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "None" if value in (None, "") else str(value)


def _write_customers(
    run: ImportRun,
    new: list[_NewCustomer],
    changed: list[tuple[Customer, dict[str, Any], dict[str, tuple[Any, Any]]]],
    known_tags: dict[str, int],
) -> list[int]:
    """Write one batch: a fixed number of queries, however many rows."""
    by, now = run.by, run.now
    wanted_tags = {t for n in new for t in n.clean.get("tags", [])} | {
        t for _c, clean, d in changed if "tags" in d for t in clean["tags"]
    }
    missing = {t.lower(): t for t in wanted_tags if t.lower() not in known_tags}
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing.values()], ignore_conflicts=True)
        known_tags = {**known_tags, **_known_tags(set(missing.values()))}
    executive = None if by.has_perm("customers.view_all_customers") else by
    _insert_customers(new, executive, now)
    emails: list[tuple[int, str, int]] = []
    phones: list[tuple[int, str, int]] = []
    tag_links: list[tuple[int, int]] = []
    through = Customer.tags.through
    for row in new:
        emails += [(row.pk, a, i) for i, a in enumerate(row.clean.get("emails", []))]
        phones += [(row.pk, n, i) for i, n in enumerate(row.clean.get("phones", []))]
        tag_links += [(row.pk, known_tags[t.lower()]) for t in row.clean.get("tags", [])]
    update_fields: set[str] = set()
    replaced: dict[str, list[int]] = {"emails": [], "phones": [], "tags": []}
    for customer, clean, differences in changed:
        for name in differences:
            if name in LIST_FIELDS:
                replaced[name].append(customer.pk)
            else:
                setattr(customer, name, clean[name])
                update_fields.add(name)
                if name == "display_name":
                    customer.name_key = name_key(customer.display_name)
                    update_fields.add("name_key")
        customer.version += 1
        customer.updated_at = now
        if "emails" in differences:
            emails += [(customer.pk, a, i) for i, a in enumerate(clean["emails"])]
        if "phones" in differences:
            phones += [(customer.pk, n, i) for i, n in enumerate(clean["phones"])]
        if "tags" in differences:
            tag_links += [(customer.pk, known_tags[t.lower()]) for t in clean["tags"]]
    if changed:
        Customer.objects.bulk_update(
            [c for c, _clean, _d in changed], [*sorted(update_fields), "version", "updated_at"]
        )
    # Raw deletes: the audit entries below record these changes once per customer
    # rather than once per email (and signals would cost a query per row).
    for model, name in ((CustomerEmail, "emails"), (CustomerPhone, "phones"), (through, "tags")):
        if replaced[name]:
            doomed = model.objects.filter(customer_id__in=replaced[name])
            doomed._raw_delete(doomed.db)
    insert_rows(CustomerEmail, ["customer_id", "address", "position"], emails)
    insert_rows(CustomerPhone, ["customer_id", "number", "position"], phones)
    insert_rows(through, ["customer_id", "tag_id"], tag_links)
    if executive is not None:
        AccountExecutiveAssignment.objects.bulk_create(
            [
                AccountExecutiveAssignment(
                    customer_id=row.pk,
                    user=executive,
                    started_at=now,
                    assigned_by=by,
                    reason=_("Imported"),
                )
                for row in new
            ]
        )
    entries = []
    for row in new:
        changes = {name: ["None", _text(value)] for name, value in row.clean.items() if value}
        entries.append(
            (row.pk, row.clean.get("display_name", ""), AuditEntry.Action.CREATE, changes)
        )
    for customer, _clean, differences in changed:
        changes = {name: [_text(b), _text(a)] for name, (b, a) in differences.items()}
        entries.append((customer.pk, str(customer), AuditEntry.Action.UPDATE, changes))
    _insert_audit_entries(entries, run)
    # New customers are indexed for search here, in the batch's transaction (they have
    # no tokens and no contacts yet); changed ones are re-indexed after the batch.
    insert_rows(
        SearchToken,
        ["customer_id", "token"],
        [(row.pk, token) for row in new for token in row.tokens],
    )
    return [c.pk for c, _clean, _d in changed]


def _insert_customers(new: list[_NewCustomer], executive: User | None, now: datetime) -> None:
    """Insert the new customers and set their ids. On PostgreSQL: ids from the table's
    sequence in one query, then COPY of plain rows: every column as a new Customer()
    would have it, with the cleaned values, name key, executive and times set."""
    if not new:
        return
    if connection.vendor != "postgresql":
        customers = []
        for row in new:
            customer = Customer(**{k: v for k, v in row.clean.items() if k not in LIST_FIELDS})
            customer.account_executive = executive
            customer.created_at = customer.updated_at = now
            # Set here so that indexing for search finds nothing more to write on the row.
            customer.name_key = row.name_key
            customers.append(customer)
        Customer.objects.bulk_create(customers)
        for row, customer in zip(new, customers, strict=True):
            row.pk = customer.pk
        return
    template = Customer(account_executive=executive, created_at=now, updated_at=now)
    fields = list(Customer._meta.concrete_fields)
    real = connections[DEFAULT_DB_ALIAS]
    defaults = [f.get_db_prep_save(getattr(template, f.attname), real) for f in fields]
    position = {f.attname: i for i, f in enumerate(fields)}
    prepare = {f.attname: f.get_db_prep_save for f in fields}
    pk_at, name_key_at = position["id"], position["name_key"]
    quote = connection.ops.quote_name
    table = Customer._meta.db_table
    names = ", ".join(quote(f.column or f.attname) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, Customer._meta.pk.column, len(new)],
        )
        for row, (pk,) in zip(new, cursor.fetchall(), strict=True):
            row.pk = pk
        text = CopyText(cursor.cursor)
        common = [text(value) for value in defaults]
        lines = []
        for row in new:
            values = list(common)
            values[pk_at] = str(row.pk)
            values[name_key_at] = text(row.name_key)
            for name, value in row.clean.items():
                if name not in LIST_FIELDS:
                    # Cleaned values are text, which CharField's preparation returns as
                    # it is; anything else goes through the field.
                    values[position[name]] = text(
                        value if type(value) is str else prepare[name](value, real)
                    )
            lines.append("\t".join(values))
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            copy.write("\n".join(lines) + "\n")


def _insert_audit_entries(
    entries: list[tuple[int, str, int, dict[str, Any]]], run: ImportRun
) -> None:
    """One AuditEntry per (customer id, its name, action, changes)."""
    if not entries:
        return
    content_type = ContentType.objects.get_for_model(Customer)
    template = _audit_entry(content_type, 0, "", AuditEntry.Action.CREATE, {}, run)
    copy_audit_entries(
        template,
        (
            AuditRow(pk, pk, name, changes, {"customer_id": pk, "import_job": run.job.pk}, action)
            for pk, name, action, changes in entries
        ),
    )


def _audit_entry(
    content_type: ContentType,
    pk: int,
    name: str,
    action: int,
    changes: dict[str, Any],
    run: ImportRun,
) -> AuditEntry:
    return AuditEntry(
        content_type=content_type,
        object_pk=str(pk),
        object_id=pk,
        object_repr=name[:500],
        action=action,
        changes=changes,
        changes_text="",
        actor=run.by,
        actor_email=run.by.email or "",
        timestamp=run.now,
        additional_data={"customer_id": pk, "import_job": run.job.pk},
        customer_id=pk,
    )
