"""Bulk synthetic customers for benchmarks: `tendero seed --customers N`.

Fast rather than pretty. On PostgreSQL the rows go through COPY, on SQLite
through executemany, in batches inside one transaction (a failed run leaves
nothing behind). Customer ids are chosen here, continuing after the highest id
in use, so that emails, phones, assignments, level changes, tags, interactions,
personal facts and search tokens can refer to them without reading anything
back; `external_id` is `seed-<id>`, unique across runs. The rows keep the
invariants the services enforce: one open account-executive assignment per
customer matching `Customer.account_executive`, levels that moved one rung at a
time, E.164 phones, valid emails, search tokens equal to what
`tendero.customers.search.tokens_for` gives, `name_key` filled in.

Interactions (20 per customer unless told otherwise) follow each customer's
rhythm (weekly to half-yearly) over the last three years, with the demo's mix of
scenes: the account executive's calls and visits, service, technical support,
billing, logistics and marketing contacts, and the customer's own voice (about
15% inbound feedback, complaints, ideas and suggestions). One customer in twenty
has none yet, one in twenty went quiet (last interaction several rhythms ago),
and the first customer of every block of 100,000 has a very long history
(LONG_HISTORY interactions) so that benchmarks can show that pages do not slow
down with history. Interactions are generated customer by customer straight into
the COPY stream: nothing is held in memory beyond one batch of customers.
Customers get the rhythm their history shows (`contact_rhythm_days`, learned),
their `last_interaction_at` and `next_contact_due`, computed as they are written.
"""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, models, transaction

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.customers.demo import Writer
from tendero.customers.demo_people import (
    ENGLISH_FIRST_NAMES,
    ENGLISH_SURNAMES,
    SPANISH_FIRST_NAMES,
    SPANISH_ORG_PREFIXES,
    SPANISH_STREETS,
    SPANISH_SURNAMES,
    ascii_slug,
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
    SearchToken,
    Tag,
)
from tendero.customers.search import email_tokens, name_key, tax_id_token, tokens_from
from tendero.customers.seeding_history import (
    LONG_HISTORY,
    History,
    Plan,
)
from tendero.customers.seeding_tables import (
    CopyWriter,
    ExecuteManyWriter,
    Table,
    TableWriter,
    date_format,
    timestamp_format,
)
from tendero.dialogue.demo import ensure_departments
from tendero.dialogue.models import Interaction
from tendero.knowledge.demo import ENGLISH_FAMILY_NAMES, INTERESTS, SPANISH_FAMILY_NAMES
from tendero.knowledge.models import FactKind, PersonalFact, RelationKind
from tendero.organization.models import Department

SEED_SALES_USERS = tuple(f"seed.sales{n:02d}" for n in range(1, 9))
# The colleagues who handle what is not the account executive's, by department.
SEED_STAFF = {
    "customer-service": (("seed.service01", roles.SERVICE), ("seed.service02", roles.SERVICE)),
    "technical-support": (("seed.support01", roles.SERVICE), ("seed.support02", roles.SERVICE)),
    "billing": (("seed.billing01", roles.SERVICE),),
    "marketing": (("seed.marketing01", roles.MARKETING),),
}
SEED_TAGS = ("pyme", "VIP", "leasing", "5G", "roaming", "empresa")
# The customers with a very long history carry this tag, so benchmarks find them.
LONG_HISTORY_TAG = "seed-long-history"
INTERACTIONS_PER_CUSTOMER = 20
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
# Country calling codes of the phones above, and whether national numbers start with 0.
_CALLING_CODES = {"ES": ("34", ""), "MX": ("52", ""), "CL": ("56", ""), "GB": ("44", "0"),
                  "US": ("1", "")}  # fmt: skip
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
    interactions: int = 0
    interaction_seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def customers_per_second(self) -> float:
        return self.customers / self.seconds if self.seconds else 0.0

    @property
    def interactions_per_second(self) -> float:
        """Interactions written per second of the time spent writing them."""
        return self.interactions / self.interaction_seconds if self.interaction_seconds else 0.0


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


def ensure_seed_staff() -> dict[str, list[int]]:
    """The departments (the demo's) and, for each department other than sales and
    logistics, the seeded colleagues who handle its interactions (created without a
    usable password if missing). Returns user ids by department code."""

    departments = ensure_departments()
    wanted = [
        (code, username, role) for code, people in SEED_STAFF.items() for username, role in people
    ]
    existing = {u.username: u for u in User.objects.filter(username__in=[w[1] for w in wanted])}
    groups = {g.name: g for g in Group.objects.filter(name__in={w[2] for w in wanted})}
    staff: dict[str, list[int]] = {}
    for code, username, role in wanted:
        user = existing.get(username)
        if user is None:
            user = User.objects.create_user(
                username=username,
                first_name="Seed",
                last_name=username.split(".")[1].capitalize(),
                department=departments[code],
            )
            user.groups.add(groups[role])
        staff.setdefault(code, []).append(user.pk)
    return staff


