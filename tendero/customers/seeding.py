"""Bulk synthetic customers for benchmarks: `tendero seed --customers N`.

Fast rather than pretty. On PostgreSQL the rows go through COPY, on SQLite
through executemany, in batches inside one transaction (a failed run leaves
nothing behind). Customer ids are chosen here, continuing after the highest id
in use, so that emails, phones, assignments, level changes and tags can refer
to them without reading anything back; `external_id` is `seed-<id>`, unique
across runs. The rows keep the invariants the services enforce: one open
account-executive assignment per customer matching `Customer.account_executive`,
levels that moved one rung at a time, E.164 phones, valid emails.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, models, transaction

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.customers.demo import (
    ENGLISH_FIRST_NAMES,
    ENGLISH_SURNAMES,
    SPANISH_FIRST_NAMES,
    SPANISH_ORG_PREFIXES,
    SPANISH_STREETS,
    SPANISH_SURNAMES,
    Writer,
    _ascii,
    chilean_rut,
    spanish_cif,
    spanish_nif,
)
from tendero.customers.models import (
    AccountExecutiveAssignment,
    AcquisitionSource,
    Customer,
    CustomerEmail,
    CustomerPhone,
    LifecycleStage,
    RelationshipLevelChange,
    Tag,
)

SEED_SALES_USERS = tuple(f"seed.sales{n:02d}" for n in range(1, 9))
SEED_TAGS = ("pyme", "VIP", "leasing", "5G", "roaming", "empresa")
EXTERNAL_ID_PREFIX = "seed-"
DEFAULT_BATCH_SIZE = 50_000
# Every phone below is valid for any value of its digits (checked against
# phonenumbers' metadata in the tests), so no per-row validation is needed.
_COUNTRIES = (
    # country, language, currency, city, region, postal code, phone(id)
    ("ES", "es", "EUR", "Madrid", "Madrid", "28013", lambda n: f"+346{n % 10**8:08d}"),
    ("ES", "es", "EUR", "Sevilla", "Sevilla", "41001", lambda n: f"+346{(n * 7) % 10**8:08d}"),
    ("MX", "es", "MXN", "Ciudad de México", "CDMX", "06600", lambda n: f"+5255{n % 10**8:08d}"),
    ("CL", "es", "CLP", "Santiago", "Región Metropolitana", "7500000",
     lambda n: f"+5692{n % 10**7:07d}"),
    ("GB", "en", "GBP", "London", "Greater London", "SE1 9SG", lambda n: f"+4474{n % 10**8:08d}"),
    ("US", "en", "USD", "Austin", "TX", "78701", lambda n: f"+1415{2 + n % 8}{n // 8 % 10**6:06d}"),
)  # fmt: skip
_STAGES = (
    [LifecycleStage.ACTIVE.value] * 11
    + [LifecycleStage.PROSPECT.value] * 3
    + [LifecycleStage.AT_RISK.value] * 2
    + [LifecycleStage.LAPSED.value] * 2
    + [LifecycleStage.WON_BACK.value] * 2
)
_SOURCES = [s.value for s in AcquisitionSource]


@dataclass(frozen=True)
class SeedResult:
    customers: int
    rows: int
    seconds: float
    first_id: int
    last_id: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def customers_per_second(self) -> float:
        return self.customers / self.seconds if self.seconds else 0.0


def ensure_seed_sales_users() -> list[User]:
    """The sales reps seeded customers are assigned to, created (without a usable
    password) if missing."""
    group = Group.objects.get(name=roles.SALES)
    existing = set(
        User.objects.filter(username__in=SEED_SALES_USERS).values_list("username", flat=True)
    )
    for number, username in enumerate(SEED_SALES_USERS, start=1):
        if username not in existing:
            user = User.objects.create_user(
                username=username, first_name="Seed", last_name=f"Sales {number:02d}"
            )
            user.groups.add(group)
    return list(User.objects.filter(username__in=SEED_SALES_USERS).order_by("username"))


def seed_customers(
    count: int, batch_size: int = DEFAULT_BATCH_SIZE, stdout: Writer | None = None
) -> SeedResult:
    """Append `count` synthetic customers with their emails, phones, account-executive
    assignments, level changes and tags; everything or nothing.

    Raises ValueError for a count or batch size below 1.
    """
    if count < 1 or batch_size < 1:
        raise ValueError("count and batch_size must be at least 1")
    started = time.perf_counter()
    reps = [u.pk for u in ensure_seed_sales_users()]
    tag_ids = _ensure_tags()
    postgres = connection.vendor == "postgresql"
    writer: _Writer = _CopyWriter() if postgres else _ExecuteManyWriter()
    rows = 0
    with transaction.atomic():
        replication_role = _skip_foreign_key_triggers() if postgres else None
        first_id = _reserve_customer_ids(count) + 1
        generator = _Generator(first_id, reps, tag_ids, _timestamp_format(postgres))
        done = 0
        while done < count:
            size = min(batch_size, count - done)
            batch = generator.batch(first_id + done, size)
            for table, table_rows in batch.items():
                writer.write(table, table_rows)
                rows += len(table_rows)
            done += size
            if stdout is not None:
                elapsed = time.perf_counter() - started
                stdout.write(
                    f"{done:>12,} / {count:,} customers   {done / elapsed:>9,.0f} customers/s"
                    f"   {rows / elapsed:>10,.0f} rows/s\n"
                )
        if replication_role is not None:
            with connection.cursor() as cursor:
                # Inside a caller's transaction, the caller's later writes are checked again.
                cursor.execute(
                    "SELECT set_config('session_replication_role', %s, true)", [replication_role]
                )
    if postgres:
        with connection.cursor() as cursor:
            for model in (*_SEEDED_MODELS, Customer.tags.through):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    seconds = time.perf_counter() - started
    return SeedResult(count, rows, seconds, first_id, first_id + count - 1)


_SEEDED_MODELS: tuple[type[models.Model], ...] = (
    Customer,
    CustomerEmail,
    CustomerPhone,
    AccountExecutiveAssignment,
    RelationshipLevelChange,
)


def _ensure_tags() -> list[int]:
    existing = set(Tag.objects.filter(name__in=SEED_TAGS).values_list("name", flat=True))
    Tag.objects.bulk_create([Tag(name=name) for name in SEED_TAGS if name not in existing])
    return list(
        Tag.objects.filter(name__in=SEED_TAGS).order_by("name").values_list("pk", flat=True)
    )


def _skip_foreign_key_triggers() -> str | None:
    """Every row refers to rows that exist by construction, so checking each foreign key
    at commit only costs time (about a third of the run). A superuser can switch the
    checks off for this transaction, as pg_restore --disable-triggers does; others
    keep them. Returns the setting to restore, or None if nothing changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, current_setting('session_replication_role') "
            "FROM pg_roles WHERE rolname = current_user"
        )
        row = cursor.fetchone()
        if not row or not row[0]:
            return None
        cursor.execute("SET LOCAL session_replication_role = replica")
        return str(row[1])


