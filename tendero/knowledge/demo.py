"""What Tendero Telecom knows about its demo customers as people, and the
duplicates any real customer base has.

Most people (customers who are persons, and the contacts of organisations) have
interests, preferences, dislikes, family members with names and birthdays,
important dates and professional goals, written in the customer's language, each
learned by the account executive in one of the customer's interactions. Yearly
dates fall outside the next 30 days except for about one customer in twenty, so
that the briefings of the demo day have a few birthdays and anniversaries to
mention. A handful of facts are recorded through the knowledge services so that
the audit trail shows them.

Duplicates are made before the customers are saved: a few customers are turned
into a second record of another one (the same person typed without accents, in
capitals, surname first, with the same email, phone or tax id), so that
duplicate detection has realistic pairs to find.
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from tendero.accounts.models import User
from tendero.customers.models import Contact, Customer, CustomerKind
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import FactKind, PersonalFact, RelationKind
from tendero.knowledge.services import record_fact

KNOWLEDGE_SEED = 20_261_124
DUPLICATE_SEED = 20_261_125
MAX_DUPLICATES = 15
UPCOMING_SHARE = 0.05  # customers with a birthday or anniversary in the next 30 days
UPCOMING_DAYS = 30

# fmt: off
INTERESTS = {
    "es": (
        "Fútbol los domingos: juega en un equipo de veteranos",
        "Ciclismo de carretera; sale los sábados temprano",
        "La ópera: abonado del teatro de su ciudad",
        "Cocinar: su paella de los domingos es famosa en la familia",
        "Senderismo en la sierra",
        "Pádel con los amigos los jueves",
        "El jazz; va a todos los festivales que puede",
        "Fotografía de naturaleza",
        "Vinos de Rioja y de la Ribera",
        "Jardinería: cultiva tomates en la terraza",
        "Novela negra",
        "Running: está preparando su primer maratón",
        "Pesca en el pantano los fines de semana",
        "Baloncesto; no se pierde un partido de su equipo",
    ),
    "en": (
        "Football on Sundays: plays in a veterans' team",
        "Road cycling; rides early on Saturdays",
        "Opera: season ticket at the local theatre",
        "Cooking: famous in the family for their Sunday paella",
        "Hill walking",
        "Golf on Saturday mornings",
        "Jazz; goes to every festival they can",
        "Wildlife photography",
        "Spanish wines, Rioja above all",
        "Gardening: grows tomatoes on the balcony",
        "Crime novels",
        "Running: training for a first marathon",
        "Fly fishing at weekends",
        "Cricket; never misses a test match",
    ),
}
PREFERENCES = {
    "es": (
        "Prefiere WhatsApp a partir de las 18:00",
        "Le gusta el agua con gas en las reuniones",
        "Prefiere hablar en español, no en inglés",
        "Prefiere la factura en papel",
        "Mejor llamarle por la mañana, antes de las 11:00",
        "Café solo, sin azúcar",
        "Prefiere reunirse en persona antes que por videollamada",
        "Que le tuteen; no le gusta el «usted»",
    ),
    "en": (
        "Prefers WhatsApp after 6 pm",
        "Likes sparkling water at meetings",
        "Prefers email to phone calls",
        "Prefers paper invoices",
        "Best called in the morning, before 11",
        "Tea with milk, no sugar",
        "Prefers meeting in person to video calls",
        "Likes to be called by first name",
    ),
}
DISLIKES = {
    "es": (
        "No le gustan las llamadas comerciales en horario de trabajo",
        "Detesta esperar en la tienda",
        "No soporta la música de espera del teléfono",
        "No le gustan los contratos con permanencia",
        "Los correos largos: mejor ir al grano",
    ),
    "en": (
        "Dislikes sales calls during working hours",
        "Hates queuing in the shop",
        "Can't stand hold music",
        "Dislikes contracts with a minimum term",
        "Long emails: get to the point",
    ),
}
GOALS = {
    "es": (
        "Quiere abrir una segunda tienda este año",
        "Busca reducir un 20% el gasto en telecomunicaciones",
        "Quiere conectar la flota de reparto con IoT",
        "Prepara la certificación ISO 27001 de la empresa",
        "Quiere que todo el equipo teletrabaje dos días por semana",
        "Aspira a dirigir el área comercial el año que viene",
    ),
    "en": (
        "Wants to open a second shop this year",
        "Aims to cut telecoms spending by 20%",
        "Wants to connect the delivery fleet with IoT",
        "Preparing the company's ISO 27001 certification",
        "Wants the whole team working from home two days a week",
        "Hopes to lead the sales team next year",
    ),
}
CHILD_NOTES = {
    "es": ("Estudia Medicina en Salamanca", "Juega al fútbol en el equipo del colegio",
           "Se gradúa este año", "Acaba de empezar la guardería", ""),
    "en": ("Studying medicine in Edinburgh", "Plays in the school football team",
           "Graduates this year", "Just started nursery", ""),
}
BIRTHDAY = {"es": "Cumpleaños", "en": "Birthday"}
WEDDING = {"es": "Aniversario de boda", "en": "Wedding anniversary"}
COMPANY_ANNIVERSARY = {"es": "Aniversario de la empresa", "en": "Company anniversary"}
CUSTOMER_SINCE = {"es": "Cliente desde", "en": "Customer since"}
SPANISH_FAMILY_NAMES = (
    "Lucía", "Pablo", "Martina", "Hugo", "Daniela", "Mateo", "Valeria", "Leo", "Carla",
    "Diego", "Alba", "Javier", "Paula", "Marcos", "Elena", "Carmen", "Antonio", "Isabel",
)
ENGLISH_FAMILY_NAMES = (
    "Olivia", "George", "Amelia", "Arthur", "Isla", "Freddie", "Ava", "Theo", "Poppy",
    "Oscar", "Ella", "Jack", "Lily", "Henry", "Sarah", "David", "Helen", "Peter",
)
# fmt: on


# --- duplicates ---------------------------------------------------------------------


def _unaccented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def make_duplicates(customers: list[Customer], extras: list[dict[str, Any]]) -> int:
    """Turn up to MAX_DUPLICATES of the (unsaved) demo customers into second records of
    earlier ones, the way people create duplicates: the same person typed without
    accents in lower case with the same email; surname first with the same phone; in
    capitals with the same tax id; without the second surname with the same email and
    phone; an organisation's legal name written differently with the same tax id.
    `extras[i]` holds customer i's emails and phones. Returns how many were made."""
    rng = random.Random(DUPLICATE_SEED)
    wanted = min(MAX_DUPLICATES, len(customers) // 20)
    half = len(customers) // 2
    people = [i for i in range(len(customers)) if customers[i].kind == CustomerKind.PERSON]
    organisations = [
        i for i in range(len(customers)) if customers[i].kind == CustomerKind.ORGANISATION
    ]
    used: set[int] = set()
    made = 0
    for number in range(wanted):
        organisation = number % 7 == 6
        pool = organisations if organisation else people
        sources = [i for i in pool if i < half and i not in used]
        targets = [i for i in pool if i >= half and i not in used]
        if not sources or not targets:
            continue
        source_index = rng.choice(sources)
        source = customers[source_index]
        same_country = [i for i in targets if customers[i].country == source.country]
        if organisation and not same_country:
            continue
        target_index = rng.choice(same_country or targets)
        used.update((source_index, target_index))
        target = customers[target_index]
        _copy_identity(source, target)
        source_extra, target_extra = extras[source_index], extras[target_index]
        if organisation:
            target.display_name = _unaccented(source.display_name).upper().replace(" SL", ", S.L.")
            target.tax_id = source.tax_id
        else:
            variant = number % 4
            name = source.display_name
            if variant == 0:
                target.display_name = _unaccented(name).lower()
                target_extra["emails"] = [source_extra["emails"][0]]
                target.tax_id = ""
            elif variant == 1:
                words = name.split(" ")
                target.display_name = f"{' '.join(words[1:])}, {words[0]}"
                target_extra["phones"] = [source_extra["phones"][0]]
                target.tax_id = ""
            elif variant == 2:
                target.display_name = name.upper()
                target.tax_id = source.tax_id
            else:
                words = name.split(" ")
                target.display_name = " ".join(words[:2]) if len(words) > 2 else name
                target_extra["emails"] = [source_extra["emails"][0]]
                target_extra["phones"] = [source_extra["phones"][0]]
                target.tax_id = ""
        made += 1
    return made


def _copy_identity(source: Customer, target: Customer) -> None:
    """The same person lives in the same place and speaks the same language."""
    for field in ("preferred_name", "street", "city", "region", "postal_code", "country"):
        setattr(target, field, getattr(source, field))
    target.language = source.language
    target.currency = source.currency


# --- personal knowledge -------------------------------------------------------------


class _Knowledge:
    def __init__(
        self,
        customers: Sequence[Customer],
        today: datetime,
        executives: dict[int, User | None],
        interactions: dict[int, list[tuple[int, datetime, int | None]]],
        contacts: dict[int, list[Contact]],
        fallback: User | None,
    ) -> None:
        self.rng = random.Random(KNOWLEDGE_SEED)
        self.fallback = fallback
        self.customers = customers
        self.today = today
        self.day = today.date()
        self.executives = executives
        self.interactions = interactions
        self.contacts = contacts
        self.rows: list[PersonalFact] = []
        # Per customer: the yearly facts whose date we may move into the next 30 days.
        self.movable: dict[int, list[PersonalFact]] = defaultdict(list)

    def build(self) -> list[PersonalFact]:
        for customer in self.customers:
            language = "es" if customer.language == "es" else "en"
            if customer.kind == CustomerKind.PERSON:
                if self.rng.random() < 0.85:
                    self._person(customer, None, language, self._age())
            else:
                self._organisation(customer, language)
                for contact in self.contacts.get(customer.pk, []):
                    if self.rng.random() < 0.65:
                        self._person(customer, contact, language, self._age(), professional=True)
        self._some_dates_come_up_soon()
        for fact in self.rows:
            if fact.recurs_yearly and fact.date is not None:
                fact.month_day = fact.date.month * 100 + fact.date.day
        return self.rows

    def _age(self) -> int:
        return self.rng.randrange(24, 76)

    def _fact(self, customer: Customer, contact: Contact | None, kind: str, **data: Any) -> None:
        rng = self.rng
        learned = self.interactions.get(customer.pk)
        if learned:
            interaction_id, learned_at, handler_id = rng.choice(learned)
            source: int | None = interaction_id
        else:
            span = max((self.today - customer.created_at).total_seconds(), 3600)
            learned_at = customer.created_at + timedelta(seconds=rng.uniform(0, span))
            executive = self.executives.get(customer.pk) or self.fallback
            handler_id, source = (executive.pk if executive else None), None
        fact = PersonalFact(
            customer_id=customer.pk,
            contact=contact,
            kind=kind,
            learned_by_id=handler_id,
            learned_at=learned_at,
            source_interaction_id=source,
            created_at=learned_at,
            updated_at=learned_at,
            **data,
        )
        self.rows.append(fact)
        if fact.recurs_yearly and fact.date is not None:
            self.movable[customer.pk].append(fact)

    def _person(
        self,
        customer: Customer,
        contact: Contact | None,
        language: str,
        age: int,
        professional: bool = False,
    ) -> None:
        rng = self.rng
        for text in rng.sample(INTERESTS[language], rng.choice((1, 1, 2, 2, 3))):
            self._fact(customer, contact, FactKind.INTEREST, text=text)
        for text in rng.sample(PREFERENCES[language], rng.choice((0, 1, 1, 2))):
            self._fact(customer, contact, FactKind.PREFERENCE, text=text)
        if rng.random() < 0.35:
            self._fact(customer, contact, FactKind.DISLIKE, text=rng.choice(DISLIKES[language]))
        if rng.random() < 0.75:
            self._fact(
                customer,
                contact,
                FactKind.IMPORTANT_DATE,
                text=BIRTHDAY[language],
                date=self._yearly(self.day.year - age),
                recurs_yearly=True,
            )
        names = SPANISH_FAMILY_NAMES if language == "es" else ENGLISH_FAMILY_NAMES
        if age > 27 and rng.random() < 0.6:
            relation = RelationKind.SPOUSE if rng.random() < 0.75 else RelationKind.PARTNER
            birthday = (
                self._yearly(self.day.year - age + rng.randrange(-4, 5))
                if rng.random() < 0.5
                else None
            )
            self._fact(
                customer,
                contact,
                FactKind.FAMILY_MEMBER,
                relation=relation,
                related_name=rng.choice(names),
                date=birthday,
                recurs_yearly=birthday is not None,
            )
            if relation == RelationKind.SPOUSE and rng.random() < 0.4:
                self._fact(
                    customer,
                    contact,
                    FactKind.IMPORTANT_DATE,
                    text=WEDDING[language],
                    date=self._yearly(self.day.year - rng.randrange(1, max(age - 24, 2))),
                    recurs_yearly=True,
                )
            for _child in range(rng.choice((0, 1, 1, 2, 2, 3)) if age > 30 else 0):
                child_age = rng.randrange(0, min(age - 20, 35))
                self._fact(
                    customer,
                    contact,
                    FactKind.FAMILY_MEMBER,
                    relation=RelationKind.CHILD,
                    related_name=rng.choice(names),
                    text=rng.choice(CHILD_NOTES[language]),
                    date=self._yearly(self.day.year - child_age),
                    recurs_yearly=True,
                )
        if (professional or rng.random() < 0.15) and rng.random() < 0.6:
            self._fact(
                customer, contact, FactKind.PROFESSIONAL_GOAL, text=rng.choice(GOALS[language])
            )

    def _organisation(self, customer: Customer, language: str) -> None:
        rng = self.rng
        founded = self.day.year - rng.randrange(2, 40)
        self._fact(
            customer,
            None,
            FactKind.IMPORTANT_DATE,
            text=COMPANY_ANNIVERSARY[language],
            date=self._yearly(founded),
            recurs_yearly=True,
        )
        if rng.random() < 0.5:
            self._fact(customer, None, FactKind.PROFESSIONAL_GOAL, text=rng.choice(GOALS[language]))

    def _yearly(self, year: int, days_ahead: int | None = None) -> date:
        """A date in `year` whose next anniversary is `days_ahead` days from the demo
        day, by default more than UPCOMING_DAYS away (29 February is avoided)."""
        if days_ahead is None:
            days_ahead = self.rng.randrange(UPCOMING_DAYS + 1, 365)
        anniversary = self.day + timedelta(days=days_ahead)
        day = 28 if (anniversary.month, anniversary.day) == (2, 29) else anniversary.day
        return date(year, anniversary.month, day)

    def _some_dates_come_up_soon(self) -> None:
        candidates = sorted(self.movable)
        chosen = self.rng.sample(
            candidates, min(len(candidates), round(len(self.customers) * UPCOMING_SHARE))
        )
        for customer_id in chosen:
            fact = self.rng.choice(self.movable[customer_id])
            assert fact.date is not None  # movable facts have a date
            fact.date = self._yearly(fact.date.year, self.rng.randrange(0, UPCOMING_DAYS))


def create_demo_facts(
    customers: Sequence[Customer], today: datetime, fallback: User | None = None
) -> int:
    """Write the personal facts of `customers` (saved, with their contacts, account
    executives and interactions saved). Each was learned in one of the customer's
    conversations with their account executive, or else by their account executive,
    or else by `fallback`. Returns how many facts were written."""
    ids = [c.pk for c in customers]
    executives: dict[int, User | None] = {}
    users = {u.pk: u for u in User.objects.filter(portfolio__in=ids).distinct()}
    for customer in customers:
        executives[customer.pk] = users.get(customer.account_executive_id or 0)
    sales_handled: dict[int, list[tuple[int, datetime, int | None]]] = defaultdict(list)
    for interaction_id, customer_id, occurred_at, handler_id in (
        Interaction.objects.filter(customer_id__in=ids, department__code="sales")
        .exclude(channel__in=("email", "sms"))
        .values_list("pk", "customer_id", "occurred_at", "handled_by_id")
        .order_by("pk")
    ):
        sales_handled[customer_id].append((interaction_id, occurred_at, handler_id))
    contacts: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(customer_id__in=ids).order_by("id"):
        contacts[contact.customer_id].append(contact)
    rows = _Knowledge(customers, today, executives, sales_handled, contacts, fallback).build()
    PersonalFact.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# What account executives wrote down themselves, through the services (so that the
# audit trail of these customers shows who learned it and when).
RECORDED_FACTS = {
    "es": (
        {"kind": FactKind.INTEREST, "text": "Acaba de apuntarse a clases de tango"},
        {"kind": FactKind.PREFERENCE, "text": "Prefiere que le escribamos por WhatsApp"},
        {"kind": FactKind.PROFESSIONAL_GOAL, "text": "Quiere ampliar el negocio a Portugal"},
    ),
    "en": (
        {"kind": FactKind.INTEREST, "text": "Has just taken up tango lessons"},
        {"kind": FactKind.PREFERENCE, "text": "Prefers us to write on WhatsApp"},
        {"kind": FactKind.PROFESSIONAL_GOAL, "text": "Wants to expand the business to Portugal"},
    ),
}


def record_demo_facts_through_services(
    customers: Sequence[Customer], users: dict[str, User], count: int = 9
) -> int:
    """Record `count` facts through `tendero.knowledge.services.record_fact`, each by
    the customer's account executive. Returns how many were recorded."""
    active = {u.pk: u for u in users.values() if u.is_active}
    recorded = 0
    for customer in customers:
        if recorded >= count:
            break
        executive = active.get(customer.account_executive_id or 0)
        if executive is None:
            continue
        language = "es" if customer.language == "es" else "en"
        data = RECORDED_FACTS[language][recorded % len(RECORDED_FACTS[language])]
        # Every field spelled out, as a form would send it.
        full = {"relation": "", "related_name": "", "date": None, "recurs_yearly": False, **data}
        record_fact(executive, customer, full)
        recorded += 1
    return recorded