def seed_customers(
    count: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdout: Writer | None = None,
    interactions: int | None = None,
    facts: bool = True,
) -> SeedResult:
    """Append `count` synthetic customers with their emails, phones, account-executive
    assignments, level changes, tags, search tokens, `interactions` interactions
    (default INTERACTIONS_PER_CUSTOMER per customer; 0 for none) and, with `facts`,
    personal facts; everything or nothing.

    Raises ValueError for a count or batch size below 1 or a negative `interactions`.
    """
    if interactions is None:
        interactions = INTERACTIONS_PER_CUSTOMER * count
    if count < 1 or batch_size < 1 or interactions < 0:
        raise ValueError("count and batch_size must be at least 1, interactions at least 0")
    started = time.perf_counter()
    reps = [u.pk for u in ensure_seed_sales_users()]
    staff = ensure_seed_staff()
    departments = _department_ids()
    tag_ids, long_tag_id = _ensure_tags()
    postgres = connection.vendor == "postgresql"
    writer: TableWriter = CopyWriter() if postgres else ExecuteManyWriter()
    rows = 0
    interaction_seconds = 0.0
    with transaction.atomic():
        replication_role = _skip_foreign_key_triggers() if postgres else None
        first_id = _reserve_customer_ids(count) + 1
        generator = _Generator(
            first_id, reps, tag_ids, timestamp_format(postgres), long_tag_id, facts
        )
        history = History(
            first_id, count, interactions, reps, staff, departments, generator.now, generator.ts
        )
        rebuilt = (
            _drop_indexes_of_big_tables(
                {
                    Interaction: interactions,
                    SearchToken: 9 * count,
                    PersonalFact: 2 * count if facts else 0,
                }
            )
            if postgres
            else []
        )
        done = 0
        while done < count:
            size = min(batch_size, count - done)
            plans = history.plan_batch(first_id + done, size)
            batch = generator.batch(first_id + done, size, plans)
            for table, table_rows in batch.items():
                writer.write(table, table_rows)
                rows += len(table_rows)
            interactions_started = time.perf_counter()
            rows += writer.write(history.table, history.rows(plans, generator.first_names))
            interaction_seconds += time.perf_counter() - interactions_started
            done += size
            if stdout is not None:
                elapsed = time.perf_counter() - started
                stdout.write(
                    f"{done:>12,} / {count:,} customers   {done / elapsed:>9,.0f} customers/s"
                    f"   {history.written:>12,} interactions   {rows / elapsed:>10,.0f} rows/s\n"
                )
        if rebuilt:
            if stdout is not None:
                stdout.write(f"Building {len(rebuilt)} indexes…\n")
            _create_indexes(rebuilt)
        if replication_role is not None:
            with connection.cursor() as cursor:
                # Inside a caller's transaction, the caller's later writes are checked again.
                cursor.execute(
                    "SELECT set_config('session_replication_role', %s, true)", [replication_role]
                )
    if postgres:
        # Fresh statistics, so that the planner uses the indexes on the new rows.
        with connection.cursor() as cursor:
            for model in (*_SEEDED_MODELS, Customer.tags.through):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    seconds = time.perf_counter() - started
    return SeedResult(
        count,
        rows,
        seconds,
        first_id,
        first_id + count - 1,
        history.written,
        interaction_seconds,
    )


_SEEDED_MODELS: tuple[type[models.Model], ...] = (
    Customer,
    CustomerEmail,
    CustomerPhone,
    AccountExecutiveAssignment,
    RelationshipLevelChange,
    SearchToken,
    PersonalFact,
    Interaction,
)


def _ensure_tags() -> tuple[list[int], int]:
    names = (*SEED_TAGS, LONG_HISTORY_TAG)
    existing = set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
    Tag.objects.bulk_create([Tag(name=name) for name in names if name not in existing])
    ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    return [ids[name] for name in sorted(SEED_TAGS)], ids[LONG_HISTORY_TAG]


def _department_ids() -> dict[str, int]:

    return dict(Department.objects.values_list("code", "pk"))


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


# Below this many new rows, keeping a table's indexes up to date row by row is cheaper
# than building them again.
REBUILD_INDEXES_FROM_ROWS = 200_000


