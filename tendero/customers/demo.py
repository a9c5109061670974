"""Demo data: Tendero Telecom, a telecom provider that sells mobile lines with options
to people and small businesses and leases equipment to businesses.

`create_demo_data()` writes one user per role and about 2,000 customers in one
transaction with bulk inserts (seconds on SQLite). It does not go through the
per-object services, so it builds the same invariants they enforce by hand:
at most one open account-executive assignment per customer and
`Customer.account_executive` equal to it, relationship levels that move one rung
at a time with the customer's level equal to the last change, E.164 phones and
valid emails. Everything comes from a fixed random seed, so two runs on the same
day produce the same data.

Then the customers' lives, from the demo steps each app registers
(`tendero.core.registry.register_demo_step`): three years of interactions with
rhythms, departments and relationships going quiet (dialogue), personal knowledge
and a few duplicates, the search index and duplicate detection (customers),
purchases (contracts) and lifetime value (insights). Loading the whole demo takes
about 20 s of CPU.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.core import registry
from tendero.customers import services
from tendero.customers.demo_people import (
    ALL_TAGS,
    DEMOTION_REASONS,
    ENGLISH_CONTACT_ROLES,
    ENGLISH_FIRST_NAMES,
    ENGLISH_ORG_NAMES,
    ENGLISH_STREETS,
    ENGLISH_SURNAMES,
    ENGLISH_TRADES,
    LEVEL_WEIGHTS,
    MARKETS,
    NEW_CUSTOMER_REASON,
    NICKNAMES,
    ORGANISATION_TAGS,
    PERSON_TAGS,
    PROMOTION_REASONS,
    REASSIGNMENT_REASONS,
    SOURCE_WEIGHTS,
    SPANISH_CONTACT_ROLES,
    SPANISH_FIRST_NAMES,
    SPANISH_ORG_PLACES,
    SPANISH_ORG_PREFIXES,
    SPANISH_STREETS,
    SPANISH_SURNAMES,
    STAGE_WEIGHTS,
    Market,
    ascii_slug,
    chilean_rut,
    mexican_rfc,
    spanish_cif,
    spanish_nif,
    weighted,
)
from tendero.customers.models import (
    AccountExecutiveAssignment,
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
from tendero.customers.validation import normalise_email, normalise_phone
from tendero.knowledge.demo import make_duplicates

COMPANY_NAME = "Tendero Telecom"
DEMO_CUSTOMERS = 2000
DEMO_SEED = 20_261_122
# Demo customers carry this external-id prefix: it is how a second run knows
# the demo data is already there.
EXTERNAL_ID_PREFIX = "demo-"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    first_name: str
    last_name: str
    language: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", roles.ADMINISTRATOR, "tendero-admin-demo", "Alba", "Ferrer", "es"),
    DemoUser("manager", roles.MANAGER, "tendero-manager-demo", "Marcos", "Quintana", "es"),
    DemoUser("ana.sales", roles.SALES, "tendero-ana-demo", "Ana", "Beltrán", "es"),
    DemoUser("bruno.sales", roles.SALES, "tendero-bruno-demo", "Bruno", "Castañeda", "es"),
    DemoUser("carmen.sales", roles.SALES, "tendero-carmen-demo", "Carmen", "Olmedo", "es"),
    DemoUser("david.sales", roles.SALES, "tendero-david-demo", "David", "O'Connor", "en"),
    DemoUser("sofia.service", roles.SERVICE, "tendero-sofia-demo", "Sofía", "Iglesias", "es"),
    DemoUser("mateo.marketing", roles.MARKETING, "tendero-mateo-demo", "Mateo", "Arrieta", "es"),
    DemoUser("rosa.readonly", roles.READ_ONLY, "tendero-rosa-demo", "Rosa", "Valdés", "es"),
)
# Account executives who have left the company: they appear in assignment
# histories (a stable account executive is a touchpoint) but cannot log in.
FORMER_SALES: tuple[tuple[str, str, str], ...] = (
    ("rafael.former", "Rafael", "Ortega"),
    ("emma.former", "Emma", "Clarke"),
)


class Writer(Protocol):
    """Where progress goes: a file, sys.stdout or a management command's stdout."""

    def write(self, msg: str, /) -> Any: ...


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, password) of every demo user; creates nothing."""
    return [(u.username, u.role, u.password) for u in DEMO_USERS]


def demo_data_exists() -> bool:
    return Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).exists()


def create_demo_data(
    stdout: Writer | None = None, customers: int = DEMO_CUSTOMERS
) -> list[tuple[str, str, str]]:
    """Create Tendero Telecom's users and `customers` customers, unless the demo data is
    already there (then nothing changes). Returns the demo logins.

    Raises LookupError if the role groups do not exist (migrations not run).
    """

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    if demo_data_exists():
        say(f"The {COMPANY_NAME} demo data is already there: nothing to do.")
        return demo_logins()
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLE_LABELS)}
    missing = set(roles.ROLE_LABELS) - groups.keys()
    if missing:
        raise LookupError(f"Role groups missing (run migrate first): {sorted(missing)}")
    with transaction.atomic():
        users = _create_users(groups, say)
        builder = _DemoBuilder(users, customers)
        counts = builder.build()
        counts["edits"] = _recent_edits(users)
        say(
            f"{COMPANY_NAME}: created {counts['customers']:,} customers "
            f"({counts['duplicates']} of them duplicates of others), {counts['contacts']:,} "
            f"contacts, {counts['assignments']:,} account-executive assignments and "
            f"{counts['level_changes']:,} relationship-level changes; "
            f"{counts['edits']} recent edits in the audit trail."
        )
        _life_of_the_customers(builder.customer_rows, users, builder.today, say)
    return demo_logins()


def _life_of_the_customers(
    customers: list[Customer], users: dict[str, User], today: datetime, say: Callable[[str], None]
) -> None:
    """The life of the demo customers (saved): each installed app's demo step, in
    order (interactions, personal knowledge, rhythms, the search index, duplicates,
    purchases, lifetime value...), each saying what it made."""
    demo = registry.DemoRun(customers=customers, users=users, today=today, say=say)
    for step in registry.demo_steps:
        step.run(demo)


def _recent_edits(users: dict[str, User]) -> int:
    """A few edits made the way people make them (through the services), so that the
    audit trail on customer pages has something to show: who changed what, before
    and after. Deterministic: the same customers get the same edits."""
    manager = users["manager"]
    service_agent = users["sofia.service"]
    demo = Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).order_by("pk")
    edits = 0
    for index, customer in enumerate(demo[:60:3]):
        editor = manager if index % 2 else service_agent
        if index % 2:
            stage = "at_risk" if customer.lifecycle_stage == "active" else "active"
            changes: dict[str, Any] = {"lifecycle_stage": stage}
        else:
            tags = [tag.name for tag in customer.tags.all()]
            changes = {"tags": [t for t in tags if t != "VIP"] if "VIP" in tags else [*tags, "VIP"]}
        services.update_customer(editor, customer, customer.version, changes)
        edits += 1
    return edits


def _create_users(groups: dict[str, Group], say: Callable[[str], None]) -> dict[str, User]:
    existing = {u.username: u for u in User.objects.filter(username__in=_all_usernames())}
    wanted = [u for u in DEMO_USERS if u.username not in existing]
    # PBKDF2 releases the GIL: hashing in threads halves the wait on two cores.
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = list(pool.map(make_password, [u.password for u in wanted]))
    created: list[User] = []
    for demo, password_hash in zip(wanted, hashes, strict=True):
        user = User(
            username=demo.username,
            first_name=demo.first_name,
            last_name=demo.last_name,
            email=f"{demo.username}@tendero-telecom.example",
            language=demo.language,
            is_staff=demo.role == roles.ADMINISTRATOR,
            is_superuser=demo.role == roles.ADMINISTRATOR,
            password=password_hash,
        )
        created.append(user)
    for username, first_name, last_name in FORMER_SALES:
        if username not in existing:
            former = User(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@tendero-telecom.example",
                is_active=False,
            )
            former.set_unusable_password()
            created.append(former)
    User.objects.bulk_create(created)
    for demo in DEMO_USERS:
        if demo.username in existing:
            say(f"User {demo.username} already exists: its password was left unchanged.")
    users = {u.username: u for u in User.objects.filter(username__in=_all_usernames())}
    role_of = {u.username: u.role for u in DEMO_USERS} | {u[0]: roles.SALES for u in FORMER_SALES}
    through = User.groups.through
    through.objects.bulk_create(
        [
            through(user_id=users[username].pk, group_id=groups[role].pk)
            for username, role in role_of.items()
        ],
        ignore_conflicts=True,
    )
    return users


def _all_usernames() -> list[str]:
    return [u.username for u in DEMO_USERS] + [u[0] for u in FORMER_SALES]


class _DemoBuilder:
    def __init__(self, users: dict[str, User], count: int) -> None:
        self.rng = random.Random(DEMO_SEED)
        self.count = count
        self.manager = users["manager"]
        self.reps = [users[u.username] for u in DEMO_USERS if u.role == roles.SALES]
        self.former = [users[username] for username, _first, _last in FORMER_SALES]
        # Dates are relative to today (midnight UTC): the demo always looks current.
        self.today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.used_emails: set[str] = set()
        self.used_org_names: set[str] = set()
        self.customer_rows: list[Customer] = []
        self.extras: list[dict[str, Any]] = []

    def build(self) -> dict[str, int]:
        for index in range(1, self.count + 1):
            self._customer(index)
        duplicates = make_duplicates(self.customer_rows, self.extras)
        Customer.objects.bulk_create(self.customer_rows, batch_size=500)
        tags = self._tags()
        emails, phones, contacts, assignments, changes, tag_links = [], [], [], [], [], []
        through = Customer.tags.through
        for customer, extra in zip(self.customer_rows, self.extras, strict=True):
            emails += [
                CustomerEmail(customer=customer, address=address, position=position)
                for position, address in enumerate(extra["emails"])
            ]
            phones += [
                CustomerPhone(customer=customer, number=number, position=position)
                for position, number in enumerate(extra["phones"])
            ]
            contacts += [Contact(customer=customer, **data) for data in extra["contacts"]]
            assignments += [
                AccountExecutiveAssignment(customer=customer, **data)
                for data in extra["assignments"]
            ]
            changes += [
                RelationshipLevelChange(customer=customer, **data) for data in extra["changes"]
            ]
            tag_links += [
                through(customer_id=customer.pk, tag_id=tags[name].pk) for name in extra["tags"]
            ]
        CustomerEmail.objects.bulk_create(emails, batch_size=500)
        CustomerPhone.objects.bulk_create(phones, batch_size=500)
        Contact.objects.bulk_create(contacts, batch_size=500)
        AccountExecutiveAssignment.objects.bulk_create(assignments, batch_size=500)
        RelationshipLevelChange.objects.bulk_create(changes, batch_size=500)
        through.objects.bulk_create(tag_links, batch_size=500)
        return {
            "customers": len(self.customer_rows),
            "contacts": len(contacts),
            "assignments": len(assignments),
            "level_changes": len(changes),
            "duplicates": duplicates,
        }

    def _tags(self) -> dict[str, Tag]:
        existing = {t.name: t for t in Tag.objects.filter(name__in=ALL_TAGS)}
        Tag.objects.bulk_create([Tag(name=name) for name in ALL_TAGS if name not in existing])
        return {t.name: t for t in Tag.objects.filter(name__in=ALL_TAGS)}

    # --- one customer ---

    def _customer(self, index: int) -> None:
        rng = self.rng
        market = weighted(rng, tuple((m, m.weight) for m in MARKETS))
        city = rng.choice(market.cities)
        is_org = rng.random() < 0.3
        stage = weighted(rng, STAGE_WEIGHTS)
        # Customers for up to seven years; prospects are recent.
        max_age = 120 if stage == LifecycleStage.PROSPECT else 7 * 365
        created_at = self.today - timedelta(days=rng.randrange(20, max_age))
        created_at += timedelta(minutes=rng.randrange(8 * 60, 19 * 60))  # business hours
        extra: dict[str, Any] = {"contacts": [], "tags": []}
        if is_org:
            name, domain, tax_id = self._organisation(market, created_at)
            preferred = ""
            extra["emails"] = [self._unique_email(rng.choice(("info", "hola", "admin")), domain)]
            extra["phones"] = [
                self._phone(city.phone_prefix, market.e164_length - len(city.phone_prefix))
            ]
            if rng.random() < 0.5:
                extra["phones"].append(self._mobile(market))
            extra["contacts"] = self._contacts(market, domain)
            extra["tags"] = ["empresa", *rng.sample(ORGANISATION_TAGS, rng.randrange(0, 3))]
        else:
            name, preferred, email_name, tax_id = self._person(market, created_at)
            extra["emails"] = [self._unique_email(email_name, rng.choice(market.email_domains))]
            if rng.random() < 0.15:
                extra["emails"].append(
                    self._unique_email(email_name, rng.choice(market.email_domains))
                )
            extra["phones"] = [self._mobile(market)]
            extra["tags"] = rng.sample(PERSON_TAGS, rng.choice((0, 0, 1, 1, 2)))
            if rng.random() < 0.05:
                extra["tags"].append("autónomo")
        number = rng.randrange(1, 200)
        street = (
            f"{rng.choice(SPANISH_STREETS)}, {number}"
            if market.language == "es"
            else f"{number} {rng.choice(ENGLISH_STREETS)}"
        )
        if market.language == "es" and not is_org and rng.random() < 0.6:
            street += f", {rng.randrange(1, 9)}º {rng.choice('ABCD')}"
        extra["assignments"], executive = self._assignments(market.language, created_at, stage)
        level, extra["changes"] = self._level_history(
            market.language, stage, created_at, extra["assignments"]
        )
        self.customer_rows.append(
            Customer(
                kind=CustomerKind.ORGANISATION if is_org else CustomerKind.PERSON,
                display_name=name,
                preferred_name=preferred,
                tax_id=tax_id,
                external_id=f"{EXTERNAL_ID_PREFIX}{index:05d}",
                street=street,
                city=city.name,
                region=city.region,
                postal_code=city.postal(rng),
                country=market.country,
                language=market.language,
                currency=market.currency,
                acquisition_source=weighted(rng, SOURCE_WEIGHTS),
                lifecycle_stage=stage,
                relationship_level=level,
                account_executive=executive,
                created_at=created_at,
                updated_at=max(
                    [created_at]
                    + [c["changed_at"] for c in extra["changes"]]
                    + [a["started_at"] for a in extra["assignments"]]
                ),
            )
        )
        self.extras.append(extra)

    def _person(self, market: Market, created_at: datetime) -> tuple[str, str, str, str]:
        rng = self.rng
        if market.language == "es":
            first = rng.choice(SPANISH_FIRST_NAMES)
            last1, last2 = rng.sample(SPANISH_SURNAMES, 2)
            name = f"{first} {last1} {last2}"
            email_name = rng.choice(
                (
                    f"{first}.{last1}",
                    f"{first[0]}{last1}",
                    f"{first}{last1[:3]}",
                    f"{first}.{last2}",
                )
            )
        else:
            first = rng.choice(ENGLISH_FIRST_NAMES)
            last1 = rng.choice(ENGLISH_SURNAMES)
            last2 = ""
            name = f"{first} {last1}"
            email_name = rng.choice((f"{first}.{last1}", f"{first[0]}{last1}", f"{first}{last1}"))
        preferred = NICKNAMES.get(first, "") if rng.random() < 0.6 else ""
        born = created_at - timedelta(days=rng.randrange(20 * 365, 70 * 365))
        tax_id = ""
        if market.country == "ES":
            tax_id = spanish_nif(rng.randrange(10_000_000, 80_000_000))
        elif market.country == "MX":
            letters = ascii_slug(last1).upper() + "XX"
            vowels = [c for c in letters[1:] if c in "AEIOU"] or ["X"]
            initials = letters[0] + vowels[0] + (ascii_slug(last2)[:1].upper() or "X")
            tax_id = mexican_rfc(rng, initials + ascii_slug(first)[:1].upper(), born)
        elif market.country == "CL":
            tax_id = chilean_rut(rng.randrange(6_000_000, 24_000_000))
        return name, preferred, email_name, tax_id

    def _organisation(self, market: Market, created_at: datetime) -> tuple[str, str, str]:
        rng = self.rng
        suffix = rng.choice(market.org_suffixes)
        while True:
            if market.language == "es":
                prefix = rng.choice(SPANISH_ORG_PREFIXES)
                core = (
                    f"{prefix} {rng.choice(SPANISH_SURNAMES)}"
                    if rng.random() < 0.6
                    else f"{prefix} {rng.choice(SPANISH_ORG_PLACES)}"
                )
                if rng.random() < 0.1:
                    core += " e Hijos"
            else:
                surname, surname2 = rng.sample(ENGLISH_SURNAMES, 2)
                core = rng.choice(ENGLISH_ORG_NAMES).format(
                    surname=surname, surname2=surname2, trade=rng.choice(ENGLISH_TRADES)
                )
            name = f"{core} {suffix}"
            if name not in self.used_org_names:
                self.used_org_names.add(name)
                break
        slug = ascii_slug(core.replace(" & ", "").replace(" ", ""))[:24]
        domain = f"{slug}{market.web_suffix}"
        founded = created_at - timedelta(days=rng.randrange(365, 30 * 365))
        tax_id = ""
        if market.country == "ES":
            tax_id = spanish_cif("A" if suffix == "SA" else "B", rng.randrange(10**6, 10**7))
        elif market.country == "MX":
            tax_id = mexican_rfc(rng, ascii_slug(core).upper()[:3].ljust(3, "X"), founded)
        elif market.country == "CL":
            tax_id = chilean_rut(rng.randrange(76_000_000, 77_999_999))
        elif market.country == "GB":
            tax_id = f"{rng.randrange(10**6, 10**8):08d}"  # Companies House number
        elif market.country == "US":
            tax_id = f"{rng.randrange(10, 99)}-{rng.randrange(10**6, 10**7)}"  # EIN
        return name, domain, tax_id

    def _contacts(self, market: Market, domain: str) -> list[dict[str, Any]]:
        rng = self.rng
        spanish = market.language == "es"
        roles_ = SPANISH_CONTACT_ROLES if spanish else ENGLISH_CONTACT_ROLES
        contacts = []
        for position, role in enumerate(rng.sample(roles_, rng.randrange(1, 5))):
            first = rng.choice(SPANISH_FIRST_NAMES if spanish else ENGLISH_FIRST_NAMES)
            last = rng.choice(SPANISH_SURNAMES if spanish else ENGLISH_SURNAMES)
            contacts.append(
                {
                    "first_name": first,
                    "last_name": last,
                    "preferred_name": NICKNAMES.get(first, "") if rng.random() < 0.5 else "",
                    "role": role,
                    "email": self._unique_email(f"{first}.{last}", domain),
                    "phone": self._mobile(market),
                    "is_primary": position == 0,
                }
            )
        return contacts

    def _assignments(
        self, language: str, created_at: datetime, stage: str
    ) -> tuple[list[dict[str, Any]], User | None]:
        rng = self.rng
        # Some web prospects have nobody yet: they wait for a manager to assign them.
        if stage == LifecycleStage.PROSPECT and rng.random() < 0.3:
            return [], None
        age_days = (self.today - created_at).days
        periods = 1
        if age_days > 2 * 365:
            periods = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
        elif age_days > 365:
            periods = rng.choices((1, 2), weights=(70, 30))[0]
        cuts = sorted(
            created_at + timedelta(days=rng.randrange(120, age_days - 60))
            for _ in range(periods - 1)
        )
        starts = [created_at, *cuts]
        people: list[User] = []
        for number in range(periods):
            pool = self.reps if number == periods - 1 else self.reps + self.former
            choice = rng.choice([p for p in pool if not people or p.pk != people[-1].pk])
            people.append(choice)
        assignments = []
        for number, (user, started_at) in enumerate(zip(people, starts, strict=True)):
            ended_at = starts[number + 1] if number + 1 < periods else None
            assignments.append(
                {
                    "user": user,
                    "started_at": started_at,
                    "ended_at": ended_at,
                    "assigned_by": self.manager,
                    "reason": NEW_CUSTOMER_REASON[language]
                    if number == 0
                    else rng.choice(REASSIGNMENT_REASONS[language]),
                }
            )
        return assignments, people[-1]

    def _level_history(
        self,
        language: str,
        stage: str,
        created_at: datetime,
        assignments: list[dict[str, Any]],
    ) -> tuple[int, list[dict[str, Any]]]:
        rng = self.rng
        peak = rng.choices((1, 2, 3, 4), weights=LEVEL_WEIGHTS[LifecycleStage(stage)])[0]
        steps = list(range(RelationshipLevel.PRODUCT + 1, peak + 1))
        # A broken promise costs a rung; at-risk and lapsed customers more often.
        fell = peak > 1 and rng.random() < (
            0.5 if stage in (LifecycleStage.AT_RISK, LifecycleStage.LAPSED) else 0.08
        )
        moves = len(steps) + (1 if fell else 0)
        if not moves:
            return RelationshipLevel.PRODUCT, []
        span = max((self.today - created_at).days - 5, moves + 1)
        offsets = sorted(rng.sample(range(1, span), moves))
        changes = []
        level = int(RelationshipLevel.PRODUCT)
        for number, offset in enumerate(offsets):
            changed_at = created_at + timedelta(days=offset, hours=rng.randrange(0, 9))
            if number < len(steps):
                to_level = steps[number]
                reason = rng.choice(PROMOTION_REASONS[language][to_level])
            else:
                to_level = level - 1
                reason = rng.choice(DEMOTION_REASONS[language])
            changes.append(
                {
                    "from_level": level,
                    "to_level": to_level,
                    "changed_at": changed_at,
                    "changed_by": self._executive_at(assignments, changed_at),
                    "reason": reason,
                }
            )
            level = to_level
        return level, changes

    def _executive_at(self, assignments: list[dict[str, Any]], moment: datetime) -> User:
        for assignment in assignments:
            ended_at = assignment["ended_at"]
            if assignment["started_at"] <= moment and (ended_at is None or moment < ended_at):
                user: User = assignment["user"]
                return user
        return self.manager

    # --- contact details ---

    def _unique_email(self, local: str, domain: str) -> str:
        base = ascii_slug(local).strip(".") or "cliente"
        candidate = f"{base}@{domain}"
        while candidate in self.used_emails:
            candidate = f"{base}{self.rng.randrange(1, 999)}@{domain}"
        self.used_emails.add(candidate)
        return normalise_email(candidate)

    def _mobile(self, market: Market) -> str:
        prefix = self.rng.choice(market.mobile_prefixes)
        return self._phone(prefix, market.e164_length - len(prefix))

    def _phone(self, prefix: str, digits: int) -> str:
        for _attempt in range(50):
            candidate = prefix + "".join(str(self.rng.randrange(10)) for _ in range(digits))
            try:
                return normalise_phone(candidate)
            except ValidationError:
                continue
        raise RuntimeError(f"No valid phone number with prefix {prefix}")  # pragma: no cover