def _reserve_customer_ids(count: int) -> int:
    """Lock the customer table against other writers and return the id after which
    `count` ids are ours (the sequence is moved past them)."""
    table = Customer._meta.db_table
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {quoted} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608
            base = int(cursor.fetchone()[0])
            # NULL until the sequence is first used.
            cursor.execute("SELECT pg_sequence_last_value(%s::regclass)", [sequence])
            base = max(base, int(cursor.fetchone()[0] or 0))
            cursor.execute("SELECT setval(%s, %s)", [sequence, base + count])
        else:
            # SQLite's AUTOINCREMENT never reuses ids: look at its counter too. The
            # IMMEDIATE transaction already keeps other writers out.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608
            base = int(cursor.fetchone()[0])
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
            if found:
                base = max(base, int(found[0]))
    return base


def _timestamp_format(postgres: bool) -> Callable[[datetime], str]:
    # Django keeps aware datetimes as naive UTC text on SQLite.
    if postgres:
        return lambda moment: moment.isoformat()
    return lambda moment: moment.replace(tzinfo=None).isoformat(" ")


class _Table:
    """A model's columns for bulk writes: the ones we provide, then every other
    concrete column with its default, so a field added later does not break seeding."""

    def __init__(self, model: type[models.Model], provided: Sequence[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        others = [f for name, f in fields.items() if name not in provided and not f.primary_key]
        self.name = model._meta.db_table
        self.columns = [str(fields[name].column) for name in provided]
        self.columns += [str(f.column) for f in others]
        self.defaults = tuple(_default(f) for f in others)


def _default(field: models.Field[Any, Any]) -> Any:
    value = field.get_default()
    if isinstance(value, datetime):
        return _timestamp_format(connection.vendor == "postgresql")(value)
    return field.get_db_prep_save(value, connection)


class _Generator:
    def __init__(
        self,
        first_id: int,
        reps: list[int],
        tag_ids: list[int],
        timestamp: Callable[[datetime], str],
    ) -> None:
        self.rng = random.Random(first_id)
        self.reps = reps
        self.tag_ids = tag_ids
        self.ts = timestamp
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.customer = _Table(
            Customer,
            (
                "id", "kind", "display_name", "preferred_name", "tax_id", "external_id",
                "street", "city", "region", "postal_code", "country", "language", "currency",
                "acquisition_source", "lifecycle_stage", "relationship_level",
                "account_executive_id", "version", "created_at", "updated_at",
            ),
        )  # fmt: skip
        self.email = _Table(CustomerEmail, ("customer_id", "address", "position"))
        self.phone = _Table(CustomerPhone, ("customer_id", "number", "position"))
        self.assignment = _Table(
            AccountExecutiveAssignment,
            ("customer_id", "user_id", "started_at", "ended_at", "assigned_by_id", "reason"),
        )
        self.change = _Table(
            RelationshipLevelChange,
            ("customer_id", "from_level", "to_level", "changed_at", "changed_by_id", "reason"),
        )
        self.tags = _Table(Customer.tags.through, ("customer_id", "tag_id"))
        self.spanish_people = [
            (first, last, _ascii(first), _ascii(last))
            for first in SPANISH_FIRST_NAMES
            for last in SPANISH_SURNAMES
        ]
        self.english_people = [
            (first, last, _ascii(first), _ascii(last))
            for first in ENGLISH_FIRST_NAMES
            for last in ENGLISH_SURNAMES
        ]

    def batch(self, first_id: int, size: int) -> dict[_Table, list[tuple[Any, ...]]]:
        rng = self.rng
        ts = self.ts
        customers, emails, phones, assignments, changes, tags = [], [], [], [], [], []
        c_extra, e_extra, p_extra = self.customer.defaults, self.email.defaults, self.phone.defaults
        a_extra, l_extra, t_extra = (
            self.assignment.defaults,
            self.change.defaults,
            self.tags.defaults,
        )
        for cid in range(first_id, first_id + size):
            country, language, currency, city, region, postal, phone = rng.choice(_COUNTRIES)
            spanish = language == "es"
            created = self.now - timedelta(seconds=rng.randrange(60, 8 * 365 * 86400))
            rep = self.reps[cid % len(self.reps)]
            if rng.random() < 0.2:
                kind = "organisation"
                surname = rng.choice(SPANISH_SURNAMES if spanish else ENGLISH_SURNAMES)
                name = (
                    f"{rng.choice(SPANISH_ORG_PREFIXES)} {surname} SL"
                    if spanish
                    else f"{surname} Trading Ltd"
                )
                email = f"info.{cid}@example.com"
                tax_id = spanish_cif("B", cid % 10**7) if country == "ES" else ""
            else:
                kind = "person"
                first, last, first_ascii, last_ascii = rng.choice(
                    self.spanish_people if spanish else self.english_people
                )
                name = f"{first} {last}"
                email = (
                    f"{first_ascii}.{last_ascii}.{cid}@example.{rng.choice(('com', 'net', 'org'))}"
                )
                if country == "ES":
                    tax_id = spanish_nif(10_000_000 + cid % 80_000_000)
                elif country == "CL":
                    tax_id = chilean_rut(5_000_000 + cid % 20_000_000)
                else:
                    tax_id = ""
            street = (
                f"{rng.choice(SPANISH_STREETS)}, {cid % 200 + 1}"
                if spanish
                else f"{cid % 200 + 1} High Street"
            )
            level = 2 if rng.random() < 0.2 else 1
            created_text = ts(created)
            customers.append(
                (
                    cid, kind, name, "", tax_id, f"{EXTERNAL_ID_PREFIX}{cid}", street, city,
                    region, postal, country, language, currency, rng.choice(_SOURCES),
                    rng.choice(_STAGES), level, rep, 1, created_text, created_text,
                    *c_extra,
                )
            )  # fmt: skip
            emails.append((cid, email, 0, *e_extra))
            phones.append((cid, phone(cid), 0, *p_extra))
            current_from = created
            if rng.random() < 0.2:
                # An earlier account executive, before the current one took over.
                current_from = created + (self.now - created) / 2
                previous = self.reps[(cid + 1) % len(self.reps)]
                assignments.append(
                    (cid, previous, created_text, ts(current_from), None, "New customer", *a_extra)
                )
            assignments.append(
                (cid, rep, ts(current_from), None, None, "Seeded portfolio", *a_extra)
            )
            if level == 2:
                changed = ts(created + (self.now - created) / 3)
                changes.append((cid, 1, 2, changed, rep, "Needs documented.", *l_extra))
            if rng.random() < 0.3:
                tags.append((cid, rng.choice(self.tag_ids), *t_extra))
        return {
            self.customer: customers,
            self.email: emails,
            self.phone: phones,
            self.assignment: assignments,
            self.change: changes,
            self.tags: tags,
        }


class _Writer:
    def write(self, table: _Table, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError


class _CopyWriter(_Writer):
    """PostgreSQL COPY: one round trip per table and batch; psycopg formats the rows
    in C (several times faster than joining strings in Python)."""

    def write(self, table: _Table, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


class _ExecuteManyWriter(_Writer):
    def write(self, table: _Table, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        placeholders = ", ".join(["%s"] * len(table.columns))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({placeholders})",  # noqa: S608
                rows,
            )