def _drop_indexes_of_big_tables(adding: dict[type[models.Model], int]) -> list[str]:
    """PostgreSQL: for each table that is about to get at least REBUILD_INDEXES_FROM_ROWS
    new rows and more than it already has, drop its secondary indexes (not the primary
    key, not unique ones, not those backing a constraint): building an index once over
    sorted rows is several times faster than inserting 20,000,000 rows into ten indexes
    one by one. Returns the definitions to create again (before commit; a failed run
    rolls the drops back with everything else)."""
    definitions: list[str] = []
    with connection.cursor() as cursor:
        for model, rows in adding.items():
            if rows < REBUILD_INDEXES_FROM_ROWS:
                continue
            table = model._meta.db_table
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            existing = max(float(cursor.fetchone()[0]), 0.0)  # -1 when never analysed
            if existing >= rows:
                continue
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass "
                "AND NOT i.indisprimary AND NOT i.indisunique "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")  # a regclass name, quoted as needed
                definitions.append(str(definition))
    return definitions


def _create_indexes(definitions: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in definitions:
            cursor.execute(definition)


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


@functools.lru_cache(maxsize=65_536)
def _name_tokens(display_name: str) -> frozenset[str]:

    return frozenset(tokens_from(display_name=display_name))


@functools.lru_cache(maxsize=65_536)
def _name_key(display_name: str) -> str:

    return name_key(display_name)


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def _email_tokens(address: str) -> set[str]:
    """What search.email_tokens gives for a lower-case ASCII address, without the
    Unicode normalisation: the address, its local part and the local part's words."""
    local = address.rpartition("@")[0]
    return {address, local, *_ASCII_WORD.findall(local)}


def _phone_tokens(country: str, number: str) -> set[str]:
    """What search.phone_tokens gives for the seeded phones, without parsing them: the
    E.164 digits, the national significant number and the national dialling digits."""
    digits = number[1:]
    calling_code, trunk = _CALLING_CODES[country]
    national = digits[len(calling_code) :]
    return {digits, national, trunk + national}


class _Generator:
    def __init__(
        self,
        first_id: int,
        reps: list[int],
        tag_ids: list[int],
        timestamp: Callable[[datetime], Any],
        long_tag_id: int,
        facts: bool,
    ) -> None:

        self.email_tokens = email_tokens
        self.tax_id_token = tax_id_token
        self.rng = random.Random(first_id)
        self.reps = reps
        self.tag_ids = tag_ids
        self.long_tag_id = long_tag_id
        self.with_facts = facts
        self.ts = timestamp
        self.day = date_format(connection.vendor == "postgresql")
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.first_names: dict[int, str] = {}
        self.interests = INTERESTS
        self.family_names = {"es": SPANISH_FAMILY_NAMES, "en": ENGLISH_FAMILY_NAMES}
        self.customer = Table(
            Customer,
            (
                "id", "kind", "display_name", "preferred_name", "tax_id", "external_id",
                "street", "city", "region", "postal_code", "country", "language", "currency",
                "acquisition_source", "lifecycle_stage", "relationship_level",
                "account_executive_id", "version", "created_at", "updated_at", "name_key",
                "contact_rhythm_days", "contact_rhythm_learned", "last_interaction_at",
                "next_contact_due",
            ),
        )  # fmt: skip
        self.email = Table(CustomerEmail, ("customer_id", "address", "position"))
        self.phone = Table(CustomerPhone, ("customer_id", "number", "position"))
        self.assignment = Table(
            AccountExecutiveAssignment,
            ("customer_id", "user_id", "started_at", "ended_at", "assigned_by_id", "reason"),
        )
        self.change = Table(
            RelationshipLevelChange,
            ("customer_id", "from_level", "to_level", "changed_at", "changed_by_id", "reason"),
        )
        self.tags = Table(Customer.tags.through, ("customer_id", "tag_id"))
        self.token = Table(SearchToken, ("customer_id", "token"))
        self.fact = Table(
            PersonalFact,
            (
                "customer_id", "kind", "text", "relation", "related_name", "date",
                "recurs_yearly", "month_day", "learned_by_id", "learned_at", "created_at",
                "updated_at",
            ),
        )  # fmt: skip
        self.spanish_people = [
            (first, last, ascii_slug(first), ascii_slug(last))
            for first in SPANISH_FIRST_NAMES
            for last in SPANISH_SURNAMES
        ]
        self.english_people = [
            (first, last, ascii_slug(first), ascii_slug(last))
            for first in ENGLISH_FIRST_NAMES
            for last in ENGLISH_SURNAMES
        ]

    def batch(
        self, first_id: int, size: int, plans: list[Plan]
    ) -> dict[Table, list[tuple[Any, ...]]]:
        rng = self.rng
        ts = self.ts
        customers, emails, phones, assignments, changes, tags = [], [], [], [], [], []
        tokens: list[tuple[Any, ...]] = []
        facts: list[tuple[Any, ...]] = []
        c_extra, e_extra, p_extra = self.customer.defaults, self.email.defaults, self.phone.defaults
        a_extra, l_extra, t_extra = (
            self.assignment.defaults,
            self.change.defaults,
            self.tags.defaults,
        )
        k_extra, f_extra = self.token.defaults, self.fact.defaults
        self.first_names = {}
        for cid, plan in zip(range(first_id, first_id + size), plans, strict=True):
            country, language, currency, city, region, postal, phone = rng.choice(_COUNTRIES)
            spanish = language == "es"
            created = datetime.fromtimestamp(plan.created, UTC).replace(microsecond=0)
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
                first = ""
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
            plan.organisation = kind == "organisation"
            plan.language = language
            self.first_names[cid] = first or name
            street = (
                f"{rng.choice(SPANISH_STREETS)}, {cid % 200 + 1}"
                if spanish
                else f"{cid % 200 + 1} High Street"
            )
            level = 2 if rng.random() < 0.2 else 1
            created_text = ts(created)
            phone_number = phone(cid)
            last_interaction = datetime.fromtimestamp(plan.end, UTC) if plan.count else None
            next_due = (
                self.day(last_interaction.date() + timedelta(days=plan.rhythm_days))
                if last_interaction is not None and plan.rhythm_days
                else None
            )
            customers.append(
                (
                    cid, kind, name, "", tax_id, f"{EXTERNAL_ID_PREFIX}{cid}", street, city,
                    region, postal, country, language, currency, rng.choice(_SOURCES),
                    rng.choice(_STAGES), level, rep, 1, created_text, created_text,
                    _name_key(name), plan.rhythm_days, plan.rhythm_days is not None,
                    ts(last_interaction) if last_interaction else None, next_due, *c_extra,
                )
            )  # fmt: skip
            emails.append((cid, email, 0, *e_extra))
            phones.append((cid, phone_number, 0, *p_extra))
            found = set(_name_tokens(name))
            found |= _email_tokens(email) if email.isascii() else self.email_tokens(email)
            found |= _phone_tokens(country, phone_number)
            if tax_id:
                found.add(self.tax_id_token(tax_id))
            tokens += [(cid, token, *k_extra) for token in found]
            current_from = created
            plan.rep = rep
            plan.rep_since = plan.created
            if rng.random() < 0.2:
                # An earlier account executive, before the current one took over.
                current_from = created + (self.now - created) / 2
                previous = self.reps[(cid + 1) % len(self.reps)]
                plan.previous_rep = previous
                plan.rep_since = current_from.timestamp()
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
            if plan.count >= LONG_HISTORY:
                tags.append((cid, self.long_tag_id, *t_extra))
            if self.with_facts and kind == "person":
                facts += self._facts(cid, language, rep, created, f_extra)
        return {
            self.customer: customers,
            self.email: emails,
            self.phone: phones,
            self.assignment: assignments,
            self.change: changes,
            self.tags: tags,
            self.token: tokens,
            self.fact: facts,
        }

    def _facts(
        self, cid: int, language: str, rep: int, created: datetime, extra: tuple[Any, ...]
    ) -> list[tuple[Any, ...]]:
        """An interest for most people, a birthday for many, a family member for some."""
        rng = self.rng
        learned = self.ts(created + (self.now - created) * rng.random())
        rows = []
        if rng.random() < 0.8:
            text = rng.choice(self.interests[language])
            rows.append(
                (cid, FactKind.INTEREST.value, text, "", "", None, False, None, rep, learned,
                 learned, learned, *extra)
            )  # fmt: skip
        if rng.random() < 0.6:
            day = date(1950 + rng.randrange(55), rng.randrange(1, 13), rng.randrange(1, 29))
            label = "Cumpleaños" if language == "es" else "Birthday"
            rows.append(
                (cid, FactKind.IMPORTANT_DATE.value, label, "", "", self.day(day), True,
                 day.month * 100 + day.day, rep, learned, learned, learned, *extra)
            )  # fmt: skip
        if rng.random() < 0.3:
            relation = rng.choice((RelationKind.SPOUSE.value, RelationKind.CHILD.value))
            rows.append(
                (cid, FactKind.FAMILY_MEMBER.value, "", relation,
                 rng.choice(self.family_names[language]), None, False, None, rep, learned,
                 learned, learned, *extra)
            )  # fmt: skip
        return rows
