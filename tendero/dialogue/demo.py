"""Tendero Telecom's dialogue for the demo: departments, and three years of
interactions with every customer.

Each customer has a rhythm (weekly for the best accounts, then fortnightly,
monthly, quarterly, half-yearly) and their interactions come at about that pace
from the day they became a customer (at most three years back) to a few days ago,
so that the rhythm learned from their history is close to the one we had in mind.
About one relationship in twenty went quiet: its last interaction lies several
rhythms back. The interactions mix the account executive's calls, visits and
proposals with service, technical support, billing, logistics and marketing
contacts, and the customer's own voice (feedback, complaints, ideas and
suggestions: about 15%), written in the customer's language.

Everything is deterministic (a fixed seed) and written with bulk inserts; the
benchmark seeder (`tendero.customers.seeding`) draws on the same scenes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tendero.accounts.models import User
from tendero.core.apportion import largest_remainders
from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    CustomerKind,
    LifecycleStage,
    RelationshipLevel,
)
from tendero.dialogue.models import Channel, Direction, Interaction, Sentiment, Voice
from tendero.organization.models import Department

DEMO_INTERACTIONS_PER_CUSTOMER = 25  # 50,000 for the 2,000 demo customers
HISTORY_DAYS = 3 * 365
QUIET_SHARE = 0.05
INTERACTION_SEED = 20_261_123

# code, name: Tendero Telecom is a Spanish company and names its departments in Spanish.
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("sales", "Ventas"),
    ("customer-service", "Atención al cliente"),
    ("technical-support", "Soporte técnico"),
    ("billing", "Facturación"),
    ("logistics", "Logística"),
    ("marketing", "Marketing"),
)
# Which department each demo user works in (every demo user has one).
USER_DEPARTMENTS = {
    "admin": "technical-support",
    "manager": "sales",
    "ana.sales": "sales",
    "bruno.sales": "sales",
    "carmen.sales": "sales",
    "david.sales": "sales",
    "sofia.service": "customer-service",
    "mateo.marketing": "marketing",
    "rosa.readonly": "billing",
    "rafael.former": "sales",
    "emma.former": "sales",
}
# Who handles each kind of contact: the account executive of the moment, a named
# colleague, or nobody (automatic notifications).
HANDLERS = {
    "technical-support": "admin",
    "customer-service": "sofia.service",
    "billing": "rosa.readonly",
    "marketing": "mateo.marketing",
}

# Local business hours are turned into UTC with these offsets (standard time).
UTC_OFFSET_HOURS = {"ES": 1, "GB": 0, "MX": -6, "CL": -3, "US": -6}


@dataclass(frozen=True)
class Text:
    subject: str
    notes: str
    outcome: str = ""


@dataclass(frozen=True)
class Scene:
    """One kind of interaction: who starts it, through which channels, which
    department owns it, how it tends to feel, and how it reads in each language."""

    key: str
    person_weight: int
    organisation_weight: int
    department: str
    direction: str
    channels: tuple[tuple[str, int], ...]
    texts: dict[str, tuple[Text, ...]]
    voice: str = ""
    # positive, neutral, negative, not recorded
    sentiments: tuple[int, int, int, int] = (3, 5, 1, 3)
    follow_up: float = 0.0

    @property
    def by_account_executive(self) -> bool:
        return self.department == "sales"


def _t(subject: str, notes: str, outcome: str = "") -> Text:
    return Text(subject, notes, outcome)


# fmt: off
SCENES: tuple[Scene, ...] = (
    Scene(
        "check_in", 16, 14, "sales", Direction.OUTBOUND,
        ((Channel.PHONE, 6), (Channel.CHAT, 2), (Channel.EMAIL, 2)),
        {
            "es": (
                _t("Llamada de seguimiento", "Hablamos con {name}: contento con la fibra y la "
                   "línea móvil. Preguntó si puede ampliar los datos en verano.",
                   "Sin cambios por ahora"),
                _t("Seguimiento trimestral", "Repasamos el consumo de los últimos meses con "
                   "{name}. Usa casi todos los datos; le ofrecimos el bono de 10 GB.",
                   "Lo pensará"),
                _t("¿Qué tal todo?", "Llamada de cortesía a {name}. Nos contó que el domingo "
                   "tiene partido y que la cobertura en el campo es buena.", "Relación al día"),
            ),
            "en": (
                _t("Check-in call", "Spoke with {name}: happy with the fibre and the mobile "
                   "line. Asked whether the data allowance can grow over the summer.",
                   "No change for now"),
                _t("Quarterly review", "Went through the last few months' usage with {name}. "
                   "Nearly all data used; offered the 10 GB add-on.", "Will think about it"),
                _t("How is everything?", "Courtesy call to {name}. Mentioned the new job and "
                   "that coverage at the office is fine.", "Relationship up to date"),
            ),
        },
        sentiments=(5, 4, 0, 2), follow_up=0.06,
    ),
    Scene(
        "proposal", 5, 8, "sales", Direction.OUTBOUND,
        ((Channel.EMAIL, 6), (Channel.MEETING, 2)),
        {
            "es": (
                _t("Propuesta de paquete a medida", "Enviamos a {name} una propuesta con "
                   "llamadas ilimitadas, roaming en la UE y buzón de voz, ajustada a lo que "
                   "documentamos en la última visita.", "Propuesta enviada"),
                _t("Oferta de renovación", "Oferta para renovar el contrato con terminal nuevo "
                   "y el mismo precio mensual.", "Pendiente de respuesta"),
            ),
            "en": (
                _t("Tailored bundle proposal", "Sent {name} a proposal with unlimited calls, "
                   "EU roaming and voicemail, matched to the needs written down at the last "
                   "visit.", "Proposal sent"),
                _t("Renewal offer", "Offer to renew the contract with a new handset at the "
                   "same monthly price.", "Awaiting an answer"),
            ),
        },
        sentiments=(2, 6, 0, 3), follow_up=0.35,
    ),
    Scene(
        "visit", 1, 9, "sales", Direction.OUTBOUND,
        ((Channel.VISIT, 5), (Channel.MEETING, 4)),
        {
            "es": (
                _t("Visita: revisión de necesidades", "Visitamos a {name} en sus oficinas. "
                   "Necesitan dos líneas más para los comerciales nuevos y un router de "
                   "respaldo.", "Necesidades documentadas"),
                _t("Reunión de cuenta", "Revisamos con {name} las incidencias del trimestre y "
                   "los planes de apertura de una nueva tienda.", "Plan de acción acordado"),
            ),
            "en": (
                _t("Visit: needs review", "Visited {name} at their offices. They need two more "
                   "lines for new sales staff and a backup router.", "Needs documented"),
                _t("Account meeting", "Went through the quarter's incidents with {name} and "
                   "their plans to open a new shop.", "Action plan agreed"),
            ),
        },
        sentiments=(6, 3, 1, 1), follow_up=0.3,
    ),
    Scene(
        "store_visit", 5, 1, "sales", Direction.INBOUND,
        ((Channel.VISIT, 1),),
        {
            "es": (
                _t("Visita a la tienda", "{name} pasó por la tienda para cambiar de terminal. "
                   "Se llevó uno con buena cámara; le pasamos los contactos.", "Terminal nuevo"),
            ),
            "en": (
                _t("Shop visit", "{name} came to the shop to change handsets. Chose one with "
                   "a good camera; we moved the contacts across.", "New handset"),
            ),
        },
        sentiments=(6, 3, 0, 1),
    ),
    Scene(
        "service_question", 12, 8, "customer-service", Direction.INBOUND,
        ((Channel.PHONE, 5), (Channel.CHAT, 4), (Channel.WEB, 1)),
        {
            "es": (
                _t("Consulta sobre roaming", "{name} viaja a Francia la semana que viene y "
                   "preguntó si el roaming está incluido. Lo está; le explicamos el límite.",
                   "Resuelto en la llamada"),
                _t("Portabilidad de una línea", "Quiere traer la línea de su hijo desde otro "
                   "operador. Iniciamos la portabilidad.", "Portabilidad solicitada"),
                _t("Cambio de datos de contacto", "Actualizamos el correo para las facturas.",
                   "Datos actualizados"),
            ),
            "en": (
                _t("Roaming question", "{name} is travelling to France next week and asked "
                   "whether roaming is included. It is; we explained the fair-use limit.",
                   "Solved on the call"),
                _t("Number transfer", "Wants to bring their son's line over from another "
                   "provider. Transfer started.", "Transfer requested"),
                _t("Contact details change", "Updated the email address for invoices.",
                   "Details updated"),
            ),
        },
        sentiments=(3, 6, 1, 2), follow_up=0.05,
    ),
    Scene(
        "fault", 6, 7, "technical-support", Direction.INBOUND,
        ((Channel.PHONE, 6), (Channel.CHAT, 2), (Channel.WEB, 1)),
        {
            "es": (
                _t("Incidencia: sin cobertura en casa", "{name} no tiene cobertura en el "
                   "salón desde el lunes. Abrimos incidencia con la red.", "Incidencia abierta"),
                _t("Avería de fibra", "Sin conexión desde esta mañana. Reiniciamos el router "
                   "en remoto y volvió el servicio.", "Resuelto en remoto"),
                _t("Router con cortes", "Cortes intermitentes por la tarde. Enviamos un técnico "
                   "para cambiar el router.", "Visita técnica programada"),
            ),
            "en": (
                _t("Fault: no coverage at home", "{name} has had no signal in the living room "
                   "since Monday. Ticket opened with the network team.", "Ticket opened"),
                _t("Fibre outage", "No connection since this morning. Restarted the router "
                   "remotely and service came back.", "Fixed remotely"),
                _t("Router dropping out", "Intermittent drop-outs in the evenings. Sending an "
                   "engineer to replace the router.", "Engineer visit booked"),
            ),
        },
        sentiments=(1, 4, 4, 2), follow_up=0.25,
    ),
    Scene(
        "billing_question", 6, 6, "billing", Direction.INBOUND,
        ((Channel.PHONE, 4), (Channel.EMAIL, 4)),
        {
            "es": (
                _t("Duda sobre la factura", "{name} no entendía un cargo de llamadas "
                   "internacionales. Era una llamada a Marruecos; se lo explicamos.",
                   "Aclarado"),
                _t("Cambio de cuenta bancaria", "Nos pidió domiciliar las facturas en otra "
                   "cuenta a partir del mes que viene.", "Cambio registrado"),
            ),
            "en": (
                _t("Invoice question", "{name} did not recognise an international call "
                   "charge. It was a call to Morocco; we explained it.", "Clarified"),
                _t("New bank details", "Asked us to charge invoices to a different account "
                   "from next month.", "Change recorded"),
            ),
        },
        sentiments=(2, 6, 2, 2), follow_up=0.05,
    ),
    Scene(
        "credit_note", 2, 3, "billing", Direction.OUTBOUND,
        ((Channel.EMAIL, 1),),
        {
            "es": (
                _t("Nota de crédito emitida", "Emitimos la nota de crédito prometida por el "
                   "cobro duplicado y se la enviamos a {name}.", "Abono realizado"),
            ),
            "en": (
                _t("Credit note issued", "Issued the promised credit note for the duplicate "
                   "charge and sent it to {name}.", "Refund made"),
            ),
        },
        sentiments=(5, 3, 0, 2),
    ),
    Scene(
        "delivery", 4, 5, "logistics", Direction.OUTBOUND,
        ((Channel.SMS, 3), (Channel.EMAIL, 2)),
        {
            "es": (
                _t("Envío del terminal", "Aviso automático: el pedido ha salido del almacén "
                   "y llegará en 48 horas.", "Entregado"),
                _t("Entrega del router", "El transportista entregó el router nuevo.",
                   "Entregado"),
            ),
            "en": (
                _t("Handset shipped", "Automatic notice: the order has left the warehouse and "
                   "will arrive within 48 hours.", "Delivered"),
                _t("Router delivered", "The courier delivered the new router.", "Delivered"),
            ),
        },
        sentiments=(0, 0, 0, 1),
    ),
    Scene(
        "delivery_change", 1, 2, "logistics", Direction.INBOUND,
        ((Channel.PHONE, 1),),
        {
            "es": (
                _t("Entrega reprogramada", "{name} no estará en casa el jueves; cambiamos la "
                   "entrega al sábado por la mañana.", "Nueva fecha de entrega"),
            ),
            "en": (
                _t("Delivery rescheduled", "{name} will be out on Thursday; delivery moved to "
                   "Saturday morning.", "New delivery date"),
            ),
        },
        sentiments=(2, 5, 1, 2), follow_up=0.3,
    ),
    Scene(
        "campaign", 9, 5, "marketing", Direction.OUTBOUND,
        ((Channel.EMAIL, 5), (Channel.SMS, 2), (Channel.SOCIAL, 1)),
        {
            "es": (
                _t("Campaña 5G", "Le enviamos la oferta de 5G sin coste adicional durante "
                   "seis meses, con su consentimiento para comunicaciones comerciales."),
                _t("Encuesta de satisfacción", "Invitación a la encuesta anual de "
                   "satisfacción."),
                _t("Novedades de la tarifa familiar", "Boletín con las novedades de la tarifa "
                   "familiar: hasta cinco líneas con datos compartidos."),
            ),
            "en": (
                _t("5G campaign", "Sent the 5G offer at no extra cost for six months, with "
                   "their consent to marketing messages."),
                _t("Satisfaction survey", "Invitation to the yearly satisfaction survey."),
                _t("Family plan news", "Newsletter about the family plan: up to five lines "
                   "sharing data."),
            ),
        },
        sentiments=(0, 0, 0, 1),
    ),
    # The customer's own voice: about 15% of everything.
    Scene(
        "praise", 4, 3, "customer-service", Direction.INBOUND,
        ((Channel.PHONE, 3), (Channel.EMAIL, 2), (Channel.SOCIAL, 1), (Channel.WEB, 1)),
        {
            "es": (
                _t("Felicitación al técnico", "{name} llamó para agradecer la rapidez del "
                   "técnico que cambió el router: «puntual y muy amable».",
                   "Trasladado al equipo"),
                _t("Respuesta a la encuesta: 9 de 10", "Valora bien la atención en tienda; "
                   "pide que la factura llegue antes.", "Gracias enviadas"),
            ),
            "en": (
                _t("Praise for the engineer", "{name} called to thank us for how quickly the "
                   "engineer replaced the router: \"on time and very friendly\".",
                   "Passed on to the team"),
                _t("Survey answer: 9 out of 10", "Rates the shop service highly; would like "
                   "the invoice to arrive earlier.", "Thank-you sent"),
            ),
        },
        voice=Voice.FEEDBACK, sentiments=(8, 1, 0, 0),
    ),
    Scene(
        "complaint", 4, 5, "customer-service", Direction.INBOUND,
        ((Channel.PHONE, 4), (Channel.EMAIL, 3), (Channel.SOCIAL, 1), (Channel.LETTER, 1)),
        {
            "es": (
                _t("Queja: cobro duplicado", "{name} ve dos veces la cuota de marzo en el "
                   "banco. Prometimos una nota de crédito en cinco días.",
                   "Nota de crédito prometida"),
                _t("Queja: retraso en la entrega", "El terminal prometido para el martes no "
                   "ha llegado. {name} está molesto; lo escalamos a logística.",
                   "Escalado a logística"),
                _t("Queja: permanencia no explicada", "Dice que nadie le explicó la "
                   "permanencia de 12 meses al contratar.", "Revisión del contrato"),
            ),
            "en": (
                _t("Complaint: charged twice", "{name} sees March's fee twice on the bank "
                   "statement. We promised a credit note within five days.",
                   "Credit note promised"),
                _t("Complaint: late delivery", "The handset promised for Tuesday has not "
                   "arrived. {name} is annoyed; escalated to logistics.",
                   "Escalated to logistics"),
                _t("Complaint: minimum term not explained", "Says nobody explained the "
                   "12-month minimum term when signing up.", "Contract under review"),
            ),
        },
        voice=Voice.COMPLAINT, sentiments=(0, 1, 9, 0), follow_up=0.7,
    ),
    Scene(
        "idea", 2, 2, "marketing", Direction.INBOUND,
        ((Channel.EMAIL, 2), (Channel.WEB, 2), (Channel.SOCIAL, 1)),
        {
            "es": (
                _t("Idea: consumo por línea en la app", "{name} propone que la app muestre el "
                   "consumo de cada línea de la familia por separado.", "Enviada a producto"),
                _t("Idea: bono de datos para festivales", "Sugiere un bono de datos de fin de "
                   "semana para conciertos y festivales.", "Enviada a producto"),
            ),
            "en": (
                _t("Idea: usage per line in the app", "{name} suggests the app shows each "
                   "family line's usage separately.", "Sent to product"),
                _t("Idea: festival data pass", "Proposes a weekend data pass for concerts and "
                   "festivals.", "Sent to product"),
            ),
        },
        voice=Voice.IDEA, sentiments=(6, 3, 0, 1),
    ),
    Scene(
        "suggestion", 2, 2, "customer-service", Direction.INBOUND,
        ((Channel.PHONE, 2), (Channel.EMAIL, 2), (Channel.CHAT, 1)),
        {
            "es": (
                _t("Sugerencia: factura más clara", "Pide que la factura separe los cargos de "
                   "cada línea y los del leasing del router.", "Anotado"),
                _t("Sugerencia: horario de la tienda", "Sugiere abrir la tienda los sábados "
                   "por la tarde.", "Anotado"),
            ),
            "en": (
                _t("Suggestion: clearer invoice", "Asks for the invoice to split the charges "
                   "per line and the router lease.", "Noted"),
                _t("Suggestion: shop opening hours", "Suggests opening the shop on Saturday "
                   "afternoons.", "Noted"),
            ),
        },
        voice=Voice.SUGGESTION, sentiments=(3, 6, 1, 1), follow_up=0.1,
    ),
)
# fmt: on

# Rhythms in days, by relationship level: the best relationships are weekly.
RHYTHM_WEIGHTS: dict[int, tuple[tuple[int, int], ...]] = {
    RelationshipLevel.TRUST: ((7, 40), (14, 35), (30, 25)),
    RelationshipLevel.RELATIONSHIP: ((7, 5), (14, 25), (30, 55), (90, 15)),
    RelationshipLevel.SOLUTIONS: ((14, 5), (30, 45), (90, 45), (180, 5)),
    RelationshipLevel.PRODUCT: ((30, 15), (90, 55), (180, 30)),
}
_SENTIMENTS = (Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.NEGATIVE, "")


def ensure_departments(users: dict[str, User] | None = None) -> dict[str, Department]:
    """Tendero Telecom's departments by code, created if missing; when `users` is given,
    every demo user without a department joins theirs."""
    existing = {d.code: d for d in Department.objects.filter(code__in=[c for c, _ in DEPARTMENTS])}
    Department.objects.bulk_create(
        [Department(code=code, name=name) for code, name in DEPARTMENTS if code not in existing]
    )
    departments = {
        d.code: d for d in Department.objects.filter(code__in=[c for c, _ in DEPARTMENTS])
    }
    if users:
        for username, code in USER_DEPARTMENTS.items():
            user = users.get(username)
            if user is not None and user.department_id is None:
                user.department = departments[code]
                User.objects.filter(pk=user.pk).update(department=departments[code])
    return departments


def pick_scene(rng: random.Random, organisation: bool) -> Scene:
    weights = _ORG_WEIGHTS if organisation else _PERSON_WEIGHTS
    return rng.choices(SCENES, cum_weights=weights)[0]


def _cumulative(values: Iterable[int]) -> list[int]:
    total, out = 0, []
    for value in values:
        total += value
        out.append(total)
    return out


_PERSON_WEIGHTS = _cumulative(s.person_weight for s in SCENES)
_ORG_WEIGHTS = _cumulative(s.organisation_weight for s in SCENES)


def pick_channel(rng: random.Random, scene: Scene) -> str:
    channels, weights = zip(*scene.channels, strict=True)
    return str(rng.choices(channels, weights=weights)[0])


def pick_sentiment(rng: random.Random, scene: Scene) -> str:
    return str(rng.choices(_SENTIMENTS, weights=scene.sentiments)[0])


def rhythm_for(rng: random.Random, customer: Customer) -> int:
    """The pace (days) at which we hear from a customer, by relationship level;
    prospects are in the thick of a first sale and hear from us every fortnight."""
    if customer.lifecycle_stage == LifecycleStage.PROSPECT:
        return 14
    options = RHYTHM_WEIGHTS[customer.relationship_level]
    days, weights = zip(*options, strict=True)
    return int(rng.choices(days, weights=weights)[0])


def business_moment(rng: random.Random, day: datetime, country: str, weekend_ok: bool) -> datetime:
    """A moment on `day` (or the nearest weekday) between 9:00 and 19:00 local time."""
    weekday = day.weekday()
    if weekday >= 5 and not weekend_ok:
        day += timedelta(days=7 - weekday)  # Monday
    local_minutes = rng.randrange(9 * 60, 19 * 60)
    offset = UTC_OFFSET_HOURS.get(country, 0)
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(minutes=local_minutes - offset * 60, seconds=rng.randrange(60))


@dataclass
class _Plan:
    customer: Customer
    rhythm: int
    start: datetime
    end: datetime
    quiet: bool
    count: int = 0


@dataclass
class DemoDialogue:
    """What `create_demo_interactions` made, for the rest of the demo to build on."""

    interactions: int
    quiet_customer_ids: list[int]
    rhythms: dict[int, int]
    departments: dict[str, Department]


def create_demo_interactions(
    customers: Sequence[Customer],
    users: dict[str, User],
    today: datetime,
    total: int | None = None,
) -> DemoDialogue:
    """Write `total` interactions (default 25 per customer) over the last three years
    for `customers` (saved, with their contacts and account-executive assignments
    saved), the departments, and every customer's `last_interaction_at`.
    Deterministic for the same customers and day. Raises KeyError if a demo user
    is missing from `users`."""
    rng = random.Random(INTERACTION_SEED)
    departments = ensure_departments(users)
    total = DEMO_INTERACTIONS_PER_CUSTOMER * len(customers) if total is None else total
    plans = _plans(rng, customers, today, total)
    executives = _executives_by_customer([c.pk for c in customers])
    contacts = _contacts_by_customer([c.pk for c in customers])
    handlers = {department: users[username] for department, username in HANDLERS.items()}
    manager = users["manager"]
    rows: list[Interaction] = []
    for plan in plans:
        rows += _interactions_for(
            rng, plan, today, departments, handlers, manager, executives, contacts
        )
    Interaction.objects.bulk_create(rows, batch_size=1000)
    last: dict[int, datetime] = {}
    for row in rows:
        if row.customer_id not in last or row.occurred_at > last[row.customer_id]:
            last[row.customer_id] = row.occurred_at
    updated = []
    for customer in customers:
        if customer.pk in last:
            customer.last_interaction_at = last[customer.pk]
            updated.append(customer)
    Customer.objects.bulk_update(updated, ["last_interaction_at"], batch_size=500)
    return DemoDialogue(
        interactions=len(rows),
        quiet_customer_ids=[p.customer.pk for p in plans if p.quiet and p.count],
        rhythms={p.customer.pk: p.rhythm for p in plans},
        departments=departments,
    )


def _plans(
    rng: random.Random, customers: Sequence[Customer], today: datetime, total: int
) -> list[_Plan]:
    """When each customer's history starts and ends and how many interactions it holds:
    about one per rhythm, scaled so that the counts add up to `total` exactly."""
    plans = []
    history_start = today - timedelta(days=HISTORY_DAYS)
    for customer in customers:
        rhythm = rhythm_for(rng, customer)
        start = max(customer.created_at, history_start)
        quiet = (
            customer.lifecycle_stage != LifecycleStage.PROSPECT
            and rhythm <= 90
            and rng.random() < QUIET_SHARE / 0.75  # three in four customers qualify
        )
        if quiet:
            # Silent for three to six rhythms (at least seven weeks): well overdue.
            end = today - timedelta(days=max(rhythm * rng.uniform(3, 6), 50))
        else:
            end = today - timedelta(days=rhythm * rng.uniform(0.05, 0.8))
        if end - start < timedelta(days=1):
            end = max(start + timedelta(hours=2), min(today, start + timedelta(days=1)))
        plans.append(_Plan(customer, rhythm, start, end, quiet))
    natural = [max((p.end - p.start).days / p.rhythm, 1.0) for p in plans]
    for plan, count in zip(plans, largest_remainders(natural, total), strict=True):
        plan.count = count
    return plans


def _executives_by_customer(
    customer_ids: list[int],
) -> dict[int, list[tuple[datetime, datetime | None, User]]]:
    history: dict[int, list[tuple[datetime, datetime | None, User]]] = defaultdict(list)
    for assignment in (
        AccountExecutiveAssignment.objects.filter(customer_id__in=customer_ids)
        .select_related("user")
        .order_by("started_at")
    ):
        history[assignment.customer_id].append(
            (assignment.started_at, assignment.ended_at, assignment.user)
        )
    return history


def _contacts_by_customer(customer_ids: list[int]) -> dict[int, list[Contact]]:
    contacts: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(customer_id__in=customer_ids).order_by(
        "-is_primary", "id"
    ):
        contacts[contact.customer_id].append(contact)
    return contacts


def executive_at(
    history: list[tuple[datetime, datetime | None, User]], moment: datetime
) -> User | None:
    for started_at, ended_at, user in history:
        if started_at <= moment and (ended_at is None or moment < ended_at):
            return user
    return history[-1][2] if history else None


def first_name(customer: Customer, contact: Contact | None) -> str:
    """How a note refers to the person spoken to."""
    if contact is not None:
        return contact.preferred_name or contact.first_name
    if customer.kind == CustomerKind.ORGANISATION:
        return customer.display_name
    return customer.preferred_name or customer.display_name.split(" ")[0]


def _interactions_for(
    rng: random.Random,
    plan: _Plan,
    today: datetime,
    departments: dict[str, Department],
    handlers: dict[str, User],
    manager: User,
    executives: dict[int, list[tuple[datetime, datetime | None, User]]],
    contacts: dict[int, list[Contact]],
) -> list[Interaction]:
    customer = plan.customer
    if plan.count == 0:
        return []
    organisation = customer.kind == CustomerKind.ORGANISATION
    language = "es" if customer.language == "es" else "en"
    history = executives.get(customer.pk, [])
    people = contacts.get(customer.pk, [])
    span = (plan.end - plan.start).total_seconds()
    gap = span / plan.count
    rows = []
    # Walk back from the last interaction at about one rhythm (here: gap) at a time.
    moment = plan.end
    for _number in range(plan.count):
        scene = pick_scene(rng, organisation)
        channel = pick_channel(rng, scene)
        weekend_ok = channel in (Channel.CHAT, Channel.SOCIAL, Channel.WEB, Channel.SMS)
        occurred_at = business_moment(rng, moment, str(customer.country or ""), weekend_ok)
        if occurred_at >= today:  # a weekend moved to a Monday that has not come yet
            occurred_at -= timedelta(days=7)
        occurred_at = max(occurred_at, plan.start)
        moment -= timedelta(seconds=gap * rng.uniform(0.6, 1.4))
        if moment < plan.start:
            moment = plan.start + timedelta(seconds=rng.uniform(0, gap))
        contact = None
        if people and scene.key not in ("campaign", "delivery"):
            contact = people[0] if rng.random() < 0.7 else rng.choice(people)
        handler: User | None
        if scene.by_account_executive:
            handler = executive_at(history, occurred_at) or manager
        else:
            handler = handlers.get(scene.department)
        text = rng.choice(scene.texts[language])
        follow_up_on = None
        follow_up_done_at = None
        if scene.follow_up and rng.random() < scene.follow_up:
            follow_up_on = (occurred_at + timedelta(days=rng.randrange(1, 15))).date()
            # Most follow-ups were done around their day; recent ones, and a few
            # forgotten ones, are still open.
            if follow_up_on < (today - timedelta(days=3)).date() and rng.random() < 0.93:
                follow_up_done_at = min(
                    datetime.combine(follow_up_on, occurred_at.timetz())
                    + timedelta(hours=rng.randrange(0, 30)),
                    today - timedelta(minutes=1),
                )
        rows.append(
            Interaction(
                customer=customer,
                contact=contact,
                channel=channel,
                direction=scene.direction,
                voice=scene.voice,
                department=departments[scene.department],
                handled_by=handler,
                occurred_at=occurred_at,
                subject=text.subject,
                notes=text.notes.format(name=first_name(customer, contact)),
                sentiment=pick_sentiment(rng, scene),
                outcome=text.outcome,
                follow_up_on=follow_up_on,
                follow_up_done_at=follow_up_done_at,
                created_by=handler or manager,
                created_at=occurred_at,
                updated_at=follow_up_done_at or occurred_at,
            )
        )
    return rows
